// Timers in raw keyed state (state spec §8.4, §8.5): where Flink kept timers on the heap but could
// not put them in managed state (every backend before Flink 1.6, RocksDB with heap timers after),
// each key group of the subtask's raw keyed stream holds one InternalTimerServiceSerializationProxy:
// its timer services (name, key and namespace serializers) and their event-time and
// processing-time timers, each (key, namespace, i64 timestamp).
//
// Proxy versions: 0 (Flink 1.2-1.4: no magic; the serializers Java-serialized), 1 (1.4.1-1.7: a
// resilience block) and 2 (1.8+: serializer snapshots), told apart by the 0xF1CD859F magic.
//
// Contract: walk_raw_timers reads every written key group (offset != -1) of the handle's range,
// each running to the next written offset (the last to the end of the payload), and calls the
// visitor once per timer in file order. A key group that does not parse is reported through
// `problem` (offset, what was expected) and the next is read. A timer whose key or namespace
// serializer needs the job's classes has no known extent: it ends its key group the same way.
// Bytes after the last service are an operator's own raw keyed state (Flink's own operators
// write none): they are not timers and are not read. Nothing is allocated from an unchecked
// length.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "state/keyed_payload.h"
#include "state/type.h"

namespace ckpt::state {

struct TimerService {
  std::string name;  // "user-timers", "window-timers", ...
  Type key;
  Type ns;
};

struct RawTimer {
  int32_t key_group = 0;
  const TimerService* service = nullptr;
  bool event_time = true;
  Slice key;
  Slice ns;
  int64_t timestamp = 0;
  uint64_t bytes = 0;  // the timer's bytes: key, namespace and timestamp
};

struct RawTimerVisitor {
  std::function<void(const TimerService&, int32_t key_group)> service;  // optional: each service read
  std::function<void(const RawTimer&)> timer;
  std::function<void(const KeyedProblem&)> problem;
};

// `p`'s offsets are the raw keyed handle's (-1 = key group not written); max_parallelism,
// canonical_handle are not used.
void walk_raw_timers(const KeyedPayload& p, const RawTimerVisitor& v);

// PostVersionedIOReadableWritable's magic, which versions 1 and 2 of the proxy begin with.
inline constexpr uint32_t kTimerProxyMagic = 0xF1CD859F;

// Whether `bytes` begin with kTimerProxyMagic (a timer proxy of version 1 or later).
bool starts_with_timer_proxy_magic(std::string_view bytes);

// The name Flink gives a service's timers as managed state (InternalTimeServiceManager):
// "_timer_state/event_<service>" or "_timer_state/processing_<service>".
inline constexpr std::string_view kEventTimerStatePrefix = "_timer_state/event_";
inline constexpr std::string_view kProcessingTimerStatePrefix = "_timer_state/processing_";
std::string timer_state_name(const std::string& service, bool event_time);

}  // namespace ckpt::state
