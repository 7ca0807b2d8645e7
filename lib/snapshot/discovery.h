// Finding snapshots on a file system: what the user's path names.
//
// A path may be a `_metadata` file (or a Flink 1.2 single-file savepoint), a snapshot directory
// (`chk-N`, `savepoint-*`, any directory holding `_metadata`), a job directory (`chk-*`, `shared/`,
// `taskowned/`), or a root holding many jobs and savepoints. Discovery never follows symbolic
// links, never descends into `shared/` or `taskowned/` (they hold only state files) nor into a
// snapshot directory, and reports `chk-N` directories without `_metadata` as incomplete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ckpt::snapshot {

enum class DirKind { kCheckpoint, kSavepoint, kOther };

struct Location {
  std::filesystem::path metadata;   // the `_metadata` file (or single-file savepoint)
  std::filesystem::path directory;  // where relative handles resolve: the metadata's parent
  DirKind dir_kind = DirKind::kOther;
  std::optional<int64_t> checkpoint_number;  // N of a chk-N directory
  std::filesystem::path job_dir;             // parent of a chk-N directory, when it has one
  // For a snapshot in an object store (store_discovery.h): the paths above are URIs
  // ("s3://bucket/ck/JOB/chk-5/_metadata"), and the `_metadata` size and time come from the
  // listing, not from stat(2).
  bool in_object_store = false;
  uint64_t listed_bytes = 0;
  int64_t listed_mtime_ns = 0;
};

struct Discovery {
  std::filesystem::path root;  // the path the user gave, as given
  bool single = false;         // the path named one snapshot (file or snapshot directory)
  std::vector<Location> snapshots;
  std::vector<std::filesystem::path> incomplete;  // chk-N directories without `_metadata`
  // Directories below the root that could hold snapshots but were not searched: "DIR: cannot
  // list: REASON" or "DIR: nested deeper than N levels". Never silently skipped: callers report
  // them (inspect and validate exit 2; prune and gc run their own fail-closed walk).
  std::vector<std::string> unsearched;
};

// Throws io::IoError when `path` does not exist or cannot be listed; a subdirectory that cannot
// be listed goes to Discovery::unsearched.
Discovery discover(const std::filesystem::path& path);

// Describes one snapshot location from its metadata file.
Location locate(const std::filesystem::path& metadata_file);

}  // namespace ckpt::snapshot
