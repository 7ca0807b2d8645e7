#include "pipeline/thread_executor.h"

namespace ckpt::pipeline {

ThreadExecutor::ThreadExecutor() : thread_([this] { loop(); }) {}

ThreadExecutor::~ThreadExecutor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void ThreadExecutor::submit(std::function<void()> job) {
  std::lock_guard lock(mu_);
  q_.push_back(std::move(job));
  cv_.notify_all();
}

void ThreadExecutor::drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return q_.empty() && !busy_; });
}

void ThreadExecutor::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !q_.empty(); });
    if (q_.empty()) return;
    auto job = std::move(q_.front());
    q_.pop_front();
    busy_ = true;
    lock.unlock();
    job();
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace ckpt::pipeline
