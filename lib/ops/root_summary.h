// Whole-root answers for `ckpt inspect ROOT`: how the bytes under each job divide (like
// `restic stats`), and which snapshots use a given file. Both are read from the reference graph
// (snapshot/reference_graph.h) that prune and gc decide on, so they never disagree with them
// about what a snapshot uses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "snapshot/paths.h"
#include "snapshot/reference_graph.h"

namespace ckpt::ops {

// The files under one job directory (<root>/<job-id>), by what uses them:
//  * shared: referenced by a snapshot and under shared/ (incremental state, reused by later
//    checkpoints);
//  * exclusive: referenced (or a complete snapshot's `_metadata`) and anywhere else;
//  * orphaned: referenced by no snapshot, in shared/, taskowned/ or a chk-N without `_metadata`
//    (what `ckpt gc --grace 0s` would collect);
//  * other: the rest (lock files, unknown files); counted in total only.
struct JobSummary {
  std::filesystem::path job_dir;
  int checkpoints = 0, savepoints = 0, incomplete = 0;
  uint64_t files = 0;
  uint64_t total_bytes = 0, shared_bytes = 0, exclusive_bytes = 0, orphaned_bytes = 0, other_bytes = 0;
};

struct RootSummary {
  std::vector<JobSummary> jobs;         // by job directory
  std::vector<std::string> unreadable;  // snapshots whose `_metadata` could not be read (their files count as orphaned)
  JobSummary total;                     // the sums (job_dir empty)
};

// Summarises the local root `root` (savepoints outside job directories count under their own
// directory). Throws util::Error when the root cannot be listed.
RootSummary summarise_root(const std::filesystem::path& root, const std::vector<snapshot::PathMapping>& mappings);

// One regular file of a root: absolute, normal path (an object store's: virtual) and size.
struct RootFile {
  std::filesystem::path path;
  uint64_t size = 0;
};
// The files under a unit directory (a job directory, or a savepoint's own directory), any order.
using FilesUnder = std::function<std::vector<RootFile>(const std::filesystem::path& unit)>;

// The summary of a root from its reference graph, its incomplete chk-N directories and its files:
// what summarise_root does after reading the root, shared with object-store roots
// (ops/store_plan.h, summarise_store_root).
RootSummary summarise(const snapshot::ReferenceGraph& graph, const std::vector<std::filesystem::path>& incomplete,
                      const FilesUnder& files_under);

struct FileUser {
  std::filesystem::path snapshot;  // its directory
  int64_t checkpoint_id = -1;
  bool savepoint = false;
};

// The snapshots under `root` whose handles name `file` (absolute, normal), newest id first.
std::vector<FileUser> who_uses(const snapshot::ReferenceGraph& graph, const std::filesystem::path& file);

}  // namespace ckpt::ops
