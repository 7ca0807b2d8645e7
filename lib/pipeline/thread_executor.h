// The AsyncSnapshotExecutor of one job attempt: one thread runs the asynchronous parts of the
// snapshots (writing files) in the order they were submitted, off the task threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "pipeline/snapshot_result.h"

namespace ckpt::pipeline {

class ThreadExecutor final : public AsyncSnapshotExecutor {
 public:
  ThreadExecutor();
  // Runs what is still queued, then joins the thread.
  ~ThreadExecutor() override;
  ThreadExecutor(const ThreadExecutor&) = delete;
  ThreadExecutor& operator=(const ThreadExecutor&) = delete;

  void submit(std::function<void()> job) override;
  // Waits until every submitted job ran.
  void drain();

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members it uses exist
};

}  // namespace ckpt::pipeline
