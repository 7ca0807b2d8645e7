// The hashmap (heap) keyed state backend: one hash table per state and key group, like Flink's
// HeapKeyedStateBackend StateTable, so that snapshots stream key group by key group.
#include <fmt/format.h>

#include <stdexcept>

#include "pipeline/state_backend.h"
#include "pipeline/state_table.h"
#include "pipeline/timer_queue.h"

namespace ckpt::pipeline {
namespace {

struct ValueState {
  std::string name;
  NamespaceKind ns = NamespaceKind::kVoid;
  std::vector<StateTable> tables;  // one per key group of the range
};

class HashMapBackend final : public KeyedStateBackend {
 public:
  HashMapBackend(flink::KeyGroupRange range, int32_t max_parallelism)
      : range_(range), max_parallelism_(max_parallelism) {}

  flink::KeyGroupRange key_groups() const override { return range_; }

  int declare_value_state(std::string name, NamespaceKind ns) override {
    ValueState s;
    s.name = std::move(name);
    s.ns = ns;
    s.tables.resize(static_cast<std::size_t>(std::max(range_.count, 0)));
    states_.push_back(std::move(s));
    return static_cast<int>(states_.size()) - 1;
  }

  void declare_timers(std::string name, NamespaceKind ns) override {
    timer_name_ = std::move(name);
    timer_ns_ = ns;
    has_timers_ = true;
  }

  void set_current_key(std::string_view key, int32_t key_group) override {
    require_key_group(range_, key_group);
    key_.assign(key);
    kg_ = key_group;
    key_hash_ = StateTable::hash_key(key);
    last_.valid = false;
  }

  std::optional<int64_t> value(int state, const Namespace& ns) override {
    uint64_t h = StateTable::hash_entry(key_hash_, ns);
    int64_t* v = table(state).find(key_, ns, h);
    last_ = Lookup{true, state, ns, h, v};
    if (!v) return std::nullopt;
    return *v;
  }

  void update(int state, const Namespace& ns, int64_t value) override {
    if (last_.valid && last_.state == state && last_.ns == ns) {
      // The read-modify-write of every record: value() just probed for this entry.
      last_.valid = false;
      if (last_.value) *last_.value = value;
      else table(state).insert_absent(key_, ns, last_.hash, value);
      return;
    }
    last_.valid = false;
    table(state).put(key_, ns, StateTable::hash_entry(key_hash_, ns), value);
  }

  void clear(int state, const Namespace& ns) override {
    last_.valid = false;
    table(state).erase(key_, ns, StateTable::hash_entry(key_hash_, ns));
  }

  void register_event_timer(const Namespace& ns, int64_t timestamp) override {
    timers_.add(Timer{timestamp, kg_, key_, ns});
  }

  bool poll_timer(int64_t watermark, Timer& out) override {
    const Timer* top = timers_.top();
    if (!top || top->timestamp > watermark) return false;
    out = timers_.pop();
    set_current_key(out.key, out.key_group);
    return true;
  }

  KeyedSnapshot snapshot(bool compress, state::KeyedLayout layout) const override {
    std::vector<KeyedStateInfo> infos;
    for (const auto& s : states_) infos.push_back({s.name, KeyedStateKind::kValue, s.ns});
    if (has_timers_) infos.push_back({timer_name_, KeyedStateKind::kEventTimers, timer_ns_});
    TimerQueue::Grouped timers_by_kg = timers_.group_by_key_group(range_.start, range_.count);

    KeyedSnapshotWriter w(std::move(infos), compress, layout, max_parallelism_);
    // Reserving the exact-ish size avoids regrowing (copying) a buffer of hundreds of MB.
    std::size_t estimate = static_cast<std::size_t>(range_.count) * (4 + 6 * (states_.size() + 1));
    for (const auto& s : states_) {
      std::size_t per_entry = (s.ns == NamespaceKind::kVoid ? 1 : 16) + 8 + 2;
      for (const StateTable& t : s.tables) {
        for (const StateTable::Entry& e : t.entries()) estimate += per_entry + e.key.size();
      }
    }
    for (const Timer& t : timers_.timers())
      estimate += 8 + 2 + t.key.size() + (timer_ns_ == NamespaceKind::kVoid ? 1 : 16);
    w.reserve(estimate);
    KeyedSnapshot out;
    out.range = range_;
    for (int32_t i = 0; i < range_.count; ++i) {
      w.begin_key_group(range_.start + i);
      for (std::size_t si = 0; si < states_.size(); ++si) {
        const StateTable& t = states_[si].tables[static_cast<std::size_t>(i)];
        w.add_state(static_cast<int>(si), static_cast<int32_t>(t.size()));
        for (const StateTable::Entry& e : t.entries()) w.add_value(e.key, e.ns, e.value);
        out.entries += static_cast<int64_t>(t.size());
      }
      if (has_timers_) {
        std::size_t from = timers_by_kg.starts[static_cast<std::size_t>(i)];
        std::size_t to = timers_by_kg.starts[static_cast<std::size_t>(i) + 1];
        w.add_state(static_cast<int>(states_.size()), static_cast<int32_t>(to - from));
        for (std::size_t k = from; k < to; ++k) {
          const Timer& t = timers_.timers()[timers_by_kg.order[k]];
          w.add_timer(t.timestamp, t.key, t.ns);
        }
        out.entries += static_cast<int64_t>(to - from);
      }
    }
    out.payload = w.finish();
    out.offsets = w.offsets();
    return out;
  }

  void restore(std::string_view payload, flink::KeyGroupRange range, const flink::I64Array& offsets,
               bool canonical_handle) override {
    auto index = [&](std::string_view name) {
      for (std::size_t i = 0; i < states_.size(); ++i) {
        if (states_[i].name == name) return static_cast<int>(i);
      }
      return -1;
    };
    restore_through(*this, payload, range, offsets, KeyedSnapshotFacts{max_parallelism_, canonical_handle}, index,
                    has_timers_ ? std::string_view(timer_name_) : std::string_view());
  }

  int64_t num_entries() const override {
    int64_t n = static_cast<int64_t>(timers_.size());
    for (const auto& s : states_) {
      for (const auto& t : s.tables) n += static_cast<int64_t>(t.size());
    }
    return n;
  }

 private:
  StateTable& table(int state) {
    return states_[static_cast<std::size_t>(state)].tables[static_cast<std::size_t>(kg_ - range_.start)];
  }

  // The last value() lookup, valid until the next call that changes a table or the current key.
  // It points into one StateTable's entries, which only an insert or erase there moves.
  struct Lookup {
    bool valid = false;
    int state = -1;
    Namespace ns;
    uint64_t hash = 0;
    int64_t* value = nullptr;  // nullptr: absent
  };

  flink::KeyGroupRange range_;
  std::vector<ValueState> states_;
  Lookup last_;
  std::string key_;
  uint64_t key_hash_ = 0;
  int32_t kg_ = 0;
  int32_t max_parallelism_;
  bool has_timers_ = false;
  std::string timer_name_;
  NamespaceKind timer_ns_ = NamespaceKind::kVoid;
  TimerQueue timers_;
};

}  // namespace

std::unique_ptr<KeyedStateBackend> make_hashmap_backend(flink::KeyGroupRange range, int32_t max_parallelism) {
  return std::make_unique<HashMapBackend>(range, max_parallelism);
}

}  // namespace ckpt::pipeline
