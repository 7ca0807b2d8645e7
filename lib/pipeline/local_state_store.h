// Local recovery (Flink's `state.backend.local-recovery` / `execution.state-recovery.from-local`):
// a secondary copy of each keyed subtask's native RocksDB snapshot on the machine's local disk,
// from which a restore builds its database instead of reading the checkpoint storage.
//
// Layout (Flink's TaskExecutorLocalStateStoresManager + LocalRecoveryDirectoryProviderImpl):
//
//   <root>/localState/aid_<allocation>/jid_<job>/vtx_<vertex>_sti_<subtask>/chk_<id>/<backend>/
//
//  * <root>: one of taskmanager.state.local.root-dirs (default: the system temp dir); subtask i
//    uses root i mod n (Flink spreads subtasks over the roots the same way), and a restore looks
//    in every root.
//  * <allocation>: the slot. The bundled job is one TaskManager with one slot per keyed subtask;
//    slot i's allocation id is i as 32 hex digits, so that a new process (`ckpt restore` after a
//    crash) finds the state of the same slots again, as a Flink TaskManager restarted with a
//    persistent working directory does (FLIP-198). Flink's ids are random per allocation.
//  * <job>: the job that took the checkpoint (for `ckpt restore`, the job directory's name).
//  * <vertex>: the chained keyed task's vertex id = its head operator's id ("counter"), 32 hex.
//  * <backend>: the RocksDB backend's UUID without dashes (Flink's RocksIncrementalSnapshotStrategy
//    names its local directory so, so that two chained operators do not collide). It holds the
//    RocksDB native checkpoint (hard links of the table files, copies of MANIFEST, CURRENT,
//    OPTIONS) under the files' RocksDB names: exactly the files the tag 11 handle lists.
//    Flink also keeps a local copy of the meta data stream; the pipeline does not need it (its
//    meta file only repeats the state names the operator declares).
//
// Lifecycle (Flink's TaskLocalStateStoreImpl): a checkpoint writes chk_<id>/ during its
// synchronous part; when checkpoint <id> is confirmed (notifyCheckpointComplete) every chk_ with
// a smaller id is deleted (pruneCheckpoints: only the latest confirmed copy is kept, even with
// more retained checkpoints); a job that terminates (finishes, is cancelled, fails for good)
// deletes its jid_ directories. A killed process leaves them, which is what recovery reads.
//
// Restore (Flink's local-first PrioritizedOperatorSubtaskState): for a checkpoint (never a
// savepoint) restored at unchanged key-group ranges, a subtask is restored locally when, for each
// of its native pieces, chk_<id>/<backend>/ exists and has every file the handle lists with the
// handle's size; otherwise the whole subtask falls back to the checkpoint storage. The hashmap
// backend has no local copies (it restores from the checkpoint storage only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/restore.h"

namespace ckpt::pipeline {

struct LocalRecoveryConfig {
  bool enabled = false;
  std::vector<std::filesystem::path> roots;  // taskmanager.state.local.root-dirs (each gets localState/)
};

// From the job's configuration: enabled for the rocksdb backend only.
LocalRecoveryConfig local_recovery_config(const PipelineConfig& config);

// "vtx_<vertex>_sti_<subtask>" of a job under a root: <root>/localState/aid_<slot>/jid_<job>/...
std::filesystem::path subtask_local_dir(const std::filesystem::path& root, const std::string& job_id,
                                        const std::string& vertex_hex, int32_t subtask);

// The local state of one keyed subtask of a running job (Flink's TaskLocalStateStore).
// Used by the subtask's thread; snapshot_dir() may be read by its asynchronous snapshot parts.
class TaskLocalStateStore {
 public:
  TaskLocalStateStore(const LocalRecoveryConfig& config, std::string job_id, std::string vertex_hex, int32_t subtask);

  // chk_<id>/<backend id without dashes>, which does not exist on return (RocksDB's Checkpoint
  // wants to create it); its parent exists. Throws std::filesystem::filesystem_error.
  std::filesystem::path snapshot_dir(int64_t checkpoint_id, const std::string& backend_id) const;
  // Checkpoint `id` completed: deletes the local copies of older checkpoints (no-op for an id
  // without a local copy: a savepoint).
  void confirm(int64_t checkpoint_id);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;  // vtx_<vertex>_sti_<subtask>
};

// Deletes every local copy of `job_id` (the job terminated).
void discard_job_local_state(const LocalRecoveryConfig& config, const std::string& job_id);

struct LocalRecoveryOutcome {
  int local = 0;                       // keyed subtasks restored from their local copies
  int remote = 0;                      // keyed subtasks with native state restored from the checkpoint storage
  std::vector<std::string> fallbacks;  // one line per subtask that fell back, with the reason
};

// Points the native pieces of every subtask of `plan` that has a matching local copy at that
// copy (rocks::laid_out_at) instead of the checkpoint storage. Never throws for a missing or
// damaged copy: that subtask falls back and the reason is in `fallbacks`. The copies are looked up
// under the job whose directory holds the checkpoint (<job id>/chk-N), else `current_job_id`.
LocalRecoveryOutcome prefer_local_state(RestorePlan& plan, const LocalRecoveryConfig& config,
                                        const std::string& current_job_id);

}  // namespace ckpt::pipeline
