#include "pipeline/state_format.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <map>

#include "flink/key_groups.h"
#include "io/byte_writer.h"
#include "io/mutf8.h"
#include "state/backend_proxy.h"
#include "state/keyed_payload.h"
#include "state/operator_payload.h"
#include "state/proxy_writer.h"
#include "state/raw_timers.h"
#include "state/snappy_framed.h"
#include "state/type.h"
#include "util/error.h"

namespace ckpt::pipeline {
namespace {

constexpr int32_t kKeyedMagic = 0x434B4B53;  // "CKKS"
constexpr int32_t kFormatVersion = 1;

void put_varint7(std::string& out, uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint32_t get_varint7(io::ByteReader& r, const char* what) {
  uint64_t at = r.offset();
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    uint8_t b = r.u8(what);
    v |= static_cast<uint32_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
  io::ByteReader::fail(at, fmt::format("{}: varint longer than 5 bytes", what));
}

std::string read_utf(io::ByteReader& r, const char* what) {
  uint16_t n = r.u16(what);
  return io::mutf8_to_utf8(r.bytes(n, what));
}

}  // namespace

// StringValue.writeString: UTF-16 units. Modified UTF-8 encodes exactly one UTF-16 unit per
// 1-3 byte sequence, so converting through it yields the units without a UTF-16 buffer.
void write_java_string(std::string& out, std::string_view utf8) {
  if (io::is_plain_ascii(utf8)) {
    put_varint7(out, static_cast<uint32_t>(utf8.size()) + 1);
    out.append(utf8);
    return;
  }
  std::string m = io::utf8_to_mutf8(utf8);
  std::vector<uint16_t> units;
  for (std::size_t i = 0; i < m.size();) {
    auto b = static_cast<unsigned char>(m[i]);
    if (b < 0x80) {
      units.push_back(b);
      i += 1;
    } else if ((b & 0xE0) == 0xC0) {
      units.push_back(static_cast<uint16_t>(((b & 0x1F) << 6) | (static_cast<unsigned char>(m[i + 1]) & 0x3F)));
      i += 2;
    } else {
      units.push_back(static_cast<uint16_t>(((b & 0x0F) << 12) | ((static_cast<unsigned char>(m[i + 1]) & 0x3F) << 6) |
                                            (static_cast<unsigned char>(m[i + 2]) & 0x3F)));
      i += 3;
    }
  }
  put_varint7(out, static_cast<uint32_t>(units.size()) + 1);
  for (uint16_t u : units) put_varint7(out, u);
}

std::string read_java_string(io::ByteReader& r) {
  uint64_t at = r.offset();
  uint32_t len = get_varint7(r, "string length");
  if (len == 0) io::ByteReader::fail(at, "null string where a key was expected");
  --len;
  r.check_fits(at, len, 1, "string length");
  // ASCII (every unit below 0x80 and not 0): each unit is one varint byte, the byte itself.
  std::string_view head = r.rest().substr(0, len);
  if (std::all_of(head.begin(), head.end(), [](char c) { return c > 0; })) return std::string(r.bytes(len, "string"));
  std::string ascii;
  ascii.reserve(len);
  bool plain = true;
  std::string mutf8;
  for (uint32_t i = 0; i < len; ++i) {
    uint32_t c = get_varint7(r, "string character");
    if (c > 0xFFFF) io::ByteReader::fail(r.offset(), "string character above U+FFFF");
    if (plain && c >= 1 && c < 0x80) {
      ascii.push_back(static_cast<char>(c));
      continue;
    }
    if (plain) {
      plain = false;
      mutf8 = ascii;
    }
    if (c >= 1 && c < 0x80) {
      mutf8.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      mutf8.push_back(static_cast<char>(0xC0 | (c >> 6)));
      mutf8.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      mutf8.push_back(static_cast<char>(0xE0 | (c >> 12)));
      mutf8.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      mutf8.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return plain ? ascii : io::mutf8_to_utf8(mutf8);
}

void write_namespace(std::string& out, NamespaceKind kind, const Namespace& ns) {
  io::ByteWriter w(out);
  if (kind == NamespaceKind::kVoid) {
    w.u8(0);
  } else {
    w.i64(ns.start);
    w.i64(ns.end);
  }
}

Namespace read_namespace(io::ByteReader& r, NamespaceKind kind) {
  Namespace ns;
  if (kind == NamespaceKind::kVoid) {
    uint64_t at = r.offset();
    if (r.u8("VoidNamespace") != 0) io::ByteReader::fail(at, "VoidNamespace byte is not 0");
  } else {
    ns.start = r.i64("TimeWindow start");
    ns.end = r.i64("TimeWindow end");
  }
  return ns;
}

// --- keyed snapshots ----------------------------------------------------------------------------

namespace {

state::SnapshotSpec namespace_serializer(NamespaceKind kind) {
  return kind == NamespaceKind::kVoid ? state::void_namespace_serializer() : state::time_window_serializer();
}

constexpr uint64_t kTimestampFlip = 0x8000000000000000ULL;  // TimerSerializer (spec §5.5)
constexpr uint16_t kEndOfKeyGroup = 0xFFFF;                 // canonical layout (spec §7.2)
constexpr char kMetaDataFollows = static_cast<char>(0x80);

}  // namespace

std::string keyed_proxy_of(const std::vector<KeyedStateInfo>& states, bool compressed) {
  std::vector<state::StateMetaSpec> metas;
  for (const auto& s : states) {
    if (s.kind == KeyedStateKind::kValue) {
      metas.push_back(state::keyed_state(s.name, "VALUE", state::long_serializer(), namespace_serializer(s.ns)));
    } else {
      metas.push_back(state::priority_queue_state(
          s.name, state::timer_serializer(state::string_serializer(), namespace_serializer(s.ns))));
    }
  }
  return state::write_keyed_proxy(compressed, state::string_serializer(), metas);
}

KeyedSnapshotWriter::KeyedSnapshotWriter(std::vector<KeyedStateInfo> states, bool compress, state::KeyedLayout layout,
                                         int32_t max_parallelism)
    : states_(std::move(states)),
      compress_(compress),
      layout_(layout),
      prefix_bytes_(state::key_group_prefix_bytes(max_parallelism)) {
  out_ = keyed_proxy_of(states_, compress_);
}

void KeyedSnapshotWriter::begin_key_group(int32_t kg) {
  if (open_) end_key_group();
  open_ = true;
  kg_ = kg;
  current_state_ = -1;
  remaining_ = 0;
  kg_has_data_ = false;
  body_.clear();
  if (layout_ == state::KeyedLayout::kHeap) {
    offsets_.push_back(static_cast<int64_t>(out_.size()));
    io::ByteWriter(out_).i32(kg);  // never compressed
  }
}

void KeyedSnapshotWriter::end_state_block() {
  // Heap layout: each state's block is its own Snappy stream when compressed.
  if (compress_ && layout_ == state::KeyedLayout::kHeap && current_state_ >= 0) {
    state::append_framed(out_, body_);
    body_.clear();
  }
}

void KeyedSnapshotWriter::add_state(int index, int32_t count) {
  if (layout_ == state::KeyedLayout::kHeap) {
    end_state_block();
    current_state_ = index;
    io::ByteWriter w(target());
    w.u16(static_cast<uint16_t>(index));
    w.i32(count);
    return;
  }
  current_state_ = index;
  remaining_ = count;
  if (count == 0) return;  // a state without entries is absent from its key group
  if (!kg_has_data_) {
    kg_has_data_ = true;
    offsets_start_ = static_cast<int64_t>(out_.size());
  }
  // The first state's id, or (after the previous run's flagged last record) the next state's.
  io::ByteWriter(target()).u16(static_cast<uint16_t>(index));
}

void KeyedSnapshotWriter::canonical_record(std::string_view key_tail, std::string_view value) {
  std::string& t = target();
  io::ByteWriter w(t);
  w.i32(static_cast<int32_t>(prefix_bytes_ + key_tail.size()));
  std::size_t key_at = t.size();
  if (prefix_bytes_ == 2) t += static_cast<char>((kg_ >> 8) & 0xFF);
  t += static_cast<char>(kg_ & 0xFF);
  t += key_tail;
  if (--remaining_ == 0) t[key_at] = static_cast<char>(t[key_at] | kMetaDataFollows);  // last of its run
  w.i32(static_cast<int32_t>(value.size()));
  t += value;
}

void KeyedSnapshotWriter::add_value(std::string_view key, const Namespace& ns, int64_t value) {
  NamespaceKind nk = states_[static_cast<std::size_t>(current_state_)].ns;
  if (layout_ == state::KeyedLayout::kHeap) {
    std::string& t = target();
    write_namespace(t, nk, ns);  // namespace first (spec §7.1)
    write_java_string(t, key);
    io::ByteWriter(t).i64(value);
    return;
  }
  scratch_key_.clear();
  write_java_string(scratch_key_, key);
  write_namespace(scratch_key_, nk, ns);
  scratch_value_.clear();
  io::ByteWriter(scratch_value_).i64(value);
  canonical_record(scratch_key_, scratch_value_);
}

void KeyedSnapshotWriter::add_timer(int64_t timestamp, std::string_view key, const Namespace& ns) {
  NamespaceKind nk = states_[static_cast<std::size_t>(current_state_)].ns;
  std::string& element = layout_ == state::KeyedLayout::kHeap ? target() : scratch_key_;
  if (layout_ == state::KeyedLayout::kCanonical) scratch_key_.clear();
  io::ByteWriter(element).i64(static_cast<int64_t>(static_cast<uint64_t>(timestamp) ^ kTimestampFlip));
  write_java_string(element, key);
  write_namespace(element, nk, ns);
  if (layout_ == state::KeyedLayout::kCanonical) canonical_record(scratch_key_, {});  // the element is the key
}

void KeyedSnapshotWriter::end_key_group() {
  if (layout_ == state::KeyedLayout::kHeap) {
    end_state_block();
  } else {
    if (kg_has_data_) {
      io::ByteWriter(target()).u16(kEndOfKeyGroup);
      if (compress_) state::append_framed(out_, body_);  // one stream per key group
    }
    offsets_.push_back(kg_has_data_ ? offsets_start_ : 0);  // 0: the key group has no data
  }
  open_ = false;
}

std::string KeyedSnapshotWriter::finish() {
  if (open_) end_key_group();
  return std::move(out_);
}

namespace {
constexpr int32_t kTimerProxyVersion = 2;  // InternalTimerServiceSerializationProxy
}  // namespace

RawTimersWriter::RawTimersWriter(std::string_view timer_state, NamespaceKind ns) : ns_(ns) {
  if (!timer_state.empty()) {
    service_ = timer_state.starts_with(state::kEventTimerStatePrefix)
                   ? timer_state.substr(state::kEventTimerStatePrefix.size())
                   : timer_state;
  }
}

void RawTimersWriter::begin_key_group(int32_t /*kg*/, int32_t timers) {
  if (open_) end_key_group();
  offsets_.push_back(static_cast<int64_t>(out_.size()));
  io::ByteWriter w(out_);
  w.i32(static_cast<int32_t>(state::kTimerProxyMagic));
  w.i32(kTimerProxyVersion);
  w.i32(service_.empty() ? 0 : 1);
  if (service_.empty()) return;
  state::write_utf(w, service_);
  state::write_versioned_snapshot(w, state::string_serializer());
  state::write_versioned_snapshot(w, namespace_serializer(ns_));
  w.i32(timers);  // event-time timers; the processing-time count follows them
  open_ = true;
}

void RawTimersWriter::add_timer(int64_t timestamp, std::string_view key, const Namespace& ns) {
  write_java_string(out_, key);  // LegacyTimerSerializer: key, namespace, plain timestamp
  write_namespace(out_, ns_, ns);
  io::ByteWriter(out_).i64(timestamp);
}

void RawTimersWriter::end_key_group() {
  io::ByteWriter(out_).i32(0);  // processing-time timers
  open_ = false;
}

std::string RawTimersWriter::finish() {
  if (open_) end_key_group();
  return std::move(out_);
}

namespace {

// ckpt 0.1's compressed key groups: one zstd frame with its content size.
std::string zstd_decompress(std::string_view in, std::string_view what) {
  unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 32)) {
    throw io::DecodeError(0, fmt::format("{}: not a zstd frame with a known size", what));
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != size) {
    throw io::DecodeError(0, fmt::format("{}: zstd: {}", what, ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame"));
  }
  return out;
}

// The "CKKS" keyed snapshots ckpt 0.1 wrote: a header of its own, then the heap layout with plain
// timer timestamps and zstd-compressed key groups.
void read_ckks_snapshot(std::string_view payload, flink::KeyGroupRange range, const flink::I64Array& offsets,
                        flink::KeyGroupRange want,
                        const std::function<void(const KeyedStateInfo&, const KeyedEntry&)>& fn) {
  io::ByteReader h(payload);
  if (h.i32("magic") != kKeyedMagic) io::ByteReader::fail(0, "not a ckpt keyed state snapshot (magic is not CKKS)");
  int32_t version = h.i32("version");
  if (version != kFormatVersion)
    io::ByteReader::fail(4, fmt::format("keyed snapshot version {} (expected 1)", version));
  uint8_t compression = h.u8("compression");
  if (compression > 1) io::ByteReader::fail(8, fmt::format("unknown compression {}", compression));
  int32_t n = h.count("state count", 9);
  std::vector<KeyedStateInfo> states;
  for (int32_t i = 0; i < n; ++i) {
    KeyedStateInfo s;
    s.name = read_utf(h, "state name");
    uint64_t at = h.offset();
    uint8_t kind = h.u8("state kind");
    if (kind > 1) io::ByteReader::fail(at, fmt::format("unknown state kind {}", kind));
    s.kind = static_cast<KeyedStateKind>(kind);
    read_utf(h, "key serializer");
    std::string nss = read_utf(h, "namespace serializer");
    s.ns = nss == "VoidNamespaceSerializer" ? NamespaceKind::kVoid : NamespaceKind::kTimeWindow;
    read_utf(h, "value serializer");
    states.push_back(std::move(s));
  }
  if (static_cast<int64_t>(offsets.size()) != std::max(range.count, 0)) {
    io::ByteReader::fail(0, fmt::format("handle has {} offsets for {} key groups", offsets.size(), range.count));
  }
  for (int32_t i = 0; i < range.count; ++i) {
    int32_t kg = range.start + i;
    if (kg < want.start || kg > want.end_inclusive()) continue;
    int64_t off = offsets[static_cast<std::size_t>(i)];
    if (off < 0 || static_cast<uint64_t>(off) >= payload.size()) {
      io::ByteReader::fail(
          0, fmt::format("key group {} offset {} is outside the {}-byte payload", kg, off, payload.size()));
    }
    io::ByteReader r(payload.substr(static_cast<std::size_t>(off)), static_cast<uint64_t>(off));
    int32_t stored = r.i32("key group");
    if (stored != kg)
      io::ByteReader::fail(static_cast<uint64_t>(off), fmt::format("key group {} where {} was expected", stored, kg));
    std::string body_store;
    std::string_view body;
    uint64_t base = r.offset();
    if (compression == 1) {
      int32_t len = r.count("compressed length", 1);
      body_store =
          zstd_decompress(r.bytes(static_cast<uint64_t>(len), "compressed key group"), fmt::format("key group {}", kg));
      body = body_store;
    } else {
      body = r.rest();
    }
    io::ByteReader b(body, base);
    for (std::size_t s = 0; s < states.size(); ++s) {
      uint64_t at = b.offset();
      uint16_t idx = b.u16("state index");
      if (idx >= states.size())
        io::ByteReader::fail(at, fmt::format("state index {} of {} states", idx, states.size()));
      const KeyedStateInfo& info = states[idx];
      int32_t count = b.count("entry count", 2);
      for (int32_t e = 0; e < count; ++e) {
        KeyedEntry entry;
        entry.key_group = kg;
        std::string key;
        if (info.kind == KeyedStateKind::kValue) {
          entry.ns = read_namespace(b, info.ns);
          key = read_java_string(b);
          entry.value = b.i64("value");
        } else {
          entry.value = b.i64("timer timestamp");
          key = read_java_string(b);
          entry.ns = read_namespace(b, info.ns);
        }
        entry.key = key;
        fn(info, entry);
      }
    }
  }
}

// The pipeline's namespace for a namespace serializer's type (`what` names its state or timer
// service in the error, at byte `at`).
NamespaceKind namespace_kind_of(const state::Type* ns, const std::string& what, uint64_t at) {
  if (ns != nullptr && ns->kind == state::Kind::kVoidNamespace) return NamespaceKind::kVoid;
  if (ns != nullptr && ns->kind == state::Kind::kTimeWindow) return NamespaceKind::kTimeWindow;
  io::ByteReader::fail(at, fmt::format("{} has namespace {}, expected VoidNamespace or TimeWindow", what,
                                       ns == nullptr ? "?" : state::type_name(*ns)));
}

// What a state of a Flink keyed proxy is to the pipeline: a VALUE state of Longs or event-time
// timers, with String keys and a VoidNamespace or TimeWindow namespace.
KeyedStateInfo info_of(const state::StateMeta& m) {
  KeyedStateInfo info;
  info.name = m.name;
  const state::Type* ns = nullptr;
  if (m.backend == state::BackendStateType::kPriorityQueue) {
    info.kind = KeyedStateKind::kEventTimers;
    const state::Type* t = m.serializer("VALUE_SERIALIZER");
    if (t != nullptr && t->kind == state::Kind::kTimer && t->children.size() == 2) ns = &t->children[1];
  } else {
    const state::Type* v = m.serializer("VALUE_SERIALIZER");
    if (m.keyed_kind() != "VALUE" || v == nullptr || v->kind != state::Kind::kLong) {
      io::ByteReader::fail(0, fmt::format("state '{}' is a {} state of {}, expected a VALUE state of Long", m.name,
                                          m.keyed_kind(), v == nullptr ? "?" : state::type_name(*v)));
    }
    ns = m.serializer("NAMESPACE_SERIALIZER");
  }
  info.ns = namespace_kind_of(ns, fmt::format("state '{}'", m.name), 0);
  return info;
}

// Heap timers in raw keyed state (RawTimersWriter's format, and Flink's): event-time timers only.
void read_raw_timers(const state::KeyedPayload& kp, flink::KeyGroupRange want,
                     const std::function<void(const KeyedStateInfo&, const KeyedEntry&)>& fn) {
  state::RawTimerVisitor v;
  v.timer = [&](const state::RawTimer& t) {
    if (t.key_group < want.start || t.key_group > want.end_inclusive()) return;
    if (!t.event_time) {
      io::ByteReader::fail(
          t.key.offset, fmt::format("a processing-time timer of service '{}': the pipeline has none", t.service->name));
    }
    KeyedStateInfo info;
    info.name = state::timer_state_name(t.service->name, true);
    info.kind = KeyedStateKind::kEventTimers;
    info.ns = namespace_kind_of(&t.service->ns, fmt::format("timer service '{}'", t.service->name), t.ns.offset);
    io::ByteReader k(t.key.bytes, t.key.offset);
    std::string key = read_java_string(k);
    io::ByteReader n(t.ns.bytes, t.ns.offset);
    KeyedEntry e;
    e.key_group = t.key_group;
    e.ns = read_namespace(n, info.ns);
    e.value = t.timestamp;
    e.key = key;
    fn(info, e);
  };
  v.problem = [](const state::KeyedProblem& p) {
    throw io::DecodeError(p.offset, fmt::format("key group {}: {}", p.key_group, p.message));
  };
  state::walk_raw_timers(kp, v);
}

}  // namespace

void read_keyed_snapshot(std::string_view payload, flink::KeyGroupRange range, const flink::I64Array& offsets,
                         flink::KeyGroupRange want, const KeyedSnapshotFacts& facts,
                         const std::function<void(const KeyedStateInfo&, const KeyedEntry&)>& fn) {
  if (payload.substr(0, 4) == "CKKS") return read_ckks_snapshot(payload, range, offsets, want, fn);
  if (static_cast<int64_t>(offsets.size()) != std::max(range.count, 0)) {
    io::ByteReader::fail(0, fmt::format("handle has {} offsets for {} key groups", offsets.size(), range.count));
  }
  state::KeyedPayload kp;
  kp.bytes = payload;
  kp.key_group_start = range.start;
  for (std::size_t i = 0; i < offsets.size(); ++i) kp.offsets.push_back(offsets[i]);
  kp.max_parallelism = facts.max_parallelism;
  kp.canonical_handle = facts.canonical_handle;
  if (state::starts_with_timer_proxy_magic(payload)) {
    read_raw_timers(kp, want, fn);
    return;
  }
  state::KeyedProxy proxy = state::read_keyed_proxy(payload);
  if (proxy.key.kind != state::Kind::kString) {
    io::ByteReader::fail(4, fmt::format("keys are {}, expected String", state::type_name(proxy.key)));
  }
  std::vector<KeyedStateInfo> infos;
  for (const auto& m : proxy.states) infos.push_back(info_of(m));
  auto whole = [](const state::Slice& s, const char* what, auto&& read) {
    io::ByteReader r(s.bytes, s.offset);
    auto v = read(r);
    if (!r.at_end()) io::ByteReader::fail(r.offset(), fmt::format("{} bytes after the {}", r.remaining(), what));
    return v;
  };
  state::KeyedVisitor v;
  v.record = [&](const state::KeyedRecord& rec) {
    if (rec.key_group < want.start || rec.key_group > want.end_inclusive()) return;
    const KeyedStateInfo& info = infos[rec.state];
    KeyedEntry e;
    e.key_group = rec.key_group;
    std::string key;
    if (info.kind == KeyedStateKind::kEventTimers) {
      io::ByteReader r(rec.value.bytes, rec.value.offset);  // the TimerSerializer element
      e.value = static_cast<int64_t>(static_cast<uint64_t>(r.i64("timer timestamp")) ^ kTimestampFlip);
      key = read_java_string(r);
      e.ns = read_namespace(r, info.ns);
      if (!r.at_end()) io::ByteReader::fail(r.offset(), fmt::format("{} bytes after a timer", r.remaining()));
    } else {
      key = whole(rec.key, "key", [](io::ByteReader& r) { return read_java_string(r); });
      e.ns = whole(rec.ns, "namespace", [&](io::ByteReader& r) { return read_namespace(r, info.ns); });
      e.value = whole(rec.value, "value", [](io::ByteReader& r) { return r.i64("value"); });
    }
    e.key = key;
    fn(info, e);
  };
  v.problem = [](const state::KeyedProblem& p) {
    throw io::DecodeError(p.offset, fmt::format("key group {}: {}", p.key_group, p.message));
  };
  state::walk_keyed_payload(kp, proxy, state::detect_keyed_layout(kp, proxy), v);
}

// --- operator list state -------------------------------------------------------------------------

OperatorStatePayload write_operator_state(const std::vector<ListStateData>& states, bool compress) {
  std::vector<state::StateMetaSpec> metas;
  for (const auto& st : states) {
    const char* mode = st.mode == flink::DistributionMode::kUnion ? "UNION" : "SPLIT_DISTRIBUTE";
    metas.push_back(state::operator_list_state(st.name, mode, state::byte_array_serializer()));
  }
  OperatorStatePayload p;
  p.bytes = state::write_operator_proxy(compress, metas, {});
  if (compress) state::append_stream_identifier(p.bytes);
  std::string element;
  for (const auto& st : states) {
    auto& offs = p.offsets.emplace_back();
    for (const auto& e : st.elements) {
      offs.push_back(static_cast<int64_t>(p.bytes.size()));
      std::string& to = compress ? element : p.bytes;
      element.clear();
      io::ByteWriter w(to);
      w.i32(static_cast<int32_t>(e.size()));
      w.bytes(e);
      if (compress) state::append_chunks(p.bytes, element);
    }
  }
  return p;
}

namespace {

// One byte[] element as BytePrimitiveArraySerializer writes it: `i32 length` + bytes.
std::string read_byte_array(io::ByteReader& r) {
  int32_t len = r.count("element length", 1);
  return std::string(r.bytes(static_cast<uint64_t>(len), "element"));
}

}  // namespace

std::vector<ListStateData> read_operator_state(std::string_view payload,
                                               const std::vector<flink::OperatorStateEntry>& entries) {
  std::map<std::string, std::vector<std::string>, std::less<>> elements;  // by state, in order
  if (payload.substr(0, 4) == "CKOS") {  // ckpt 0.1: i32 magic, i32 version 1, the states' names
    io::ByteReader h(payload);
    h.i32("magic");
    int32_t version = h.i32("version");
    if (version != kFormatVersion)
      io::ByteReader::fail(4, fmt::format("operator state version {} (expected 1)", version));
    int32_t n = h.count("state count", 4);
    for (int32_t i = 0; i < n; ++i) {
      read_utf(h, "state name");
      h.u8("mode");
      read_utf(h, "element serializer");
    }
    for (const auto& e : entries) {
      std::string name = io::mutf8_to_utf8(e.name);
      for (std::size_t i = 0; i < e.offsets.size(); ++i) {
        int64_t off = e.offsets[i];
        if (off < 0 || static_cast<uint64_t>(off) >= payload.size()) {
          io::ByteReader::fail(0, fmt::format("state '{}' element {} offset {} is outside the {}-byte payload", name, i,
                                              off, payload.size()));
        }
        io::ByteReader r(payload.substr(static_cast<std::size_t>(off)), static_cast<uint64_t>(off));
        elements[name].push_back(read_byte_array(r));
      }
    }
  } else {
    // Flink's format, through the state spec's reader (offsets, compression).
    state::OperatorProxy proxy = state::read_operator_proxy(payload);
    for (const auto& m : proxy.states) {
      const state::Type* t = m.serializer("VALUE_SERIALIZER");
      if (t == nullptr || t->kind != state::Kind::kPrimitiveArray || t->children.empty() ||
          t->children[0].kind != state::Kind::kByte) {
        io::ByteReader::fail(0, fmt::format("operator state '{}' holds {}, expected byte[] elements", m.name,
                                            t == nullptr ? std::string("no serializer") : state::type_name(*t)));
      }
    }
    std::vector<state::PartitionOffsets> parts;
    for (const auto& e : entries) {
      state::PartitionOffsets po;
      po.name = io::mutf8_to_utf8(e.name);
      for (std::size_t i = 0; i < e.offsets.size(); ++i) po.offsets.push_back(e.offsets[i]);
      parts.push_back(std::move(po));
    }
    state::OperatorVisitor v;
    v.record = [&](const state::OperatorRecord& rec) {
      io::ByteReader r(rec.element.bytes, rec.element.offset);
      elements[std::string(rec.name)].push_back(read_byte_array(r));
      if (!r.at_end()) io::ByteReader::fail(r.offset(), fmt::format("{} bytes after an element", r.remaining()));
    };
    v.problem = [](const state::OperatorProblem& p) {
      throw io::DecodeError(p.offset, fmt::format("state '{}': {}", p.state, p.message));
    };
    state::walk_operator_payload(payload, 0, proxy, parts, v);
  }
  std::vector<ListStateData> out;
  for (const auto& e : entries) {
    ListStateData s;
    s.name = io::mutf8_to_utf8(e.name);
    s.mode = static_cast<flink::DistributionMode>(e.mode);
    if (auto it = elements.find(s.name); it != elements.end()) s.elements = std::move(it->second);
    out.push_back(std::move(s));
  }
  return out;
}

// --- channel state -----------------------------------------------------------------------------

std::string serialize_buffer(std::span<const Record> records) {
  std::string out;
  io::ByteWriter w(out);
  w.i32(static_cast<int32_t>(records.size()));
  for (const auto& r : records) {
    write_java_string(out, r.word);
    w.i64(r.timestamp);
  }
  return out;
}

void deserialize_buffer(std::string_view bytes, std::vector<Record>& out, int32_t max_parallelism) {
  io::ByteReader r(bytes);
  int32_t n = r.count("record count", 9);
  for (int32_t i = 0; i < n; ++i) {
    Record rec;
    rec.word = read_java_string(r);
    rec.timestamp = r.i64("timestamp");
    rec.key_group = flink::key_group_for_hash(flink::java_hash_string(rec.word), max_parallelism);
    out.push_back(std::move(rec));
  }
}

}  // namespace ckpt::pipeline
