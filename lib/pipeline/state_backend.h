// The state backend interface of the bundled pipeline: keyed value state with namespaces,
// event-time timers, and key-group-partitioned snapshots (Flink's KeyedStateBackend +
// InternalTimerService, reduced to what the job uses: Long values, String keys, VoidNamespace or
// TimeWindow namespaces).
//
// The interface is byte-oriented at its snapshot boundary and object-oriented at its access
// boundary, so that both backends fit: the hashmap backend keeps objects and serializes at
// snapshot time; a RocksDB backend (separate issue) would serialize key group + key + namespace
// on every access (spec §14.3) and snapshot natively (tag 11) or as key-grouped files (tag 7).
//
// Threading: one backend instance belongs to one operator subtask and is used by its task thread
// only. snapshot() is the synchronous part of a checkpoint; its result is immutable and can be
// written by another thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "pipeline/state_format.h"

namespace ckpt::pipeline {

struct Timer {
  int64_t timestamp = 0;
  int32_t key_group = 0;
  std::string key;
  Namespace ns;
};

// The synchronous part of a keyed snapshot: payload bytes plus one offset per key group.
struct KeyedSnapshot {
  flink::KeyGroupRange range;
  std::string payload;
  std::vector<int64_t> offsets;
  int64_t entries = 0;
};

class KeyedStateBackend {
 public:
  virtual ~KeyedStateBackend() = default;

  virtual flink::KeyGroupRange key_groups() const = 0;

  // Declares a Long value state; returns its index. All states are declared before use/restore.
  virtual int declare_value_state(std::string name, NamespaceKind ns) = 0;
  // Declares the event-time timer queue of the operator (one per operator, as Flink's
  // "_timer_state/event_<service>").
  virtual void declare_timers(std::string name, NamespaceKind ns) = 0;

  // The key that later calls refer to (Flink's setCurrentKey). `key_group` must be in range.
  virtual void set_current_key(std::string_view key, int32_t key_group) = 0;

  virtual std::optional<int64_t> value(int state, const Namespace& ns) = 0;
  virtual void update(int state, const Namespace& ns, int64_t v) = 0;
  virtual void clear(int state, const Namespace& ns) = 0;

  // Registers an event-time timer for the current key (duplicates are ignored, as in Flink).
  virtual void register_event_timer(const Namespace& ns, int64_t timestamp) = 0;
  // Removes the earliest timer with timestamp <= watermark into `out` and makes its key current.
  virtual bool poll_timer(int64_t watermark, Timer& out) = 0;

  virtual KeyedSnapshot snapshot(bool compress) const = 0;
  // Adds the entries of key groups inside key_groups() from one old subtask's snapshot.
  virtual void restore(std::string_view payload, flink::KeyGroupRange range, const flink::I64Array& offsets) = 0;

  virtual int64_t num_entries() const = 0;
};

std::unique_ptr<KeyedStateBackend> make_hashmap_backend(flink::KeyGroupRange range);

}  // namespace ckpt::pipeline
