// `ckpt validate`: will Flink be able to restore this snapshot, and if not, why not?
//
// Per snapshot: the `_metadata` rules (validate/metadata_rules.h), the referenced files
// (validate/file_rules.h; with `deep`, their contents: validate/deep.h) and, when a job
// description is given, the operator mapping (validate/expect.h). Every finding carries a stable
// rule id (validate/rules.h). Pure data: cli/ renders it.
//
// Status: kValid (no error findings), kInvalid (errors, including a `_metadata` the reader
// refuses), kIncomplete (a chk-N directory without `_metadata`), kUnreadable (an I/O error: the
// input could not be examined at all; commands exit 2 for it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flink/model.h"
#include "ops/snapshot_source.h"
#include "snapshot/discovery.h"
#include "validate/expect.h"
#include "validate/file_rules.h"
#include "validate/findings.h"

namespace ckpt::ops {

struct ValidateOptions {
  validate::FileOptions files;                        // --map, --strict, --deep, threads, progress
  std::optional<validate::Expectation> expect;        // --expect / --expect-from
  std::map<std::string, std::string> storage_config;  // -D: the object store's Flink keys
};

struct SnapshotValidation {
  enum class Status { kValid, kInvalid, kIncomplete, kUnreadable };
  snapshot::Location location;  // for kIncomplete: directory = the chk-N directory, metadata empty
  Status status = Status::kValid;
  std::string error;  // kUnreadable: one line
  int32_t version = 0;
  int64_t checkpoint_id = -1;
  std::string kind;           // "checkpoint", "savepoint", "unknown"
  int64_t modified_unix = 0;  // mtime of `_metadata` (of the directory when incomplete)
  validate::FileStats files;
  std::vector<validate::Finding> findings;  // metadata rules, then files, deep, expectation
  int errors = 0;
  int warnings = 0;
  int infos = 0;
};

std::string_view status_name(SnapshotValidation::Status s);  // "valid", "invalid", ...

// Validates an already parsed snapshot.
SnapshotValidation validate_metadata(const flink::Metadata& md, const snapshot::Location& loc,
                                     const ValidateOptions& options);

// Parses `bytes` as the `_metadata` at `loc` and validates it; a file the reader refuses is
// kInvalid with one S-rule finding.
SnapshotValidation validate_bytes(std::string bytes, const snapshot::Location& loc, const ValidateOptions& options);

// Reads and validates the snapshot at `loc` (kUnreadable when `_metadata` cannot be read).
// `source`: where the `_metadata` is read from (an object store's); local files without one.
SnapshotValidation validate_snapshot(const snapshot::Location& loc, const ValidateOptions& options,
                                     SnapshotSource* source = nullptr);

struct ValidationRun {
  snapshot::Discovery discovery;
  std::vector<SnapshotValidation> snapshots;  // newest first (incomplete checkpoints included)
  std::optional<std::size_t> latest_valid;    // index of the newest valid snapshot, when asked
  int valid = 0;
  int invalid = 0;  // kInvalid + kIncomplete
  int unreadable = 0;
};

// Everything under `path` (a `_metadata` file, snapshot dir, job dir or root; see discovery.h),
// newest first. With `stop_at_first_valid` (--latest) validation stops at the newest snapshot
// that passes. Throws io::IoError when `path` cannot be listed.
ValidationRun validate_path(const std::filesystem::path& path, const ValidateOptions& options,
                            bool stop_at_first_valid = false);

}  // namespace ckpt::ops
