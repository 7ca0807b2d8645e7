#include "state/backend_proxy.h"

#include <fmt/format.h>

#include "io/byte_reader.h"
#include "state/serializer_snapshot.h"
#include "state/strings.h"

namespace ckpt::state {

using io::ByteReader;

namespace {

constexpr std::string_view kValueSerializer = "VALUE_SERIALIZER";
constexpr std::string_view kNamespaceSerializer = "NAMESPACE_SERIALIZER";
constexpr std::string_view kKeySerializer = "KEY_SERIALIZER";

// StateDescriptor.Type ordinals of keyed proxy versions 1–4.
constexpr std::string_view kDescriptorTypes[] = {"UNKNOWN", "VALUE",       "LIST", "REDUCING",
                                                 "FOLDING", "AGGREGATING", "MAP"};

BackendStateType backend_type(ByteReader& r) {
  uint64_t at = r.offset();
  int32_t t = r.i32("backend state type");
  if (t < 0 || t > 4) ByteReader::fail(at, fmt::format("backend state type {}, expected 0 to 4", t));
  return static_cast<BackendStateType>(t);
}

void options(ByteReader& r, StateMeta& m) {
  int32_t n = r.count("number of state options", 4);
  for (int32_t i = 0; i < n; ++i) {
    std::string k = read_utf(r, "state option key");
    m.options[k] = read_utf(r, "state option value");
  }
}

// Meta info versions 6 and 7 (spec §4.2).
StateMeta meta_v6(ByteReader& r) {
  StateMeta m;
  m.name = read_utf(r, "state name");
  m.backend = backend_type(r);
  options(r, m);
  int32_t n = r.count("number of state serializers", 6);
  for (int32_t i = 0; i < n; ++i) {
    std::string key = read_utf(r, "serializer key");
    m.serializers[key] = read_top_level_snapshot(r);
  }
  return m;
}

// Meta info version 5 (Flink 1.6, spec §4.3.1).
StateMeta meta_v5(ByteReader& r) {
  StateMeta m;
  m.name = read_utf(r, "state name");
  m.backend = backend_type(r);
  options(r, m);
  int32_t n = r.count("number of state serializers", 2);
  std::vector<std::string> keys;
  for (int32_t i = 0; i < n; ++i) keys.push_back(read_utf(r, "serializer key"));
  uint64_t at = r.offset();
  std::vector<Type> types = read_resilience_block(r);
  if (types.size() != keys.size()) {
    ByteReader::fail(at, fmt::format("{} serializers in the resilience block, expected {}", types.size(), keys.size()));
  }
  for (std::size_t i = 0; i < keys.size(); ++i) m.serializers[keys[i]] = std::move(types[i]);
  return m;
}

// Keyed proxy versions 1–4 (spec §4.3.2): type before name, namespace and state serializers.
StateMeta meta_keyed_legacy(ByteReader& r, int32_t proxy_version) {
  StateMeta m;
  uint64_t at = r.offset();
  int32_t type = r.i32("state descriptor type");
  if (type < 0 || type > 6) ByteReader::fail(at, fmt::format("state descriptor type {}, expected 0 to 6", type));
  m.options["KEYED_STATE_TYPE"] = std::string(kDescriptorTypes[type]);
  m.name = read_utf(r, "state name");
  if (proxy_version >= 3) {
    uint64_t block_at = r.offset();
    std::vector<Type> types = read_resilience_block(r);
    if (types.size() != 2)
      ByteReader::fail(block_at, fmt::format("{} serializers for a keyed state, expected 2", types.size()));
    m.serializers[std::string(kNamespaceSerializer)] = std::move(types[0]);
    m.serializers[std::string(kValueSerializer)] = std::move(types[1]);
  } else {
    m.serializers[std::string(kNamespaceSerializer)] = read_java_serializer_block(r);
    m.serializers[std::string(kValueSerializer)] = read_java_serializer_block(r);
  }
  return m;
}

// Operator proxy versions 1–3: name, mode, serializer(s).
StateMeta meta_operator_legacy(ByteReader& r, int32_t proxy_version, bool broadcast) {
  StateMeta m;
  m.name = read_utf(r, "state name");
  uint64_t at = r.offset();
  int8_t mode = r.i8("distribution mode");
  if (mode < 0 || mode > 2) ByteReader::fail(at, fmt::format("distribution mode {}, expected 0 to 2", mode));
  // Mode 1 was called BROADCAST in Flink 1.2–1.4 and means what UNION means now.
  static constexpr std::string_view kModes[] = {"SPLIT_DISTRIBUTE", "UNION", "BROADCAST"};
  m.options["OPERATOR_STATE_DISTRIBUTION_MODE"] = std::string(kModes[mode]);
  m.backend = broadcast ? BackendStateType::kBroadcast : BackendStateType::kOperator;
  if (proxy_version == 1) {
    m.serializers[std::string(kValueSerializer)] = read_java_serializer_object(r);
    return m;
  }
  uint64_t block_at = r.offset();
  std::vector<Type> types = read_resilience_block(r);
  if (broadcast) {
    if (types.size() != 2)
      ByteReader::fail(block_at, fmt::format("{} serializers for a broadcast state, expected 2", types.size()));
    m.serializers[std::string(kKeySerializer)] = std::move(types[0]);
    m.serializers[std::string(kValueSerializer)] = std::move(types[1]);
  } else {
    if (types.size() != 1)
      ByteReader::fail(block_at, fmt::format("{} serializers for an operator state, expected 1", types.size()));
    m.serializers[std::string(kValueSerializer)] = std::move(types[0]);
  }
  return m;
}

}  // namespace

std::string StateMeta::keyed_kind() const {
  if (backend != BackendStateType::kKeyValue && backend != BackendStateType::kKeyValueV2) return {};
  auto it = options.find("KEYED_STATE_TYPE");
  return it == options.end() ? std::string("VALUE") : it->second;
}

std::string StateMeta::distribution() const {
  if (backend == BackendStateType::kBroadcast) return "BROADCAST";
  if (backend != BackendStateType::kOperator) return {};
  auto it = options.find("OPERATOR_STATE_DISTRIBUTION_MODE");
  return it == options.end() ? std::string("SPLIT_DISTRIBUTE") : it->second;
}

const Type* StateMeta::serializer(std::string_view key) const {
  auto it = serializers.find(std::string(key));
  return it == serializers.end() ? nullptr : &it->second;
}

std::string_view backend_state_type_name(BackendStateType t) {
  switch (t) {
    case BackendStateType::kKeyValue:
      return "KEY_VALUE";
    case BackendStateType::kOperator:
      return "OPERATOR";
    case BackendStateType::kBroadcast:
      return "BROADCAST";
    case BackendStateType::kPriorityQueue:
      return "PRIORITY_QUEUE";
    case BackendStateType::kKeyValueV2:
      return "KEY_VALUE_V2";
  }
  return "UNKNOWN";
}

KeyedProxy read_keyed_proxy(std::string_view payload, uint64_t base) {
  ByteReader r(payload, base);
  KeyedProxy p;
  uint64_t at = r.offset();
  p.version = r.i32("keyed backend proxy version");
  if (p.version < 1 || p.version > 6) {
    ByteReader::fail(at, fmt::format("keyed backend proxy version {}, expected 1 to 6", p.version));
  }
  if (p.version >= 4) p.compressed = r.u8("compression flag") != 0;
  if (p.version >= 6) {
    p.key = read_top_level_snapshot(r);
  } else if (p.version >= 3) {
    uint64_t block_at = r.offset();
    std::vector<Type> key = read_resilience_block(r);
    if (key.size() != 1) ByteReader::fail(block_at, fmt::format("{} key serializers, expected 1", key.size()));
    p.key = std::move(key[0]);
  } else {
    p.key = read_java_serializer_block(r);
  }
  uint64_t n_at = r.offset();
  int16_t n = static_cast<int16_t>(r.u16("number of states"));
  if (n < 0) ByteReader::fail(n_at, fmt::format("number of states {}, expected >= 0", n));
  r.check_fits(n_at, static_cast<uint64_t>(n), 6, "number of states");
  for (int16_t i = 0; i < n; ++i) {
    StateMeta m = p.version >= 6 ? meta_v6(r) : p.version == 5 ? meta_v5(r) : meta_keyed_legacy(r, p.version);
    p.states.push_back(std::move(m));
  }
  p.length = r.pos();
  return p;
}

OperatorProxy read_operator_proxy(std::string_view payload, uint64_t base) {
  ByteReader r(payload, base);
  OperatorProxy p;
  uint64_t at = r.offset();
  p.version = r.i32("operator backend proxy version");
  if (p.version < 1 || p.version > 6) {
    ByteReader::fail(at, fmt::format("operator backend proxy version {}, expected 1 to 6", p.version));
  }
  if (p.version >= 6) p.compressed = r.u8("compression flag") != 0;
  auto read_meta = [&](bool broadcast) {
    if (p.version >= 5) return meta_v6(r);
    if (p.version == 4) return meta_v5(r);
    return meta_operator_legacy(r, p.version, broadcast);
  };
  uint64_t n_at = r.offset();
  int16_t n = static_cast<int16_t>(r.u16("number of operator states"));
  if (n < 0) ByteReader::fail(n_at, fmt::format("number of operator states {}, expected >= 0", n));
  r.check_fits(n_at, static_cast<uint64_t>(n), 3, "number of operator states");
  for (int16_t i = 0; i < n; ++i) p.states.push_back(read_meta(false));
  if (p.version >= 3) {
    uint64_t b_at = r.offset();
    int16_t b = static_cast<int16_t>(r.u16("number of broadcast states"));
    if (b < 0) ByteReader::fail(b_at, fmt::format("number of broadcast states {}, expected >= 0", b));
    r.check_fits(b_at, static_cast<uint64_t>(b), 3, "number of broadcast states");
    for (int16_t i = 0; i < b; ++i) p.broadcast.push_back(read_meta(true));
  }
  if (p.version <= 2) {
    // Flink <= 1.4 wrote the number of states once more after the proxy (removed by FLINK-8522).
    // Flink read it without checking it, and so does ckpt.
    r.i32("number of operator states after the proxy");
  }
  p.length = r.pos();
  return p;
}

}  // namespace ckpt::state
