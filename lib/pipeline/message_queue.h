// The job's side of TaskListener: the task threads report acknowledgements, declines, the end of
// their input, their end and their failure; the coordinating thread takes them in batches, in
// the order they came.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/snapshot_result.h"

namespace ckpt::pipeline {

struct TaskMessage {
  enum class Kind { kAck, kDecline, kEndOfInput, kFinished, kFailed } kind = Kind::kAck;
  int task = 0;
  TaskAck ack;       // kAck
  int64_t id = 0;    // kDecline: the checkpoint declined
  std::string text;  // kDecline, kFailed: the reason
};

// Thread-safe: any thread reports, one thread waits.
class MessageQueue final : public TaskListener {
 public:
  void acknowledge(TaskAck ack) override;
  void decline(int task, int64_t id, std::string reason) override;
  void end_of_input(int task) override;
  void finished(int task) override;
  void failed(int task, std::string reason) override;

  // Every message queued so far, after waiting up to `timeout` for the first one (empty when
  // none came).
  std::vector<TaskMessage> wait(std::chrono::milliseconds timeout);
  // Drops what is queued (the reports of tasks that have been shut down).
  void clear();

 private:
  void push(TaskMessage m);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TaskMessage> q_;
};

}  // namespace ckpt::pipeline
