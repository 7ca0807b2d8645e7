#include "ops/validate.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>

#include "flink/metadata_reader.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "snapshot/layout.h"
#include "validate/metadata_rules.h"

namespace ckpt::ops {

using validate::Severity;

std::string_view status_name(SnapshotValidation::Status s) {
  switch (s) {
    case SnapshotValidation::Status::kValid:
      return "valid";
    case SnapshotValidation::Status::kInvalid:
      return "invalid";
    case SnapshotValidation::Status::kIncomplete:
      return "incomplete";
    case SnapshotValidation::Status::kUnreadable:
      return "unreadable";
  }
  return "?";
}

namespace {

int64_t mtime_of(const std::filesystem::path& p);

// The `_metadata` time of a snapshot: from the store's listing, or lstat(2) of the local file.
int64_t mtime_of(const snapshot::Location& loc) {
  if (loc.in_object_store) return loc.listed_mtime_ns / 1'000'000'000;
  return mtime_of(loc.metadata);
}

int64_t mtime_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtime);
}

void tally(SnapshotValidation& v) {
  v.errors = v.warnings = v.infos = 0;
  for (const auto& f : v.findings) {
    if (f.severity == Severity::kError) ++v.errors;
    else if (f.severity == Severity::kWarning) ++v.warnings;
    else ++v.infos;
  }
  if (v.status == SnapshotValidation::Status::kValid && v.errors > 0) v.status = SnapshotValidation::Status::kInvalid;
}

std::string kind_of(const flink::Metadata& md, const snapshot::Location& loc) {
  if (md.trailer_state == flink::TrailerState::kParsed) {
    return md.properties.kind == flink::CheckpointProperties::Kind::kSavepoint ? "savepoint" : "checkpoint";
  }
  if (loc.dir_kind == snapshot::DirKind::kCheckpoint) return "checkpoint";
  if (loc.dir_kind == snapshot::DirKind::kSavepoint || md.version <= 2) return "savepoint";
  return "unknown";
}

SnapshotValidation incomplete(const std::filesystem::path& dir) {
  SnapshotValidation v;
  v.location.directory = dir;
  v.location.dir_kind = snapshot::DirKind::kCheckpoint;
  v.location.checkpoint_number = snapshot::checkpoint_number(dir.filename().string());
  v.status = SnapshotValidation::Status::kIncomplete;
  v.kind = "checkpoint";
  v.modified_unix = mtime_of(dir);
  validate::Findings f;
  f.add("F29", "",
        fmt::format("{} has no _metadata: the checkpoint never completed and cannot be restored", dir.string()));
  v.findings = std::move(f.items());
  tally(v);
  return v;
}

}  // namespace

SnapshotValidation validate_metadata(const flink::Metadata& md, const snapshot::Location& loc,
                                     const ValidateOptions& options) {
  SnapshotValidation v;
  v.location = loc;
  v.version = md.version;
  v.checkpoint_id = md.checkpoint_id;
  v.kind = kind_of(md, loc);
  v.modified_unix = mtime_of(loc);
  validate::Findings out;
  validate::check_metadata(md, loc, out);
  validate::check_files(md, loc, options.files, out, v.files);
  if (options.expect) validate::check_expectation(md, *options.expect, out);
  v.findings = std::move(out.items());
  tally(v);
  return v;
}

SnapshotValidation validate_bytes(std::string bytes, const snapshot::Location& loc, const ValidateOptions& options) {
  flink::Metadata md;
  try {
    md = flink::parse_metadata(std::move(bytes), loc.metadata.string());
  } catch (const flink::MetadataError& e) {
    SnapshotValidation v;
    v.location = loc;
    v.kind = loc.dir_kind == snapshot::DirKind::kCheckpoint  ? "checkpoint"
             : loc.dir_kind == snapshot::DirKind::kSavepoint ? "savepoint"
                                                             : "unknown";
    v.modified_unix = mtime_of(loc);
    validate::Findings out;
    validate::Finding& f = out.add(validate::structural_rule_of(e.what()), fmt::format("byte {}", e.offset()),
                                   fmt::format("Flink cannot read it: {}", e.what()));
    f.file = loc.metadata.string();
    v.findings = std::move(out.items());
    tally(v);
    return v;
  }
  return validate_metadata(md, loc, options);
}

SnapshotValidation validate_snapshot(const snapshot::Location& loc, const ValidateOptions& options,
                                     SnapshotSource* source) {
  std::string bytes;
  try {
    bytes = source ? source->read_bytes(loc) : io::read_file_bytes(loc.metadata);
  } catch (const util::Error& e) {
    SnapshotValidation v;
    v.location = loc;
    v.status = SnapshotValidation::Status::kUnreadable;
    v.error = e.what();
    v.kind = "unknown";
    return v;
  }
  return validate_bytes(std::move(bytes), loc, options);
}

ValidationRun validate_path(const std::filesystem::path& path, const ValidateOptions& options,
                            bool stop_at_first_valid) {
  ValidationRun run;
  SnapshotSource source(path.native(), options.storage_config);
  run.discovery = source.discover();
  source.prefetch(run.discovery.snapshots);
  ValidateOptions with_store = options;
  with_store.files.remote = source.remote_files();

  // Newest first: by `_metadata` mtime, then by checkpoint number (copies often share mtimes).
  struct Entry {
    int64_t mtime;
    int64_t number;
    std::filesystem::path key;
    const snapshot::Location* loc;  // null: incomplete checkpoint directory
  };
  std::vector<Entry> entries;
  for (const auto& loc : run.discovery.snapshots) {
    entries.push_back({mtime_of(loc), loc.checkpoint_number.value_or(-1), loc.metadata, &loc});
  }
  for (const auto& dir : run.discovery.incomplete) {
    entries.push_back({mtime_of(dir), snapshot::checkpoint_number(dir.filename().string()).value_or(-1), dir, nullptr});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.mtime != b.mtime) return a.mtime > b.mtime;
    if (a.number != b.number) return a.number > b.number;
    return a.key < b.key;
  });
  for (const std::string& why : run.discovery.unsearched) {
    // A directory that could hide a snapshot: the run cannot say "all valid".
    SnapshotValidation v;
    std::size_t sep = why.find(": ");
    v.location.directory = why.substr(0, sep);
    v.status = SnapshotValidation::Status::kUnreadable;
    v.error = sep == std::string::npos ? why : why.substr(sep + 2);
    v.kind = "unknown";
    ++run.unreadable;
    run.snapshots.push_back(std::move(v));
  }
  for (const Entry& e : entries) {
    SnapshotValidation v = e.loc ? validate_snapshot(*e.loc, with_store, &source) : incomplete(e.key);
    switch (v.status) {
      case SnapshotValidation::Status::kValid:
        ++run.valid;
        break;
      case SnapshotValidation::Status::kUnreadable:
        ++run.unreadable;
        break;
      default:
        ++run.invalid;
        break;
    }
    run.snapshots.push_back(std::move(v));
    if (run.snapshots.back().status == SnapshotValidation::Status::kValid && !run.latest_valid) {
      run.latest_valid = run.snapshots.size() - 1;
      if (stop_at_first_valid) break;
    }
  }
  return run;
}

}  // namespace ckpt::ops
