#include "pipeline/timer_queue.h"

#include <algorithm>
#include <stdexcept>

#include "pipeline/state_table.h"
#include "util/error.h"

namespace ckpt::pipeline {
namespace {

// The heap's order; the comparator of std::push_heap is "less", which builds a max-heap, so it
// is given "greater" to keep the earliest timer at the front.
bool later(const Timer& a, const Timer& b) {
  if (a.timestamp != b.timestamp) return a.timestamp > b.timestamp;
  if (a.key_group != b.key_group) return a.key_group > b.key_group;
  if (a.key != b.key) return a.key > b.key;
  return b.ns < a.ns;
}

}  // namespace

std::size_t TimerQueue::IdHash::operator()(const Id& id) const noexcept {
  Namespace ns = id.ns;
  ns.start ^= static_cast<int64_t>(static_cast<uint64_t>(id.timestamp) * 0x9E3779B97F4A7C15ULL);
  return static_cast<std::size_t>(StateTable::hash_entry(StateTable::hash_key(id.key), ns));
}

void TimerQueue::add(Timer t) {
  if (!registered_.insert(Id{t.timestamp, t.ns, t.key}).second) return;
  heap_.push_back(std::move(t));
  std::push_heap(heap_.begin(), heap_.end(), later);
}

Timer TimerQueue::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), later);
  Timer t = std::move(heap_.back());
  heap_.pop_back();
  registered_.erase(Id{t.timestamp, t.ns, t.key});
  return t;
}

TimerQueue::Grouped TimerQueue::group_by_key_group(int32_t first, int32_t count) const {
  Grouped g;
  g.starts.assign(static_cast<std::size_t>(std::max(count, 0)) + 1, 0);
  for (const Timer& t : heap_) {
    if (t.key_group < first || t.key_group >= first + count)
      throw util::Error(util::ErrorKind::kInternal, "timer outside the key-group range");
    ++g.starts[static_cast<std::size_t>(t.key_group - first) + 1];
  }
  for (std::size_t i = 1; i < g.starts.size(); ++i) g.starts[i] += g.starts[i - 1];
  std::vector<std::size_t> next(g.starts.begin(), g.starts.end() - 1);
  g.order.resize(heap_.size());
  for (std::size_t i = 0; i < heap_.size(); ++i) {
    g.order[next[static_cast<std::size_t>(heap_[i].key_group - first)]++] = static_cast<uint32_t>(i);
  }
  return g;
}

}  // namespace ckpt::pipeline
