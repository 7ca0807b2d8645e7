#include "pipeline/message_queue.h"

namespace ckpt::pipeline {

void MessageQueue::acknowledge(TaskAck ack) {
  TaskMessage m;
  m.kind = TaskMessage::Kind::kAck;
  m.task = ack.task;
  m.ack = std::move(ack);
  push(std::move(m));
}

void MessageQueue::decline(int task, int64_t id, std::string reason) {
  push(TaskMessage{TaskMessage::Kind::kDecline, task, {}, id, std::move(reason)});
}

void MessageQueue::end_of_input(int task) { push(TaskMessage{TaskMessage::Kind::kEndOfInput, task, {}, 0, {}}); }

void MessageQueue::finished(int task) { push(TaskMessage{TaskMessage::Kind::kFinished, task, {}, 0, {}}); }

void MessageQueue::failed(int task, std::string reason) {
  push(TaskMessage{TaskMessage::Kind::kFailed, task, {}, 0, std::move(reason)});
}

std::vector<TaskMessage> MessageQueue::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !q_.empty(); });
  std::vector<TaskMessage> out(std::make_move_iterator(q_.begin()), std::make_move_iterator(q_.end()));
  q_.clear();
  return out;
}

void MessageQueue::clear() {
  std::lock_guard lock(mu_);
  q_.clear();
}

void MessageQueue::push(TaskMessage m) {
  std::lock_guard lock(mu_);
  q_.push_back(std::move(m));
  cv_.notify_one();
}

}  // namespace ckpt::pipeline
