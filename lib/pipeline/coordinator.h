// The checkpoint coordinator (Flink's CheckpointCoordinator + CheckpointFailureManager), without
// threads: the job's main loop asks it when to trigger, feeds it acknowledgements, declines and
// the clock, and acts on the outcomes (notify tasks, answer savepoint requests, fail the job).
//
//  * Periodic triggering honours interval, min pause (from the end of the last checkpoint) and
//    max concurrent checkpoints; savepoints and the final checkpoint are triggered on demand.
//  * A checkpoint completes when every task acknowledged: the `_metadata` is assembled, written
//    atomically, and the checkpoint is added to the completed store (subsuming older ones).
//  * Declines, write errors and timeouts abort the checkpoint and delete its directory. Failed
//    periodic checkpoints count against execution.checkpointing.tolerable-failed-checkpoints
//    (consecutive failures; a success resets the count).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pipeline/checkpoint_storage.h"
#include "pipeline/completed_store.h"
#include "pipeline/config.h"
#include "pipeline/events.h"
#include "pipeline/metadata_assembly.h"
#include "pipeline/snapshot_result.h"

namespace ckpt::pipeline {

using Clock = std::chrono::steady_clock;

struct TriggerRequest {
  SnapshotKind kind = SnapshotKind::kCheckpoint;
  bool final_checkpoint = false;  // after end of input: tasks finish when it completes
  bool suspend = false;           // stop-with-savepoint
  bool native_format = false;     // savepoint: native (SavepointFormatType.NATIVE), else canonical
  std::filesystem::path savepoint_target;
  std::string request_id;  // savepoint request to answer ("" = none)
};

struct CheckpointOutcome {
  enum class Kind { kCompleted, kFailed } kind = Kind::kCompleted;
  int64_t id = 0;
  TriggerRequest request;
  std::filesystem::path dir;                        // completed: where it is (a URI in an object store)
  std::shared_ptr<storage::ObjectStore> store;      // completed: the store `dir` is in, if any
  std::shared_ptr<const flink::Metadata> metadata;  // completed: what its `_metadata` holds
  std::string error;                                // failed: why
  bool job_must_fail = false;                       // tolerable failures exceeded
  double duration_ms = 0;
  int64_t state_bytes = 0;
};

class CheckpointCoordinator {
 public:
  CheckpointCoordinator(const PipelineConfig& config, CheckpointStorage& storage, CompletedCheckpointStore& store,
                        int num_tasks, int64_t next_id, AssemblyInput snapshot_template);

  bool periodic_due(Clock::time_point now) const;
  std::size_t pending() const { return pending_.size(); }
  void set_full_next(bool full) { full_next_ = full; }

  // Creates the pending checkpoint and its location; returns the barrier to inject.
  // Throws CheckpointFailure when the location cannot be created.
  Barrier trigger(const TriggerRequest& request, Clock::time_point now);

  std::optional<CheckpointOutcome> acknowledge(TaskAck ack, Clock::time_point now);
  std::optional<CheckpointOutcome> decline(int64_t id, const std::string& reason, Clock::time_point now);
  std::vector<CheckpointOutcome> expire(Clock::time_point now);
  // Job failure or cancellation: abort everything pending (not counted as failures).
  void abort_all();

  int64_t completed() const { return completed_; }
  int64_t failed() const { return failed_; }

 private:
  struct Pending {
    int64_t id = 0;
    TriggerRequest request;
    std::shared_ptr<SnapshotLocation> location;
    flink::CheckpointProperties properties;
    Clock::time_point started;
    std::set<int> acked;
    std::vector<TaskAck> acks;
  };
  CheckpointOutcome fail(Pending& p, std::string reason, Clock::time_point now);

  PipelineConfig config_;
  CheckpointStorage& storage_;
  CompletedCheckpointStore& store_;
  int num_tasks_;
  int64_t next_id_;
  AssemblyInput template_;
  std::map<int64_t, Pending> pending_;
  Clock::time_point last_trigger_{};
  Clock::time_point last_end_{};
  bool any_triggered_ = false;
  bool full_next_ = false;
  int consecutive_failures_ = 0;
  int64_t completed_ = 0;
  int64_t failed_ = 0;
};

}  // namespace ckpt::pipeline
