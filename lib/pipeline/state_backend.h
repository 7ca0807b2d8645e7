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
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "pipeline/snapshot_result.h"
#include "pipeline/state_format.h"
#include "rocks/db_files.h"

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

// A native snapshot's synchronous part (RocksDB): the heap timers as a key-grouped snapshot
// (written as raw keyed state; no key groups when there are none) and the asynchronous part,
// which persists the database files into a checkpoint location.
struct NativeSnapshot {
  KeyedSnapshot timers;
  std::function<NativeKeyedResult(const SnapshotLocation&)> persist;
};

// One old subtask's native RocksDB snapshot to restore from (tag 11).
struct NativePiece {
  std::shared_ptr<const flink::Metadata> metadata;  // keeps `files` (views into it) valid
  rocks::DbFiles files;
  flink::KeyGroupRange range;
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

  // Every entry, in Flink's heap layout (checkpoints, native savepoints) or canonical layout
  // (canonical savepoints).
  virtual KeyedSnapshot snapshot(bool compress, state::KeyedLayout layout = state::KeyedLayout::kHeap) const = 0;
  // Adds the entries of key groups inside key_groups() from one old subtask's snapshot
  // (`canonical_handle`: its keyed handle is tag 7).
  virtual void restore(std::string_view payload, flink::KeyGroupRange range, const flink::I64Array& offsets,
                       bool canonical_handle = false) = 0;

  virtual int64_t num_entries() const = 0;

  // Native checkpoints and native savepoints (`savepoint`: self-contained, nothing shared with
  // checkpoints, no local copy): nullopt for backends that take key-grouped snapshots only (hashmap).
  virtual std::optional<NativeSnapshot> native_snapshot(int64_t /*checkpoint_id*/, bool /*compress*/,
                                                        bool /*savepoint*/) {
    return std::nullopt;
  }
  // Checkpoint `id` completed (Flink's notifyCheckpointComplete): incremental snapshots may reuse
  // its files from now on.
  virtual void notify_checkpoint_complete(int64_t /*id*/) {}
  // Adds the key groups inside key_groups() of native snapshots: every old subtask's piece at
  // once, so that a backend may take one of them as its database (rescaling). Throws
  // util::Error (kUsage) when the backend cannot read native snapshots (and there are some).
  virtual void restore_native(std::span<const NativePiece> pieces);
  void restore_native(const NativePiece& piece) { restore_native(std::span<const NativePiece>(&piece, 1)); }
};

// Throws util::Error (kInternal) unless `key_group` is inside `range` (a key routed to the wrong subtask).
// Inline: it runs once per record.
[[noreturn]] void key_group_out_of_range(flink::KeyGroupRange range, int32_t key_group);
inline void require_key_group(flink::KeyGroupRange range, int32_t key_group) {
  if (key_group < range.start || key_group > range.end_inclusive()) key_group_out_of_range(range, key_group);
}

// KeyedStateBackend::restore through the backend's access interface: every entry of the key
// groups inside b.key_groups() of a key-grouped snapshot goes to the declared state of its name
// (`state_index(name)`: its index, -1 if none) or, for timers, to the timer queue if the
// snapshot's timer state is `timers` (empty: the operator declares none). A state the operator
// does not declare is an io::DecodeError.
void restore_through(KeyedStateBackend& b, std::string_view payload, flink::KeyGroupRange range,
                     const flink::I64Array& offsets, const KeyedSnapshotFacts& facts,
                     const std::function<int(std::string_view)>& state_index, std::string_view timers);

// `max_parallelism`: the operator's (the key-group prefix of canonical snapshots).
std::unique_ptr<KeyedStateBackend> make_hashmap_backend(flink::KeyGroupRange range, int32_t max_parallelism = 128);

}  // namespace ckpt::pipeline
