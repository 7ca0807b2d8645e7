// JSON of `ckpt validate` (formats/validate.proto, documented in formats/json-mapping.md): the
// ops result is copied into the proto message and printed with the proto3 JSON mapping.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "ops/validate.h"

namespace ckpt::validate_json {

struct ReportInfo {
  std::string root;
  bool deep = false;
  std::string expect;   // source of the expectation, if any
  bool latest = false;  // --latest: fill latest_valid
};

// One JSON document (no trailing newline) for a whole run.
void write_validate_report(const ops::ValidationRun& run, const ReportInfo& info, bool pretty, std::FILE* out);

// The rule catalogue.
void write_rule_list(bool pretty, std::FILE* out);

// The path to give Flink to restore from a validated snapshot: its directory, or the file itself
// for single-file savepoints (Flink 1.2) that are not named `_metadata`.
std::string restore_path(const ops::SnapshotValidation& v);

}  // namespace ckpt::validate_json
