// Running the bundled job: `source -> keyBy(word) -> counter -> windows -> sink` at parallelism P
// (P source threads, P keyed threads running the chained counter/windows/sink), a checkpoint
// coordinator on the calling thread, a restart strategy for in-run recovery, savepoints on
// request, and the retention rules of the checkpoints when the job terminates.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/job_params.h"

namespace ckpt::pipeline {

struct RunOptions {
  JobParams params;
  PipelineConfig config;
  std::string job_id;                            // empty: random
  std::optional<std::filesystem::path> restore;  // `ckpt restore PATH`
  bool params_from_snapshot = true;              // restore: take job parameters from the snapshot
  std::optional<int64_t> rate_limit;             // restore: overrides the snapshot's (--rate)
  int64_t fail_at = -1;                          // inject a failure after N records in keyed subtask 0
  bool stop_with_savepoint_on_sigterm = false;
  // Flink discards every retained checkpoint when a job FINISHES; true keeps them (for inspection
  // and the demo). Cancellation and failure follow the configured retention either way.
  bool keep_checkpoints_on_finish = false;
  std::function<void(const std::string&)> log;  // progress lines (may be empty)
};

struct SnapshotEvent {
  int64_t id = 0;
  bool savepoint = false;
  bool ok = true;
  std::string path_or_error;
  double duration_ms = 0;
  int64_t state_bytes = 0;
};

struct RunResult {
  enum class Status { kFinished, kCancelled, kStopped, kFailed };
  Status status = Status::kFinished;
  std::string job_id;
  std::filesystem::path job_dir;
  std::string restored_from;
  std::vector<SnapshotEvent> snapshots;
  std::string latest_checkpoint;  // the newest checkpoint retained when the job ended; empty: none
  int restarts = 0;
  int64_t records = 0;
  double seconds = 0;
  // Until every keyed subtask had processed the end of its input; `seconds` adds the wait for
  // the final checkpoint, which, as in Flink, is the next periodic one.
  double input_seconds = 0;
  std::string failure;
  std::vector<std::string> warnings;
  // Local recovery (every restore of the run): keyed subtasks restored from their local copies,
  // and those with native state that read the checkpoint storage instead.
  int local_recovered = 0;
  int remote_recovered = 0;
};

// Throws util::Error (ConfigError, io::IoError, ...) for problems found before the job starts (bad restore
// target, unreadable snapshot, invalid parameters); everything after start is in RunResult.
RunResult run_job(const RunOptions& options);

std::string_view status_name(RunResult::Status s);

}  // namespace ckpt::pipeline
