#include "pipeline/state_backend.h"

#include <fmt/format.h>

#include <stdexcept>

#include "io/decode_error.h"
#include "util/error.h"

namespace ckpt::pipeline {

void KeyedStateBackend::restore_native(std::span<const NativePiece> pieces) {
  if (pieces.empty()) return;
  const NativePiece& piece = pieces.front();
  throw util::Error(util::ErrorKind::kUsage,
                    fmt::format("{}: a native RocksDB snapshot (tag 11) cannot restore into the configured hashmap "
                                "backend: set state.backend.type: rocksdb, or leave it unset to take the snapshot's",
                                piece.files.where));
}

void key_group_out_of_range(flink::KeyGroupRange range, int32_t key_group) {
  throw util::Error(util::ErrorKind::kInternal, fmt::format("key group {} outside backend range {}-{}", key_group,
                                                            range.start, range.end_inclusive()));
}

void restore_through(KeyedStateBackend& b, std::string_view payload, flink::KeyGroupRange range,
                     const flink::I64Array& offsets, const KeyedSnapshotFacts& facts,
                     const std::function<int(std::string_view)>& state_index, std::string_view timers) {
  const KeyedStateInfo* last = nullptr;  // the state of the previous entry and its index: states
  int last_index = -1;                   // come in runs, so names are looked up once per run
  read_keyed_snapshot(
      payload, range, offsets, b.key_groups(), facts, [&](const KeyedStateInfo& info, const KeyedEntry& e) {
        b.set_current_key(e.key, e.key_group);
        if (info.kind == KeyedStateKind::kEventTimers) {
          if (timers.empty() || info.name != timers) {
            throw io::DecodeError(0, fmt::format("snapshot has timers '{}' the operator does not declare", info.name));
          }
          b.register_event_timer(e.ns, e.value);
          return;
        }
        if (&info != last) {
          last = &info;
          last_index = state_index(info.name);
        }
        int i = last_index;
        if (i < 0)
          throw io::DecodeError(0, fmt::format("snapshot has state '{}' the operator does not declare", info.name));
        b.update(i, e.ns, e.value);
      });
}

}  // namespace ckpt::pipeline
