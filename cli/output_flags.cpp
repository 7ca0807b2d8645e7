#include "output_flags.h"

#include <string>

namespace ckpt::cli {

void add_json_flags(CLI::App& cmd, bool& json, bool& pretty) {
  cmd.add_flag("--json", json, "Print one JSON document on stdout (see formats/json-mapping.md)");
  cmd.add_flag("--pretty", pretty, "Indent the JSON output");
}

void add_dry_run_flag(CLI::App& cmd, bool& dry_run, std::string_view verb, bool short_n) {
  cmd.add_flag(short_n ? "--dry-run,-n" : "--dry-run", dry_run, "Print the plan; " + std::string(verb) + " nothing");
}

}  // namespace ckpt::cli
