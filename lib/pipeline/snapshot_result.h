// What a task reports when its part of a checkpoint is persisted: per operator of its chain, the
// keyed, operator and channel state it wrote, as PersistedStream values. The coordinator turns
// these into `_metadata` handles (tag 12/7 keyed, tag 4 operator, V4 channel handles).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flink/model.h"
#include "pipeline/checkpoint_storage.h"

namespace ckpt::pipeline {

// A native RocksDB snapshot (tag 11, spec §6.2): files under their RocksDB names.
struct NativeKeyedResult {
  int64_t checkpoint_id = 0;
  std::string backend_id;         // UUID of the backend instance
  int64_t checkpointed_size = 0;  // meta + bytes newly persisted by this checkpoint
  PersistedStream meta;
  std::vector<std::pair<std::string, PersistedStream>> shared, private_files;  // (local name, stream)
};

struct KeyedResult {
  flink::KeyGroupRange range;
  std::vector<int64_t> offsets;
  PersistedStream stream;
  std::optional<NativeKeyedResult> native;  // set: a tag 11 handle instead of a key-grouped one
};

struct OperatorStateEntryResult {
  std::string name;
  flink::DistributionMode mode = flink::DistributionMode::kSplitDistribute;
  std::vector<int64_t> offsets;
};

struct OperatorListResult {
  std::vector<OperatorStateEntryResult> entries;
  PersistedStream stream;
};

// One channel's in-flight data (unaligned checkpoints).
struct ChannelResult {
  bool input = true;
  int32_t a = 0;  // input: gate index; output: partition index
  int32_t b = 0;  // input: channel index; output: subpartition index
  std::vector<int64_t> offsets;
  int64_t size = 0;
  PersistedStream stream;  // shared by the channels of a subtask when it is a file
};

struct OperatorSubtaskResult {
  std::string uid;
  int32_t subtask = 0;
  std::optional<KeyedResult> keyed;
  std::optional<KeyedResult> raw_keyed;  // heap timers beside a native RocksDB snapshot
  std::optional<OperatorListResult> operator_state;
  std::vector<ChannelResult> channels;
  std::string coordinator_state;  // source only, subtask 0 reports it (empty: none)
};

struct TaskAck {
  int task = 0;  // index of the task in the job
  int64_t checkpoint_id = 0;
  std::vector<OperatorSubtaskResult> operators;
};

// How tasks talk to the job's main loop (thread-safe).
class TaskListener {
 public:
  virtual ~TaskListener() = default;
  virtual void acknowledge(TaskAck ack) = 0;
  virtual void decline(int task, int64_t checkpoint_id, std::string reason) = 0;
  virtual void end_of_input(int task) = 0;
  virtual void finished(int task) = 0;
  virtual void failed(int task, std::string reason) = 0;
};

// Runs the asynchronous part of snapshots (writing files) off the task threads.
class AsyncSnapshotExecutor {
 public:
  virtual ~AsyncSnapshotExecutor() = default;
  virtual void submit(std::function<void()> job) = 0;
};

}  // namespace ckpt::pipeline
