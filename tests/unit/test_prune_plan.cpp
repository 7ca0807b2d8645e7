// ops/prune_plan: the retention policy (checked against a brute-force model), durations and the
// Flink configuration reader.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "ops/prune_plan.h"

using namespace ckpt;
using ops::keep_rule::kDaily;
using ops::keep_rule::kHourly;
using ops::keep_rule::kLast;
using ops::keep_rule::kNewer;
using ops::keep_rule::kWithin;

namespace {

constexpr int64_t kS = 1000000000;

// The policy stated differently from apply_policy: per rule, the set it keeps.
std::vector<uint32_t> model_policy(const std::vector<ops::Ranked>& e, const ops::RetentionPolicy& p) {
  std::vector<uint32_t> out(e.size(), 0);
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < e.size(); ++i) groups[e[i].group].push_back(i);
  for (auto& [g, idx] : groups) {
    auto newer = [&](size_t a, size_t b) {
      return e[a].time_ns != e[b].time_ns ? e[a].time_ns > e[b].time_ns : e[a].id > e[b].id;
    };
    std::sort(idx.begin(), idx.end(), newer);
    if (p.last) {
      // Checkpoints: the N highest ids; savepoints: the N newest by time.
      std::vector<size_t> by_rank = idx;
      if (e[idx.front()].by_id) {
        std::sort(by_rank.begin(), by_rank.end(), [&](size_t a, size_t b) { return e[a].id > e[b].id; });
      }
      for (size_t k = 0; k < by_rank.size() && static_cast<int64_t>(k) < *p.last; ++k) out[by_rank[k]] |= kLast;
    }
    if (p.within_ns) {
      int64_t newest = 0;
      for (size_t i : idx) newest = std::max(newest, e[i].time_ns);
      for (size_t i : idx) {
        if (newest - e[i].time_ns <= *p.within_ns) out[i] |= kWithin;
      }
    }
    auto bucketed = [&](int64_t width, int64_t n, uint32_t bit) {
      // The n most recent distinct buckets; in each, the newest snapshot.
      std::map<int64_t, size_t, std::greater<>> best;
      for (size_t i : idx) {
        int64_t b = e[i].time_ns >= 0 ? e[i].time_ns / width : -((-e[i].time_ns + width - 1) / width);
        auto it = best.find(b);
        if (it == best.end() || newer(i, it->second)) best[b] = i;
      }
      int64_t k = 0;
      for (auto& [b, i] : best) {
        if (k++ >= n) break;
        out[i] |= bit;
      }
    };
    if (p.hourly) bucketed(3600 * kS, *p.hourly, kHourly);
    if (p.daily) bucketed(86400 * kS, *p.daily, kDaily);
    // Checkpoints: whatever has a higher id than a kept one is kept too.
    for (size_t i : idx) {
      if (!e[i].by_id || out[i]) continue;
      for (size_t j : idx) {
        if (out[j] && e[j].by_id && (out[j] & ~kNewer) && e[j].id < e[i].id) out[i] = kNewer;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("retain keeps the N newest of each job") {
  std::vector<ops::Ranked> e = {{"a", 10, 1}, {"a", 30, 3}, {"a", 20, 2}, {"b", 5, 1}};
  ops::RetentionPolicy p;
  p.last = 2;
  auto r = ops::apply_policy(e, p);
  CHECK(r == std::vector<uint32_t>{0, kLast, kLast, kLast});
}

TEST_CASE("ties on time are broken by checkpoint id") {
  std::vector<ops::Ranked> e = {{"a", 10, 1}, {"a", 10, 2}};
  ops::RetentionPolicy p;
  p.last = 1;
  CHECK(ops::apply_policy(e, p) == std::vector<uint32_t>{0, kLast});
}

TEST_CASE("keep-within is relative to the job's newest checkpoint, hourly/daily keep one per bucket") {
  const int64_t h = 3600 * kS;
  std::vector<ops::Ranked> e = {{"a", 100 * h + 10, 1}, {"a", 100 * h + 20, 2}, {"a", 101 * h, 3}, {"a", 130 * h, 4}};
  ops::RetentionPolicy p;
  p.within_ns = 2 * h;
  auto r = ops::apply_policy(e, p);
  CHECK(r == std::vector<uint32_t>{0, 0, 0, kWithin});
  p = {};
  p.hourly = 2;
  r = ops::apply_policy(e, p);
  CHECK(r == std::vector<uint32_t>{0, 0, kHourly, kHourly});
  p = {};
  p.hourly = 10;
  r = ops::apply_policy(e, p);
  CHECK(r == std::vector<uint32_t>{0, kHourly, kHourly, kHourly});
  p = {};
  p.daily = 2;  // hours 100, 101 are day 4; 130 is day 5
  r = ops::apply_policy(e, p);
  CHECK(r == std::vector<uint32_t>{0, 0, kDaily, kDaily});
}

TEST_CASE("retain ranks checkpoints by id, not by the time a copy gave their _metadata") {
  // chk-3 was touched (or copied without times) and looks the oldest.
  std::vector<ops::Ranked> e = {{"a", 20, 1}, {"a", 30, 2}, {"a", 10, 3}};
  ops::RetentionPolicy p;
  p.last = 1;
  CHECK(ops::apply_policy(e, p) == std::vector<uint32_t>{0, 0, kLast});
  // Savepoints have no id order: by time.
  for (auto& x : e) x.by_id = false;
  CHECK(ops::apply_policy(e, p) == std::vector<uint32_t>{0, kLast, 0});
}

TEST_CASE("a time rule that keeps a lower id keeps every higher id of the job") {
  const int64_t h = 3600 * kS;
  // chk-2 has the newest time; chk-3 (higher id, older time) must not be pruned while chk-2 stays.
  std::vector<ops::Ranked> e = {{"a", 1 * h, 1}, {"a", 50 * h, 2}, {"a", 2 * h, 3}, {"b", 1 * h, 1}};
  ops::RetentionPolicy p;
  p.within_ns = h;
  CHECK(ops::apply_policy(e, p) == std::vector<uint32_t>{0, kWithin, kNewer, kWithin});
}

TEST_CASE("property: apply_policy equals the brute-force model on random histories") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 4000; ++trial) {
    CAPTURE(trial);
    std::vector<ops::Ranked> e;
    int n = static_cast<int>(rng() % 30);
    const bool savepoints = trial % 2;  // every group of a trial: checkpoints, or savepoints
    for (int i = 0; i < n; ++i) {
      e.push_back({std::string(1, static_cast<char>('a' + rng() % 3)),
                   static_cast<int64_t>(rng() % (5 * 86400)) * kS * (rng() % 2 ? 1 : 7), i, !savepoints});
    }
    ops::RetentionPolicy p;
    if (rng() % 2) p.last = 1 + static_cast<int64_t>(rng() % 5);
    if (rng() % 2) p.within_ns = static_cast<int64_t>(rng() % (2 * 86400)) * kS;
    if (rng() % 2) p.hourly = 1 + static_cast<int64_t>(rng() % 10);
    if (rng() % 2) p.daily = 1 + static_cast<int64_t>(rng() % 4);
    if (p.empty()) p.last = 1;
    auto got = ops::apply_policy(e, p);
    CHECK(got == model_policy(e, p));
    // Any non-empty policy keeps each group's newest (checkpoints: the highest id).
    std::map<std::string, size_t> newest;
    for (size_t i = 0; i < e.size(); ++i) {
      auto it = newest.find(e[i].group);
      if (it == newest.end()) {
        newest[e[i].group] = i;
        continue;
      }
      const ops::Ranked& o = e[it->second];
      bool newer =
          savepoints ? (e[i].time_ns > o.time_ns || (e[i].time_ns == o.time_ns && e[i].id > o.id)) : e[i].id > o.id;
      if (newer) newest[e[i].group] = i;
    }
    for (auto& [g, i] : newest) CHECK(got[i] != 0);
    // Checkpoints: no pruned id above a kept id of its group.
    for (size_t i = 0; i < e.size() && !savepoints; ++i) {
      for (size_t j = 0; j < e.size(); ++j) {
        if (e[i].group == e[j].group && got[j] && !got[i]) CHECK(e[i].id < e[j].id);
      }
    }
  }
}

TEST_CASE("num-retained from Flink configuration files") {
  auto dir = std::filesystem::temp_directory_path() / "ckpt-prune-config-test";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& text) {
    std::ofstream(dir / "config.yaml") << text;
    return dir / "config.yaml";
  };
  CHECK(ops::num_retained_from_config(write("state.checkpoints.num-retained: 3\n")) == 3);
  CHECK(ops::num_retained_from_config(
            write("# c\nstate:\n  checkpoints:\n    dir: file:///x\n    num-retained: 5 # x\n")) == 5);
  CHECK(ops::num_retained_from_config(write("execution:\n  checkpointing:\n    num-retained: '4'\n")) == 4);
  CHECK(ops::num_retained_from_config(
            write("state.checkpoints.num-retained: 2\nexecution.checkpointing.num-retained: 6\n")) == 6);
  CHECK(ops::num_retained_from_config(write("other:\n  num-retained: 9\nstate.checkpoints.num-retained: 1\n")) == 1);
  CHECK_THROWS_WITH_AS(ops::num_retained_from_config(write("taskmanager.numberOfTaskSlots: 2\n")),
                       doctest::Contains("Flink's default is 1"), std::runtime_error);
  CHECK_THROWS_WITH_AS(ops::num_retained_from_config(write("state.checkpoints.num-retained: zero\n")),
                       doctest::Contains("config.yaml:1: "), std::runtime_error);
  CHECK_THROWS_WITH_AS(ops::num_retained_from_config(write("state.checkpoints.num-retained: 0\n")),
                       doctest::Contains("positive integer"), std::runtime_error);
  CHECK_THROWS(ops::num_retained_from_config(dir / "absent.yaml"));
  std::filesystem::remove_all(dir);
}
