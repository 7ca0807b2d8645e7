// Synthetic checkpoint roots made with the writer: real directory layout
// `<root>/<32-hex job id>/chk-N/_metadata`, `shared/<uuid>`, `taskowned/`, with tag-2 absolute
// `file:` paths into shared/ and tag-6 relative exclusive files in chk-N. For prune/gc tests and
// benchmarks (and anyone who needs a realistic job directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "flink/model.h"

namespace ckpt::testsupport {

// One checkpoint of a history, described by the files it uses.
struct HistoryCheckpoint {
  int64_t id = 1;
  int64_t mtime_s = 1700000000;                 // mtime given to `_metadata` and to new files
  std::vector<std::string> shared;              // file names in <job>/shared/ (tag 2, absolute)
  std::vector<std::string> exclusive;           // file names in chk-N/ (tag 6, relative)
  std::vector<std::filesystem::path> absolute;  // any other absolute local paths (tag 2)
  int subtasks = 4;                             // handles are spread over this many subtasks
  bool savepoint = false;                       // savepoint properties in the trailer
};

// The `_metadata` model of `c` for a snapshot in `dir` of the job at `job_dir`: one operator,
// `subtasks` incremental RocksDB handles sharing out the files round-robin.
flink::Metadata history_metadata(const std::filesystem::path& job_dir, const HistoryCheckpoint& c);

// Writes `dir`/_metadata for `c` (dir defaults to <job_dir>/chk-<id>), creating the files it
// uses that do not exist yet (`file_bytes` bytes each; 0 = empty) with mtime c.mtime_s, and sets
// the `_metadata` mtime. Returns the snapshot directory.
std::filesystem::path write_history_checkpoint(const std::filesystem::path& job_dir, const HistoryCheckpoint& c,
                                               int file_bytes = 0, std::filesystem::path dir = {});

struct IncrementalJobSpec {
  int checkpoints = 10;
  int subtasks = 4;
  int window = 5;     // shared files each subtask's checkpoint references
  int new_every = 1;  // each subtask uploads one new shared file every `new_every` checkpoints
  int exclusive = 1;  // exclusive (tag-6) files per subtask per checkpoint
  int64_t first_mtime_s = 1700000000;
  int64_t interval_s = 60;
  int file_bytes = 0;
  uint64_t seed = 1;
};

struct SyntheticJob {
  std::filesystem::path job_dir;
  std::vector<HistoryCheckpoint> checkpoints;
  int64_t shared_files = 0;
};

// A RocksDB-incremental-like job: shared files are reused across checkpoints in a sliding window.
SyntheticJob make_incremental_job(const std::filesystem::path& root, const IncrementalJobSpec& spec);

// A random 32-hex job id.
std::string random_job_id(std::mt19937_64& rng);

// Sets a path's mtime (and atime) without following symbolic links.
void set_mtime(const std::filesystem::path& p, int64_t unix_seconds);

}  // namespace ckpt::testsupport
