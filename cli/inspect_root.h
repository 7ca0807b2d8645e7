// The whole-root modes of `ckpt inspect ROOT`: filters and order of the listing (--job, --kind,
// --since, --limit, --sort), --summary (bytes per job: shared, exclusive, orphaned) and
// --who-uses FILE (which snapshots reference a file).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ops/list_snapshots.h"

namespace ckpt::cli {

struct RootListingArgs {
  std::string job;    // job id or a prefix of it
  std::string kind;   // "", checkpoint, savepoint
  std::string since;  // a duration ("2h", "7d") back from now, or a UTC date/time
  int limit = 0;      // 0: all
  std::string sort = "time";
  bool summary = false;
  std::string who_uses;
};

// Registers the options above on inspect.
void add_root_listing_options(CLI::App& cmd, RootListingArgs& a);

// True when one of them is given (they apply to roots only).
bool root_options_given(const RootListingArgs& a);

// Applies the filters, order and limit to `list` in place. nullopt, or the usage error line.
std::optional<std::string> filter_listing(const RootListingArgs& a, ops::SnapshotList& list);

// --summary and --who-uses of the root `root`, a local directory or an object-store prefix
// (`config`: its -D keys): prints (text or JSON) and returns the exit status.
int print_root_summary(const std::string& root, bool json, bool pretty,
                       const std::map<std::string, std::string>& config);
int print_who_uses(const std::string& root, const std::string& file, bool json, bool pretty,
                   const std::map<std::string, std::string>& config);

}  // namespace ckpt::cli
