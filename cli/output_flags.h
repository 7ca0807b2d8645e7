// The flags that say how a command reports or whether it acts, declared once so that every
// command spells and explains them alike: `--json` / `--pretty` and `--dry-run`.
#pragma once

#include <string_view>

#include <CLI/CLI.hpp>

namespace ckpt::cli {

// `--json` (one JSON document on stdout, formats/json-mapping.md) and `--pretty`.
void add_json_flags(CLI::App& cmd, bool& json, bool& pretty);

// `--dry-run`: "Print the plan; <verb> nothing" (verb: "write", "delete", ...). With `short_n`,
// also `-n`, as prune and gc take it (restic's and git clean's habit).
void add_dry_run_flag(CLI::App& cmd, bool& dry_run, std::string_view verb, bool short_n = false);

}  // namespace ckpt::cli
