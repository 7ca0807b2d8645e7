#include "pipeline/input_gate.h"

namespace ckpt::pipeline {

InputGate::InputGate(int channels, std::size_t capacity)
    : queues_(static_cast<std::size_t>(channels)),
      blocked_(static_cast<std::size_t>(channels), false),
      capacity_(capacity) {}

void InputGate::push(int channel, Event e) {
  std::unique_lock lock(mu_);
  auto& q = queues_[static_cast<std::size_t>(channel)];
  not_full_.wait(lock, [&] { return cancelled_ || q.size() < capacity_; });
  if (cancelled_) throw Cancelled();
  q.push_back(std::move(e));
  not_empty_.notify_one();
}

void InputGate::push_priority(int channel, Event e, std::vector<Record>* overtaken) {
  std::unique_lock lock(mu_);
  if (cancelled_) throw Cancelled();
  auto& q = queues_[static_cast<std::size_t>(channel)];
  if (overtaken) {
    for (const Event& queued : q) {
      if (queued.kind == Event::Kind::kRecords) {
        overtaken->insert(overtaken->end(), queued.records.begin(), queued.records.end());
      }
    }
  }
  q.push_front(std::move(e));
  not_empty_.notify_one();
}

void InputGate::post_mail(Mail m) {
  std::lock_guard lock(mu_);
  mail_.push_back(std::move(m));
  not_empty_.notify_one();
}

InputGate::Next InputGate::next(Event& event, int& channel, Mail& mail, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  const int n = channels();
  while (true) {
    if (cancelled_) throw Cancelled();
    if (!mail_.empty()) {
      mail = std::move(mail_.front());
      mail_.pop_front();
      return Next::kMail;
    }
    for (int k = 0; k < n; ++k) {
      int c = (cursor_ + k) % n;
      auto& q = queues_[static_cast<std::size_t>(c)];
      if (blocked_[static_cast<std::size_t>(c)] || q.empty()) continue;
      event = std::move(q.front());
      q.pop_front();
      channel = c;
      cursor_ = (c + 1) % n;
      not_full_.notify_all();
      return Next::kEvent;
    }
    if (not_empty_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (cancelled_) throw Cancelled();
      if (mail_.empty()) return Next::kTimeout;
    }
  }
}

bool InputGate::poll_mail(Mail& mail) {
  std::lock_guard lock(mu_);
  if (cancelled_) throw Cancelled();
  if (mail_.empty()) return false;
  mail = std::move(mail_.front());
  mail_.pop_front();
  return true;
}

void InputGate::block(int channel) {
  std::lock_guard lock(mu_);
  blocked_[static_cast<std::size_t>(channel)] = true;
}

void InputGate::unblock_all() {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < blocked_.size(); ++i) blocked_[i] = false;
  not_empty_.notify_all();
}

void InputGate::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  not_empty_.notify_all();
  not_full_.notify_all();
}

bool InputGate::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

}  // namespace ckpt::pipeline
