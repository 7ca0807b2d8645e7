// `ckpt prune`: which checkpoints a retention policy keeps, and the plan that follows from it.
//
// The policy is restic's (`restic forget`), applied per job (the directory holding chk-N):
//  * --retain N       the N newest;
//  * --keep-within D  every checkpoint at most D older than the job's newest one;
//  * --keep-hourly N  the newest checkpoint of each of the N most recent hours that have one;
//  * --keep-daily N   likewise per day.
// Buckets are UTC. A checkpoint is kept when any rule keeps it. Count rules rank checkpoints by
// id within their job, as Flink's num-retained does; time rules (--keep-within, --keep-hourly,
// --keep-daily) use the `_metadata` mtime (ties broken by id). A copy that did not keep times (or
// a `touch`) can make an older checkpoint look newer, so one more rule holds whatever the times
// say: a checkpoint is never pruned while a lower-id checkpoint of its job is kept (kNewer), and
// decide() warns, once per job, when times contradict ids. Any non-empty policy therefore keeps
// each job's highest-id checkpoint. Savepoints have no id order: they are ranked by time, and
// only with include_savepoints (grouped by directory and job-id prefix), else always kept. Pruning reuses the gc plan
// (ops/deletion_plan.h) with these decisions, so a prune also collects unreferenced pool files and incomplete
// checkpoints: that is what makes a rerun after a crash converge.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/deletion_plan.h"

namespace ckpt::ops {

struct RetentionPolicy {
  std::optional<int64_t> last;       // --retain
  std::optional<int64_t> within_ns;  // --keep-within
  std::optional<int64_t> hourly;     // --keep-hourly
  std::optional<int64_t> daily;      // --keep-daily
  bool include_savepoints = false;

  bool empty() const { return !last && !within_ns && !hourly && !daily; }
};

// One checkpoint as the policy sees it.
struct Ranked {
  std::string group;
  int64_t time_ns = 0;
  int64_t id = 0;
  bool by_id = true;  // a checkpoint: count rules rank by id, and kNewer applies; false: a savepoint
};

// keep_rule bits per entry (0 = not kept by the policy). Pure: the property test checks it
// against a brute-force model.
std::vector<uint32_t> apply_policy(const std::vector<Ranked>& entries, const RetentionPolicy& policy);

// The decisions for every graph snapshot: policy for checkpoints (and savepoints when
// included), kUnmanaged / kSavepoint for the rest, plus one warning per job whose `_metadata`
// times contradict its checkpoint ids. Grace and forced keeps are added by make_plan.
Decisions decide(const snapshot::ReferenceGraph& g, const RetentionPolicy& policy);

// N from a Flink configuration file: `execution.checkpointing.num-retained` (2.x) or
// `state.checkpoints.num-retained` (1.x; the 2.x key wins when both are set), read by
// io::read_flink_config (nested or flat YAML). Throws util::Error (kUsage) naming the file and
// the line when the value is not a positive integer or the key is absent.
// `warning` (when given) receives a line when both keys are set with different values.
int64_t num_retained_from_config(const std::filesystem::path& config_file, std::string* warning = nullptr);

}  // namespace ckpt::ops
