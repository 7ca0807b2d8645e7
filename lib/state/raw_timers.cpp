#include "state/raw_timers.h"

#include <fmt/format.h>

#include <vector>

#include "io/byte_reader.h"
#include "io/decode_error.h"
#include "state/serializer_snapshot.h"
#include "state/strings.h"
#include "state/value_codec.h"

namespace ckpt::state {

namespace {

constexpr std::size_t kMinService = 2 + 8;  // empty name, two empty timer lists (+ serializers)
constexpr std::size_t kMinTimer = 8;        // the timestamp (key and namespace may be empty)

int32_t read_proxy_version(io::ByteReader& r) {
  if (!starts_with_timer_proxy_magic(r.rest())) return 0;  // version 0 wrote no header
  r.bytes(4, "timer proxy magic");
  uint64_t at = r.offset();
  int32_t version = r.i32("timer proxy version");
  if (version < 1 || version > 2) {
    io::ByteReader::fail(at, fmt::format("timer service proxy version {}, expected 1 or 2", version));
  }
  return version;
}

void read_serializers(io::ByteReader& r, int32_t version, TimerService& s) {
  switch (version) {
    case 0:
      s.key = read_java_serializer_object(r);
      s.ns = read_java_serializer_object(r);
      return;
    case 1: {
      uint64_t at = r.offset();
      std::vector<Type> pair = read_resilience_block(r);
      if (pair.size() != 2) {
        io::ByteReader::fail(at,
                             fmt::format("the timer service's serializers are {} entries, expected 2", pair.size()));
      }
      s.key = std::move(pair[0]);
      s.ns = std::move(pair[1]);
      return;
    }
    default:
      s.key = read_versioned_snapshot(r);
      s.ns = read_versioned_snapshot(r);
  }
}

void read_timers(io::ByteReader& r, int32_t key_group, const TimerService& s, bool event_time,
                 const RawTimerVisitor& v) {
  int32_t n = r.count(event_time ? "event-time timer count" : "processing-time timer count", kMinTimer);
  RawTimer t;
  t.key_group = key_group;
  t.service = &s;
  t.event_time = event_time;
  for (int32_t i = 0; i < n; ++i) {
    std::string_view window = r.rest();
    uint64_t start = r.offset();
    std::size_t p0 = r.pos();
    skip_value(r, s.key);
    std::size_t p1 = r.pos();
    skip_value(r, s.ns);
    std::size_t p2 = r.pos();
    t.timestamp = r.i64("timer timestamp");
    t.key = Slice{window.substr(0, p1 - p0), start};
    t.ns = Slice{window.substr(p1 - p0, p2 - p1), start + (p1 - p0)};
    t.bytes = r.pos() - p0;
    v.timer(t);
  }
}

void read_key_group(io::ByteReader& r, int32_t key_group, const RawTimerVisitor& v) {
  int32_t version = read_proxy_version(r);
  int32_t services = r.count("timer service count", kMinService);
  for (int32_t i = 0; i < services; ++i) {
    TimerService s;
    s.name = read_utf(r, "timer service name");
    read_serializers(r, version, s);
    if (v.service) v.service(s, key_group);
    read_timers(r, key_group, s, true, v);
    read_timers(r, key_group, s, false, v);
  }
}

}  // namespace

bool starts_with_timer_proxy_magic(std::string_view bytes) {
  return bytes.size() >= 4 && static_cast<uint32_t>(io::ByteReader(bytes).i32("timer proxy magic")) == kTimerProxyMagic;
}

std::string timer_state_name(const std::string& service, bool event_time) {
  return std::string(event_time ? kEventTimerStatePrefix : kProcessingTimerStatePrefix) + service;
}

void walk_raw_timers(const KeyedPayload& p, const RawTimerVisitor& v) {
  const auto size = static_cast<int64_t>(p.bytes.size());
  // Where each key group ends: at the next written offset, the last at the end of the payload.
  std::vector<int64_t> end(p.offsets.size(), size);
  for (std::size_t i = p.offsets.size(); i-- > 1;) end[i - 1] = p.offsets[i] >= 0 ? p.offsets[i] : end[i];
  for (std::size_t i = 0; i < p.offsets.size(); ++i) {
    const int64_t off = p.offsets[i];
    const int32_t key_group = p.key_group_start + static_cast<int32_t>(i);
    if (off < 0 || (p.only_key_group && *p.only_key_group != key_group)) continue;
    if (off > end[i] || end[i] > size) {
      v.problem(KeyedProblem{key_group, p.base + static_cast<uint64_t>(std::min(off, size)),
                             fmt::format("raw keyed key group at offset {} to {}, outside the payload of {} bytes or "
                                         "before the previous one",
                                         off, end[i], size)});
      continue;
    }
    io::ByteReader r(p.bytes.substr(static_cast<std::size_t>(off), static_cast<std::size_t>(end[i] - off)),
                     p.base + static_cast<uint64_t>(off));
    try {
      read_key_group(r, key_group, v);
    } catch (const io::DecodeError& e) {
      v.problem(KeyedProblem{key_group, e.offset(), e.message()});
    }
  }
}

}  // namespace ckpt::state
