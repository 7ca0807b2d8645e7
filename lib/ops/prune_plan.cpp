#include "ops/prune_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>

#include "io/flink_config.h"
#include "util/error.h"

namespace ckpt::ops {
namespace {

constexpr int64_t kSecond = 1000000000;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// One line per job whose `_metadata` times contradict its checkpoint ids (a higher id is older):
// a copy that did not keep times, a restored backup, a `touch`.
std::vector<std::string> order_warnings(const snapshot::ReferenceGraph& g, const std::vector<Ranked>& ranked,
                                        const std::vector<uint32_t>& ranked_of) {
  std::map<std::string_view, std::vector<size_t>> groups;
  for (size_t k = 0; k < ranked.size(); ++k) {
    if (ranked[k].by_id) groups[ranked[k].group].push_back(k);
  }
  std::vector<std::string> out;
  for (auto& [group, ks] : groups) {
    std::sort(ks.begin(), ks.end(), [&](size_t a, size_t b) { return ranked[a].id < ranked[b].id; });
    // The newest time among lower ids, against each higher id.
    size_t newest_lower = ks.empty() ? 0 : ks.front();
    for (size_t j = 1; j < ks.size(); ++j) {
      const Ranked& r = ranked[ks[j]];
      if (r.time_ns < ranked[newest_lower].time_ns && r.id > ranked[newest_lower].id) {
        out.push_back(
            fmt::format("{}: checkpoint times contradict their ids ({} is older than {}): times were not "
                        "kept by a copy or were changed; --retain ranks by id, and no checkpoint is pruned "
                        "while a lower id is kept",
                        std::string(group), g.snapshots[ranked_of[ks[j]]].loc.directory.filename().string(),
                        g.snapshots[ranked_of[newest_lower]].loc.directory.filename().string()));
        break;
      }
      if (r.time_ns > ranked[newest_lower].time_ns) newest_lower = ks[j];
    }
  }
  return out;
}

}  // namespace

std::vector<uint32_t> apply_policy(const std::vector<Ranked>& entries, const RetentionPolicy& policy) {
  std::vector<uint32_t> rules(entries.size(), 0);
  std::map<std::string_view, std::vector<size_t>> groups;
  for (size_t i = 0; i < entries.size(); ++i) groups[entries[i].group].push_back(i);
  for (auto& [group, idx] : groups) {
    // Count rules: by id for checkpoints (Flink's order), by time for savepoints.
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      const bool by_id = entries[a].by_id && entries[b].by_id;
      if (!by_id && entries[a].time_ns != entries[b].time_ns) return entries[a].time_ns > entries[b].time_ns;
      if (entries[a].id != entries[b].id) return entries[a].id > entries[b].id;
      return entries[a].time_ns > entries[b].time_ns;
    });
    if (policy.last) {
      for (size_t rank = 0; rank < idx.size() && static_cast<int64_t>(rank) < *policy.last; ++rank) {
        rules[idx[rank]] |= keep_rule::kLast;
      }
    }
    // Time rules: by `_metadata` time, ties by id.
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      if (entries[a].time_ns != entries[b].time_ns) return entries[a].time_ns > entries[b].time_ns;
      return entries[a].id > entries[b].id;
    });
    const int64_t newest = entries[idx.front()].time_ns;
    int64_t hourly_left = policy.hourly.value_or(0), daily_left = policy.daily.value_or(0);
    std::optional<int64_t> last_hour, last_day;
    for (size_t i : idx) {
      const Ranked& e = entries[i];
      uint32_t& r = rules[i];
      if (policy.within_ns && e.time_ns >= newest - *policy.within_ns) r |= keep_rule::kWithin;
      int64_t hour = floor_div(e.time_ns, 3600 * kSecond), day = floor_div(e.time_ns, 86400 * kSecond);
      if (hourly_left > 0 && hour != last_hour) {
        r |= keep_rule::kHourly;
        last_hour = hour;
        --hourly_left;
      }
      if (daily_left > 0 && day != last_day) {
        r |= keep_rule::kDaily;
        last_day = day;
        --daily_left;
      }
    }
  }
  // Never prune a checkpoint while keeping a lower-id one of the same job.
  std::vector<IdRanked> by_id;
  std::vector<size_t> entry_of;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].by_id) continue;
    by_id.push_back({entries[i].group, entries[i].id, rules[i] != 0});
    entry_of.push_back(i);
  }
  for (size_t k : newer_than_kept(by_id)) rules[entry_of[k]] = keep_rule::kNewer;
  return rules;
}

Decisions decide(const snapshot::ReferenceGraph& g, const RetentionPolicy& policy) {
  Decisions out;
  out.snapshots.resize(g.snapshots.size());
  std::vector<Ranked> ranked;
  std::vector<uint32_t> ranked_of;
  for (uint32_t i = 0; i < g.snapshots.size(); ++i) {
    const auto& s = g.snapshots[i];
    SnapshotDecision& d = out.snapshots[i];
    d.snapshot = i;
    d.group = group_of(s);
    if (!s.readable) {
      d.rules = keep_rule::kUnreadable;
      continue;
    }
    if (s.savepoint && !policy.include_savepoints) {
      d.rules = keep_rule::kSavepoint;
      continue;
    }
    if (!s.savepoint && s.loc.dir_kind != snapshot::DirKind::kCheckpoint) {
      d.rules = keep_rule::kUnmanaged;
      continue;
    }
    ranked.push_back({d.group, s.mtime_ns, s.checkpoint_id, !s.savepoint});
    ranked_of.push_back(i);
  }
  std::vector<uint32_t> rules = apply_policy(ranked, policy);
  for (size_t k = 0; k < ranked.size(); ++k) out.snapshots[ranked_of[k]].rules = rules[k];
  for (auto& d : out.snapshots) d.keep = d.rules != 0;
  out.warnings = order_warnings(g, ranked, ranked_of);
  return out;
}

int64_t num_retained_from_config(const std::filesystem::path& config_file, std::string* warning) {
  const io::FlinkConfig config = io::read_flink_config(config_file);
  // Flink 2.x's key first: it wins over its deprecated 1.x key, as in Flink.
  static const std::string_view keys[] = {"execution.checkpointing.num-retained", "state.checkpoints.num-retained"};
  auto current = config.find(std::string(keys[0]));
  auto deprecated = config.find(std::string(keys[1]));
  if (warning && current != config.end() && deprecated != config.end() &&
      current->second.value != deprecated->second.value) {
    *warning = fmt::format("{}: {}={} and {}={} set the same option; using {} ({} is deprecated)", config_file.string(),
                           keys[1], deprecated->second.value, keys[0], current->second.value, keys[0], keys[1]);
  }
  for (std::string_view key : keys) {
    auto it = config.find(std::string(key));
    if (it == config.end()) continue;
    std::string_view value = trim(it->second.value);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || n < 1) {
      throw util::Error(util::ErrorKind::kUsage,
                        fmt::format("{}:{}: {}: '{}', expected a positive integer", config_file.string(),
                                    it->second.line, key, it->second.value));
    }
    return n;
  }
  throw util::Error(util::ErrorKind::kUsage,
                    fmt::format("{}: no {} (or {}); Flink's default is 1: pass --retain 1 to use it",
                                config_file.string(), keys[1], keys[0]));
}

}  // namespace ckpt::ops
