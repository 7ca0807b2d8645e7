// What `ckpt prune` and `ckpt gc` share on the command line: the flags that say where and how
// safely to collect (root, --protect, --map, --grace, --dry-run, --json, --explain, ...), the run
// (lock, plan, refuse or apply) and the rendering of a plan.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "ops/deletion_plan.h"

namespace ckpt::cli {

struct PlanArgs {
  std::string root;
  std::vector<std::string> protect;
  std::vector<std::string> maps;
  std::string grace = "1h";
  std::string now;  // unix seconds; empty = the clock
  std::string explain;
  bool dry_run = false;
  bool json = false;
  bool pretty = false;
  bool skip_unreadable = false;
  bool allow_missing = false;
  bool verbose = false;
  std::vector<std::string> defines;  // -D KEY=VALUE: the object store's settings
};

void add_plan_flags(CLI::App* cmd, PlanArgs& a);

// Runs one prune or gc: exit code per commands.h. `policy_line` describes the decisions for the
// human header ("retain 3", "gc: keep every complete snapshot").
int run_plan_command(const std::string& command, PlanArgs a, const std::string& policy_line,
                     const std::function<ops::Decisions(const snapshot::ReferenceGraph&)>& decide);

}  // namespace ckpt::cli
