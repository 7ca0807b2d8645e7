#include "state/operator_payload.h"

#include <fmt/format.h>

#include <algorithm>

#include "io/byte_reader.h"
#include "state/snappy_framed.h"
#include "state/value_codec.h"

namespace ckpt::state {

using io::ByteReader;

namespace {

const StateMeta* find_meta(const OperatorProxy& proxy, std::string_view name) {
  for (const StateMeta& m : proxy.states) {
    if (m.name == name) return &m;
  }
  for (const StateMeta& m : proxy.broadcast) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const Type kOpaqueType{};

}  // namespace

void walk_operator_payload(std::string_view payload, uint64_t base, const OperatorProxy& proxy,
                           const std::vector<PartitionOffsets>& states, const OperatorVisitor& v) {
  auto problem = [&](std::string_view state, uint64_t offset, std::string message) {
    if (v.problem) v.problem(OperatorProblem{std::string(state), offset, std::move(message)});
  };
  // The data the offsets address: the payload itself, or its decompressed tail.
  std::string decompressed;
  std::string_view data = payload;
  uint64_t data_base = base;
  ChunkBoundaries chunks;
  if (proxy.compressed) {
    try {
      decompressed = decompress_framed(payload.substr(std::min<uint64_t>(proxy.length, payload.size())),
                                       base + proxy.length, &chunks);
    } catch (const io::DecodeError& e) {
      problem("", e.offset(), e.message());
      return;
    }
    data = decompressed;
    data_base = 0;
  }
  // Every offset, mapped into `data`.
  auto map_offset = [&](int64_t off, uint64_t& out) {
    if (off < 0) return false;
    auto o = static_cast<uint64_t>(off);
    if (!proxy.compressed) {
      out = o;
      return o >= proxy.length && o <= data.size();
    }
    uint64_t rel = o - proxy.length;
    if (o < proxy.length) return false;
    auto it = std::lower_bound(chunks.begin(), chunks.end(), std::make_pair(rel, uint64_t{0}));
    if (it != chunks.end() && it->first == rel) {
      out = it->second;
      return true;
    }
    if (rel == payload.size() - proxy.length) {  // an empty element at the very end
      out = data.size();
      return true;
    }
    return false;
  };
  std::vector<uint64_t> all;
  for (const PartitionOffsets& s : states) {
    for (int64_t off : s.offsets) {
      uint64_t m = 0;
      if (map_offset(off, m)) all.push_back(m);
    }
  }
  std::sort(all.begin(), all.end());
  auto end_of = [&](uint64_t start) {
    auto it = std::upper_bound(all.begin(), all.end(), start);
    return it == all.end() ? static_cast<uint64_t>(data.size()) : *it;
  };

  for (const PartitionOffsets& s : states) {
    const StateMeta* meta = find_meta(proxy, s.name);
    bool broadcast = meta != nullptr && meta->backend == BackendStateType::kBroadcast;
    for (std::size_t i = 0; i < s.offsets.size(); ++i) {
      uint64_t start = 0;
      if (!map_offset(s.offsets[i], start)) {
        problem(s.name, base,
                fmt::format("offset {} of element {} is not inside the state data{}", s.offsets[i], i,
                            proxy.compressed ? " (or not at a compressed chunk)" : ""));
        continue;
      }
      uint64_t end = end_of(start);
      Slice element{data.substr(start, end - start), data_base + start};
      if (!broadcast) {
        OperatorRecord rec;
        rec.meta = meta;
        rec.name = s.name;
        rec.index = static_cast<int32_t>(i);
        rec.element = element;
        if (v.record) v.record(rec);
        continue;
      }
      // A broadcast map: i32 n + n × (key, value).
      const Type* kt = meta->serializer("KEY_SERIALIZER");
      const Type* vt = meta->serializer("VALUE_SERIALIZER");
      ByteReader r(element.bytes, element.offset);
      try {
        int32_t n = r.count("broadcast map size", 1);
        for (int32_t k = 0; k < n; ++k) {
          OperatorRecord rec;
          rec.meta = meta;
          rec.name = s.name;
          rec.index = k;
          uint64_t p0 = r.pos();
          skip_value(r, kt == nullptr ? kOpaqueType : *kt);
          rec.key = Slice{element.bytes.substr(p0, r.pos() - p0), element.offset + p0};
          uint64_t p1 = r.pos();
          skip_value(r, vt == nullptr ? kOpaqueType : *vt);
          rec.value = Slice{element.bytes.substr(p1, r.pos() - p1), element.offset + p1};
          if (v.record) v.record(rec);
        }
        if (!r.at_end()) {
          ByteReader::fail(r.offset(), fmt::format("{} bytes after the broadcast map", r.remaining()));
        }
      } catch (const io::DecodeError& e) {
        problem(s.name, e.offset(), e.message());
      }
    }
  }
}

}  // namespace ckpt::state
