#include "state/keyed_payload.h"

#include <fmt/format.h>

#include "io/byte_reader.h"
#include "state/snappy_framed.h"
#include "state/value_codec.h"

namespace ckpt::state {

using io::ByteReader;

namespace {

constexpr uint16_t kEndOfKeyGroup = 0xFFFF;  // FullSnapshotUtil.END_OF_KEY_GROUP_MARK
constexpr uint8_t kMetaDataFollows = 0x80;   // FullSnapshotUtil.FIRST_BIT_IN_BYTE_MASK

const Type kOpaqueType{};

const Type& serializer_or_opaque(const StateMeta& m, std::string_view key) {
  const Type* t = m.serializer(key);
  return t == nullptr ? kOpaqueType : *t;
}

Slice take(ByteReader& r, uint64_t start_pos, std::string_view buffer, uint64_t base) {
  return Slice{buffer.substr(start_pos, r.pos() - start_pos), base + start_pos};
}

// The byte range of key group i: from its offset to the next real offset (or the payload's end).
struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
};

std::vector<Range> key_group_ranges(const KeyedPayload& p) {
  std::vector<Range> out(p.offsets.size());
  uint64_t end = p.bytes.size();
  for (std::size_t i = p.offsets.size(); i-- > 0;) {
    int64_t off = p.offsets[i];
    if (off <= 0) continue;  // no data (canonical) or not written (raw)
    out[i] = Range{static_cast<uint64_t>(off), end};
    end = static_cast<uint64_t>(off);
  }
  return out;
}

class Walker {
 public:
  Walker(const KeyedPayload& p, const KeyedProxy& proxy, const KeyedVisitor& v) : p_(p), proxy_(proxy), v_(v) {}

  void heap() {
    each_key_group(true, [&](int32_t g, std::string_view block, uint64_t block_base) {
      ByteReader head(block, block_base);
      int32_t stored = head.i32("key group number");
      if (stored != g) ByteReader::fail(block_base, fmt::format("key group number {}, expected {}", stored, g));
      if (proxy_.compressed) {
        std::string data = decompress_framed(head.rest(), head.offset());
        heap_key_group(g, data, 0);
      } else {
        heap_key_group(g, head.rest(), head.offset());
      }
    });
  }

  void canonical() {
    each_key_group(false, [&](int32_t g, std::string_view block, uint64_t block_base) {
      if (proxy_.compressed) {
        std::string data = decompress_framed(block, block_base);
        canonical_key_group(g, data, 0);
      } else {
        canonical_key_group(g, block, block_base);
      }
    });
  }

 private:
  // Calls `read(g, block, base)` for every key group with data (the heap layout has data in
  // every one: `every`), each block running to the next offset; a block that throws is reported
  // and the next one read.
  template <typename Read>
  void each_key_group(bool every, const Read& read) {
    std::vector<Range> ranges = key_group_ranges(p_);
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      int32_t g = p_.key_group_start + static_cast<int32_t>(i);
      if (p_.only_key_group && *p_.only_key_group != g) continue;
      if (p_.offsets[i] <= 0) {
        if (every) {
          problem(g, p_.base,
                  fmt::format("key group {} has offset {}; the heap layout writes every key group", g, p_.offsets[i]));
        }
        continue;
      }
      Range rg = ranges[i];
      if (rg.begin > p_.bytes.size() || rg.begin < proxy_.length) {
        problem(g, p_.base,
                fmt::format("key group {} at offset {} lies outside the {} bytes after the proxy", g, rg.begin,
                            p_.bytes.size()));
        continue;
      }
      try {
        read(g, p_.bytes.substr(rg.begin, rg.end - rg.begin), p_.base + rg.begin);
      } catch (const io::DecodeError& e) {
        problem(g, e.offset(), e.message());
      }
    }
  }

  void problem(int32_t g, uint64_t offset, std::string message) {
    if (v_.problem) v_.problem(KeyedProblem{g, offset, std::move(message)});
  }

  const StateMeta& state_at(uint64_t at, int id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= proxy_.states.size()) {
      ByteReader::fail(at, fmt::format("state id {}, but the proxy lists {} states", id, proxy_.states.size()));
    }
    return proxy_.states[static_cast<std::size_t>(id)];
  }

  // Heap layout (spec §7.1): per state, i16 id, then i32 n and n entries.
  void heap_key_group(int32_t g, std::string_view data, uint64_t base) {
    ByteReader r(data, base);
    for (std::size_t s = 0; s < proxy_.states.size(); ++s) {
      uint64_t at = r.offset();
      int id = static_cast<int16_t>(r.u16("state id"));
      const StateMeta& m = state_at(at, id);
      if (proxy_.version == 1) {
        heap_v1_state(g, r, data, base, static_cast<std::size_t>(id), m);
        continue;
      }
      bool pq = m.backend == BackendStateType::kPriorityQueue;
      int32_t n = r.count("number of entries", 1);
      const Type& value = serializer_or_opaque(m, "VALUE_SERIALIZER");
      const Type& ns = serializer_or_opaque(m, "NAMESPACE_SERIALIZER");
      for (int32_t k = 0; k < n; ++k) {
        KeyedRecord rec;
        rec.key_group = g;
        rec.state = static_cast<std::size_t>(id);
        if (!pq) {
          uint64_t p0 = r.pos();
          skip_value(r, ns);
          rec.ns = take(r, p0, data, base);
          uint64_t p1 = r.pos();
          skip_value(r, proxy_.key);
          rec.key = take(r, p1, data, base);
        }
        uint64_t p2 = r.pos();
        skip_value(r, value);
        rec.value = take(r, p2, data, base);
        if (v_.record) v_.record(rec);
      }
    }
    if (!r.at_end()) {
      ByteReader::fail(r.offset(), fmt::format("{} bytes after the last state of key group {}", r.remaining(), g));
    }
  }

  // Flink 1.2 (keyed proxy 1, spec §7.1.2): per namespace, its entries.
  void heap_v1_state(int32_t g, ByteReader& r, std::string_view data, uint64_t base, std::size_t id,
                     const StateMeta& m) {
    if (r.u8("state present") == 0) return;
    const Type& value = serializer_or_opaque(m, "VALUE_SERIALIZER");
    const Type& ns = serializer_or_opaque(m, "NAMESPACE_SERIALIZER");
    int32_t namespaces = r.count("number of namespaces", 5);
    for (int32_t i = 0; i < namespaces; ++i) {
      uint64_t p0 = r.pos();
      skip_value(r, ns);
      Slice ns_slice = take(r, p0, data, base);
      int32_t n = r.count("number of entries", 1);
      for (int32_t k = 0; k < n; ++k) {
        KeyedRecord rec;
        rec.key_group = g;
        rec.state = id;
        rec.ns = ns_slice;
        uint64_t p1 = r.pos();
        skip_value(r, proxy_.key);
        rec.key = take(r, p1, data, base);
        uint64_t p2 = r.pos();
        skip_value(r, value);
        rec.value = take(r, p2, data, base);
        if (v_.record) v_.record(rec);
      }
    }
  }

  // Canonical layout (spec §7.2): u16 state id, then length-prefixed (key, value) records; the
  // last record of a state's run has the flag bit in its first key byte, followed by the next id
  // or the end mark.
  void canonical_key_group(int32_t g, std::string_view data, uint64_t base) {
    ByteReader r(data, base);
    int prefix = key_group_prefix_bytes(p_.max_parallelism);
    uint64_t at = r.offset();
    int id = r.u16("state id");
    const StateMeta* m = &state_at(at, id);
    for (;;) {
      uint64_t key_at = r.offset();
      int32_t key_len = r.count("key length", 1);
      std::string_view key = r.bytes(static_cast<uint64_t>(key_len), "key");
      int32_t value_len = r.count("value length", 1);
      uint64_t value_at = r.offset();
      std::string_view value = r.bytes(static_cast<uint64_t>(value_len), "value");
      if (key_len < prefix)
        ByteReader::fail(key_at,
                         fmt::format("key of {} bytes, shorter than its {}-byte key-group prefix", key_len, prefix));
      auto first = static_cast<uint8_t>(key[0]);
      bool last_of_run = (first & kMetaDataFollows) != 0;
      int32_t stored = first & ~kMetaDataFollows;
      if (prefix == 2) stored = (stored << 8) | static_cast<uint8_t>(key[1]);
      if (stored != g) ByteReader::fail(key_at + 4, fmt::format("key in key group {}, expected {}", stored, g));
      KeyedRecord rec;
      rec.key_group = g;
      rec.state = static_cast<std::size_t>(id);
      rec.rocksdb_format = true;
      Slice after{key.substr(static_cast<std::size_t>(prefix)), key_at + 4 + static_cast<uint64_t>(prefix)};
      if (auto why = fill_rocksdb_record(after, Slice{value, value_at}, *m, proxy_.key, rec)) {
        problem(g, rec.key.offset, *why);  // the record is delimited: report it and go on
      }
      if (v_.record) v_.record(rec);
      if (last_of_run) {
        uint64_t next_at = r.offset();
        uint16_t next = r.u16("next state id");
        if (next == kEndOfKeyGroup) break;
        id = next;
        m = &state_at(next_at, id);
      }
    }
    if (!r.at_end()) {
      ByteReader::fail(r.offset(), fmt::format("{} bytes after the end mark of key group {}", r.remaining(), g));
    }
  }

  const KeyedPayload& p_;
  const KeyedProxy& proxy_;
  const KeyedVisitor& v_;
};

}  // namespace

std::string_view keyed_layout_name(KeyedLayout l) { return l == KeyedLayout::kHeap ? "heap" : "canonical"; }

int key_group_prefix_bytes(int32_t max_parallelism) { return max_parallelism > 128 ? 2 : 1; }

KeyedLayout detect_keyed_layout(const KeyedPayload& p, const KeyedProxy& proxy) {
  if (p.canonical_handle) return KeyedLayout::kCanonical;
  for (int64_t off : p.offsets) {
    if (off <= 0) return KeyedLayout::kCanonical;
  }
  for (std::size_t i = 0; i < p.offsets.size(); ++i) {
    auto off = static_cast<uint64_t>(p.offsets[i]);
    if (off < proxy.length || off > p.bytes.size() || p.bytes.size() - off < 4) return KeyedLayout::kCanonical;
    ByteReader r(p.bytes.substr(off, 4));
    if (r.i32("key group number") != p.key_group_start + static_cast<int32_t>(i)) return KeyedLayout::kCanonical;
  }
  // A canonical payload of one key group 0 starts with the state id 0 and the high half of a key
  // length: it reads as key group 0 too. The heap layout must then also parse (spec §7.3 rule 4).
  if (p.offsets.size() == 1 && p.key_group_start == 0) {
    bool heap_parses = true;
    KeyedVisitor trial;
    trial.problem = [&](const KeyedProblem&) { heap_parses = false; };
    Walker(p, proxy, trial).heap();
    if (!heap_parses) return KeyedLayout::kCanonical;
  }
  return KeyedLayout::kHeap;
}

void walk_keyed_payload(const KeyedPayload& p, const KeyedProxy& proxy, KeyedLayout layout, const KeyedVisitor& v) {
  Walker w(p, proxy, v);
  if (layout == KeyedLayout::kHeap) {
    w.heap();
  } else {
    w.canonical();
  }
}

namespace {

// The length bytes after an ambiguous key part (spec §1.4): n little-endian, as many bytes as
// it takes while the remaining value is non-zero (one byte for n < 256, also for 0).
void expect_length_bytes(ByteReader& r, uint64_t n, const char* what) {
  uint64_t at = r.offset();
  uint64_t v = n;
  do {
    uint8_t b = r.u8(what);
    if (b != (v & 0xFF)) ByteReader::fail(at, fmt::format("{} bytes {} do not encode the length {}", what, b, n));
    v >>= 8;
  } while (v != 0);
}

}  // namespace

std::optional<std::string> fill_rocksdb_record(Slice after_prefix, Slice value, const StateMeta& m,
                                               const Type& key_type, KeyedRecord& rec) {
  rec.rocksdb_format = true;
  if (m.backend == BackendStateType::kPriorityQueue) {
    rec.value = after_prefix;  // the element is the key; the value is empty
    return std::nullopt;
  }
  rec.value = value;
  try {
    split_rocksdb_key(after_prefix, key_type, serializer_or_opaque(m, "NAMESPACE_SERIALIZER"), m.keyed_kind() == "MAP",
                      rec);
    return std::nullopt;
  } catch (const UndecodableValue&) {
    // The key's serializer needs the job's classes: key and namespace stay one piece.
    rec.key = after_prefix;
    rec.ns = Slice{};
    rec.key_split = false;
    return std::nullopt;
  } catch (const io::DecodeError& e) {
    rec.key = after_prefix;
    rec.ns = Slice{};
    rec.key_split = false;
    return fmt::format("state {}: byte {}: key does not split into key and namespace: {}", m.name, e.offset(),
                       e.message());
  }
}

void split_rocksdb_key(Slice after_prefix, const Type& key_type, const Type& ns_type, bool is_map, KeyedRecord& out) {
  ByteReader r(after_prefix.bytes, after_prefix.offset);
  bool ambiguous = fixed_length(key_type) < 0 && fixed_length(ns_type) < 0;
  uint64_t p0 = r.pos();
  try {
    skip_value(r, key_type);
  } catch (const UndecodableValue&) {
    // A key ckpt cannot step over, before a namespace of known size: the key is the rest.
    int32_t ns_bytes = ns_type.kind == Kind::kVoidNamespace ? 1 : fixed_length(ns_type);
    if (is_map || ambiguous || ns_bytes <= 0 || static_cast<uint64_t>(ns_bytes) > after_prefix.bytes.size()) throw;
    std::size_t key_len = after_prefix.bytes.size() - static_cast<std::size_t>(ns_bytes);
    out.key = Slice{after_prefix.bytes.substr(0, key_len), after_prefix.offset};
    out.ns = Slice{after_prefix.bytes.substr(key_len), after_prefix.offset + key_len};
    return;
  }
  out.key = Slice{after_prefix.bytes.substr(p0, r.pos() - p0), after_prefix.offset + p0};
  if (ambiguous) expect_length_bytes(r, r.pos() - p0, "key length");
  uint64_t p1 = r.pos();
  skip_value(r, ns_type);
  out.ns = Slice{after_prefix.bytes.substr(p1, r.pos() - p1), after_prefix.offset + p1};
  if (ambiguous) expect_length_bytes(r, r.pos() - p1, "namespace length");
  if (is_map) {
    out.user_key = Slice{r.rest(), r.offset()};
  } else if (!r.at_end()) {
    ByteReader::fail(r.offset(), fmt::format("{} bytes after the namespace", r.remaining()));
  }
}

}  // namespace ckpt::state
