// The two kinds of task of the bundled job, each run by one thread per subtask:
//  * SourceTask: reads its splits, assigns key groups, routes records by key group to the
//    keyed tasks (keyBy), emits per-split bounded-out-of-orderness watermarks (min over its
//    active splits, Flink's per-split watermarks) and injects checkpoint barriers when the
//    coordinator triggers them.
//  * KeyedTask: the chain counter -> windows -> sink (Flink chains forward edges of equal
//    parallelism into one task). It aligns barriers (exactly-once), tracks them without
//    alignment (at-least-once), or lets them overtake records and captures in-flight records as
//    channel state (unaligned).
// Tasks talk to the job's main loop through TaskListener and receive control messages (trigger,
// checkpoint complete, abort, stop) as mails.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/channel_state.h"
#include "pipeline/config.h"
#include "pipeline/counter.h"
#include "pipeline/file_sink.h"
#include "pipeline/input_gate.h"
#include "pipeline/job_params.h"
#include "pipeline/snapshot_result.h"
#include "pipeline/source_splits.h"
#include "pipeline/state_backend.h"
#include "pipeline/windows.h"

namespace ckpt::pipeline {

inline constexpr std::string_view kSourceUid = "source";
inline constexpr std::string_view kCounterUid = "counter";
inline constexpr std::string_view kWindowsUid = "windows";
inline constexpr std::string_view kSinkUid = "sink";
inline constexpr std::string_view kSplitsStateName = "SourceReaderState";
inline constexpr std::string_view kCommittablesStateName = "streaming_committer_raw_states";

class TaskLocalStateStore;  // pipeline/local_state_store.h (which needs this header)

struct TaskCommon {
  int task = 0;  // index in the job (sources first)
  int32_t subtask = 0;
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;
  const JobParams* params = nullptr;
  const PipelineConfig* config = nullptr;
  TaskListener* listener = nullptr;
  AsyncSnapshotExecutor* executor = nullptr;
  std::string job_id;  // names the local recovery directories
};

class SourceTask {
 public:
  SourceTask(TaskCommon common, std::vector<Split> splits, const Generator* gen, std::vector<InputGate*> outputs);

  void run();  // the thread body; returns when stopped or cancelled
  InputGate& mailbox() { return mailbox_; }

  // Mails (run on the task thread).
  void trigger(const Barrier& b);
  void stop() { stop_ = true; }

 private:
  void emit(Record&& r);
  void flush();
  void broadcast(const Event& e);
  void maybe_emit_watermark();
  void finish_input();

  TaskCommon c_;
  const Generator* gen_;
  std::vector<InputGate*> outputs_;
  InputGate mailbox_{0, 1};
  struct Active {
    std::unique_ptr<SplitReader> reader;
    int64_t max_ts = kMinWatermark;
    bool done = false;
  };
  std::vector<Active> splits_;
  std::vector<Split> finished_;
  std::vector<std::vector<Record>> out_;
  std::size_t cursor_ = 0;
  int64_t watermark_ = kMinWatermark;
  int64_t emitted_ = 0;
  int64_t since_watermark_ = 0;
  bool ended_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point started_;
};

struct KeyedRestore {
  // Keyed state of each keyed operator: (payload, range, offsets) of the old subtasks.
  struct Piece {
    std::shared_ptr<const std::string> payload;
    flink::KeyGroupRange range;
    std::string offsets_be;         // the handle's key-group offsets, raw big-endian
    bool canonical_handle = false;  // keyed handle tag 7: the canonical layout
  };
  std::vector<Piece> counter, windows;
  std::vector<NativePiece> counter_native, windows_native;  // RocksDB native snapshots (restored first)
  std::vector<Committable> committables;
  std::vector<Record> in_flight;  // channel state to replay first
};

class KeyedTask {
 public:
  KeyedTask(TaskCommon common, int32_t upstream_parallelism, std::string sink_uid, KeyedRestore restore,
            int64_t fail_at);

  void run();
  InputGate& gate() { return gate_; }

  // Mails.
  void notify_complete(int64_t checkpoint_id, bool final_checkpoint);
  void commit_at_end();  // checkpointing off: commit everything, then finish
  void stop() { stop_ = true; }

  int64_t records_processed() const { return processed_; }

 private:
  void process(const std::vector<Record>& records);
  void on_watermark(int channel, int64_t wm);
  void on_barrier(int channel, const Barrier& b);
  void on_end_of_data(int channel);
  void snapshot_state(const Barrier& b);
  void finish_unaligned(const Barrier& b);
  void advance_watermark();

  TaskCommon c_;
  int32_t upstream_;
  InputGate gate_;
  std::unique_ptr<TaskLocalStateStore> local_state_;  // local recovery on (rocksdb) only
  std::unique_ptr<KeyedStateBackend> counter_backend_, windows_backend_;
  FileSink sink_;
  CounterOperator counter_;
  WindowsOperator windows_;
  std::vector<int64_t> channel_wm_;
  std::vector<bool> channel_ended_;
  int64_t watermark_ = kMinWatermark;
  int ended_channels_ = 0;
  bool input_ended_ = false;
  bool stop_ = false;
  int64_t fail_at_;
  int64_t processed_ = 0;
  std::vector<Record> replay_;

  // Barrier handling.
  int64_t aligning_ = -1;  // exactly-once: checkpoint being aligned (or unaligned in flight)
  std::vector<bool> barrier_seen_;
  int barriers_seen_ = 0;
  std::map<int64_t, int> tracker_;  // at-least-once: barriers seen per checkpoint
  // Unaligned: the snapshot taken at the first barrier, waiting for the channel state.
  std::vector<CapturedChannel> captured_;
  std::vector<bool> capturing_;
  std::function<void(std::vector<CapturedChannel>)> pending_job_;  // async part, waiting for channels
};

}  // namespace ckpt::pipeline
