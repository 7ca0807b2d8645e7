// Running independent work items on a few threads: parallel_for(n, threads, fn) calls fn(i) once
// for every i in [0, n), items taken in index order by `threads` workers (callers sort the items
// largest first for balance). The first exception thrown by fn is rethrown after all workers
// stopped; items not yet started are skipped then.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ckpt::util {

// Worker count for `requested` (0 = one per hardware thread), never more than `items`, >= 1.
inline unsigned worker_count(unsigned requested, std::size_t items) {
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  unsigned n = requested == 0 ? hw : requested;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(n, items)));
}

template <typename Fn>
void parallel_for(std::size_t n, unsigned threads, Fn&& fn) {
  if (n == 0) return;
  unsigned workers = worker_count(threads, n);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (;;) {
      if (stop.load(std::memory_order_relaxed)) return;
      std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        stop = true;
      }
    }
  };
  if (workers == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace ckpt::util
