// The receiving end of a task: one bounded FIFO per input channel (one channel per upstream
// subtask) plus the task's mailbox, all behind one lock so that a task can wait for "an event on
// any unblocked channel, or a mail" (Flink's InputGate + mailbox model).
//
// Contract:
//  * push() blocks while the channel holds `capacity` events (backpressure); push_priority()
//    never blocks and puts the event before everything queued (unaligned barriers), copying the
//    records of the events it overtakes into `overtaken`.
//  * next() returns mail first, then events from unblocked channels in round-robin order. A
//    blocked channel (aligned barrier received) keeps its events queued until unblock_all().
//  * After cancel(), push(), push_priority() and next() throw Cancelled; cancel() is idempotent
//    and may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "pipeline/events.h"
#include "util/error.h"

namespace ckpt::pipeline {

class Cancelled : public util::Error {
 public:
  Cancelled() : util::Error(util::ErrorKind::kInternal, "task cancelled") {}
};

using Mail = std::function<void()>;

class InputGate {
 public:
  InputGate(int channels, std::size_t capacity);

  int channels() const { return static_cast<int>(queues_.size()); }

  void push(int channel, Event e);
  void push_priority(int channel, Event e, std::vector<Record>* overtaken);

  void post_mail(Mail m);

  enum class Next { kEvent, kMail, kTimeout };
  Next next(Event& event, int& channel, Mail& mail, std::chrono::milliseconds timeout);
  // Non-blocking: mail only (for tasks without inputs).
  bool poll_mail(Mail& mail);

  void block(int channel);
  void unblock_all();

  void cancel();
  bool cancelled() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::vector<std::deque<Event>> queues_;
  std::vector<bool> blocked_;
  std::deque<Mail> mail_;
  std::size_t capacity_;
  int cursor_ = 0;
  bool cancelled_ = false;
};

}  // namespace ckpt::pipeline
