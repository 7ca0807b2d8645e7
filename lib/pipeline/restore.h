// Restoring the bundled job from a checkpoint or savepoint: which snapshot a path names, and how
// its state is redistributed over the new parallelism (Flink's StateAssignmentOperation):
//  * keyed state: each new subtask reads, from every old subtask whose key-group range overlaps
//    its own, the key groups it now owns (seeking by the handle's key-group offsets);
//  * operator list state (SPLIT_DISTRIBUTE): unchanged parallelism keeps each subtask's list;
//    otherwise all elements are concatenated in subtask order and cut into contiguous parts;
//  * channel state (unaligned checkpoints): every in-flight record is routed by its key group to
//    the keyed subtask that now owns it and replayed before new input.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flink/model.h"
#include "pipeline/completed_store.h"
#include "pipeline/job_params.h"
#include "pipeline/source_splits.h"
#include "pipeline/tasks.h"
#include "snapshot/discovery.h"
#include "snapshot/store_copy.h"

namespace ckpt::pipeline {

struct RestorePlan {
  CompletedSnapshot snapshot;  // what was restored (metadata, dir, properties)
  int32_t max_parallelism = 0;
  int32_t old_parallelism = 0;
  JobParams params;
  std::vector<std::vector<Split>> source_splits;  // per new source subtask
  std::vector<KeyedRestore> keyed;                // per new keyed subtask
  // A snapshot in an object store is read from a local copy, which the native RocksDB pieces
  // point into: it lives as long as the plan.
  std::shared_ptr<const snapshot::StoreCopy> staged;
  // Operators with state the job does not have, skipped by allowNonRestoredState (hex ids).
  std::vector<std::string> skipped_operators;
};

// The snapshot a path names: a `_metadata` file, a chk-N or savepoint directory, or a job
// directory (its latest complete checkpoint). Throws util::Error (io::IoError, kInput) with a
// one-line reason.
// An object-store URI (s3://...) is discovered in its store (opened with `settings`, the s3.*
// keys), which `store` receives; it stays nullptr for a local path.
snapshot::Location locate_restore_target(const std::string& path, const std::map<std::string, std::string>& settings,
                                         std::shared_ptr<storage::ObjectStore>& store);

// Plans the restore of `snapshot` at `parallelism`. `max_parallelism_config` 0 = take the
// snapshot's; otherwise it must match. State of an operator the job does not have (not one of
// source, counter, windows, sink) is refused, naming the operator id, unless
// `allow_non_restored_state` (Flink's -n): then it is skipped and listed in skipped_operators.
// Throws util::Error naming the problem.
RestorePlan plan_restore(const CompletedSnapshot& snapshot, int32_t parallelism, int32_t max_parallelism_config,
                         bool allow_non_restored_state);

// Reads `_metadata` at `loc` (in `store` when it is set) into a CompletedSnapshot (owned = false).
CompletedSnapshot load_snapshot(const snapshot::Location& loc, std::shared_ptr<storage::ObjectStore> store = nullptr);

}  // namespace ckpt::pipeline
