#include <doctest/doctest.h>

#include <random>
#include <set>
#include <string>
#include <tuple>

#include "pipeline/timer_queue.h"

using ckpt::pipeline::Namespace;
using ckpt::pipeline::Timer;
using ckpt::pipeline::TimerQueue;

namespace {
using Model = std::set<std::tuple<int64_t, int32_t, std::string, int64_t, int64_t>>;  // the old std::set order
}

TEST_CASE("TimerQueue pops in (timestamp, key group, key, namespace) order and ignores duplicates") {
  TimerQueue q;
  Model model;
  std::mt19937_64 rng(7);
  for (int op = 0; op < 100000; ++op) {
    if (rng() % 3 != 0 || model.empty()) {
      int k = static_cast<int>(rng() % 500);
      Timer t{static_cast<int64_t>(rng() % 50), k % 16, "w" + std::to_string(k),
              Namespace{static_cast<int64_t>(rng() % 3), 7}};
      model.insert({t.timestamp, t.key_group, t.key, t.ns.start, t.ns.end});
      q.add(t);
    } else {
      Timer t = q.pop();
      auto want = *model.begin();
      model.erase(model.begin());
      REQUIRE(std::make_tuple(t.timestamp, t.key_group, t.key, t.ns.start, t.ns.end) == want);
    }
    REQUIRE(q.size() == model.size());
  }
  // Grouping by key group covers every timer once, each in its group.
  TimerQueue::Grouped g = q.group_by_key_group(0, 16);
  REQUIRE(g.order.size() == q.size());
  std::set<uint32_t> seen;
  for (int32_t kg = 0; kg < 16; ++kg) {
    for (std::size_t i = g.starts[static_cast<std::size_t>(kg)]; i < g.starts[static_cast<std::size_t>(kg) + 1]; ++i) {
      CHECK(q.timers()[g.order[i]].key_group == kg);
      seen.insert(g.order[i]);
    }
  }
  CHECK(seen.size() == q.size());
  CHECK_THROWS(q.group_by_key_group(0, 8));
}

TEST_CASE("TimerQueue: a popped timer can be registered again") {
  TimerQueue q;
  q.add(Timer{5, 0, "a", {}});
  q.add(Timer{5, 0, "a", {}});
  CHECK(q.size() == 1);
  q.pop();
  q.add(Timer{5, 0, "a", {}});
  CHECK(q.size() == 1);
}
