#include "state/proxy_writer.h"

#include "io/mutf8.h"
#include "util/error.h"

namespace ckpt::state {
namespace {

// CompositeTypeSerializerSnapshot (spec §3.3).
constexpr int32_t kCompositeVersion = 3;
constexpr int32_t kCompositeMagic = 911108;
constexpr int32_t kNestedMagic = 1333245;
constexpr int32_t kNestedVersion = 1;
// TypeSerializerSnapshotSerializationUtil.VERSION, KeyedBackendSerializationProxy.VERSION.
constexpr int32_t kTopLevelVersion = 2;
constexpr int32_t kKeyedProxyVersion = 6;
constexpr int32_t kOperatorProxyVersion = 6;

const std::string kBase = "org.apache.flink.api.common.typeutils.base.";

SnapshotSpec simple(std::string class_name) {
  SnapshotSpec s;
  s.class_name = std::move(class_name);
  return s;
}

SnapshotSpec composite(std::string class_name, int32_t outer_version, std::vector<SnapshotSpec> nested) {
  SnapshotSpec s;
  s.class_name = std::move(class_name);
  s.version = kCompositeVersion;
  s.composite = true;
  s.outer_version = outer_version;
  s.nested = std::move(nested);
  return s;
}

void write_meta(io::ByteWriter& w, const StateMetaSpec& s) {
  write_utf(w, s.name);
  w.i32(static_cast<int32_t>(s.backend));
  w.i32(static_cast<int32_t>(s.options.size()));
  for (const auto& [k, v] : s.options) {
    write_utf(w, k);
    write_utf(w, v);
  }
  w.i32(static_cast<int32_t>(s.serializers.size()));
  for (const auto& [k, snap] : s.serializers) {
    write_utf(w, k);
    write_top_level_snapshot(w, snap);
  }
}

void write_state_count(io::ByteWriter& w, size_t n) {
  if (n > 0x7FFF) {
    throw util::Error(util::ErrorKind::kUsage,
                      std::to_string(n) + " states: a backend proxy holds at most 32767 (an i16 count)");
  }
  w.u16(static_cast<uint16_t>(n));
}

}  // namespace

SnapshotSpec long_serializer() { return simple(kBase + "LongSerializer$LongSerializerSnapshot"); }
SnapshotSpec byte_array_serializer() {
  return simple(kBase + "array.BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot");
}
SnapshotSpec int_serializer() { return simple(kBase + "IntSerializer$IntSerializerSnapshot"); }
SnapshotSpec string_serializer() { return simple(kBase + "StringSerializer$StringSerializerSnapshot"); }
SnapshotSpec void_namespace_serializer() {
  return simple("org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot");
}
SnapshotSpec time_window_serializer() {
  return simple("org.apache.flink.streaming.api.windowing.windows.TimeWindow$Serializer$TimeWindowSerializerSnapshot");
}
// Outer versions as the fixtures show them: ListSerializerSnapshot and MapSerializerSnapshot 1,
// TimerSerializerSnapshot 2.
SnapshotSpec list_serializer(SnapshotSpec element) {
  return composite(kBase + "ListSerializerSnapshot", 1, {std::move(element)});
}
SnapshotSpec map_serializer(SnapshotSpec key, SnapshotSpec value) {
  return composite(kBase + "MapSerializerSnapshot", 1, {std::move(key), std::move(value)});
}
SnapshotSpec timer_serializer(SnapshotSpec key, SnapshotSpec ns) {
  return composite("org.apache.flink.streaming.api.operators.TimerSerializerSnapshot", 2,
                   {std::move(key), std::move(ns)});
}

void write_utf(io::ByteWriter& w, std::string_view utf8) {
  std::string m = io::utf8_to_mutf8(utf8);
  if (m.size() > 0xFFFF) {
    throw util::Error(util::ErrorKind::kUsage,
                      "a name of " + std::to_string(m.size()) + " bytes: Java's writeUTF takes at most 65535");
  }
  w.u16(static_cast<uint16_t>(m.size()));
  w.bytes(m);
}

void write_versioned_snapshot(io::ByteWriter& w, const SnapshotSpec& s) {
  write_utf(w, s.class_name);
  w.i32(s.version);
  if (!s.composite) return;  // a simple snapshot of version 3: no payload
  w.i32(kCompositeMagic);
  w.i32(s.outer_version);
  w.bytes(s.outer_payload);
  w.i32(kNestedMagic);
  w.i32(kNestedVersion);
  w.i32(static_cast<int32_t>(s.nested.size()));
  for (const auto& n : s.nested) write_versioned_snapshot(w, n);
}

void write_top_level_snapshot(io::ByteWriter& w, const SnapshotSpec& s) {
  w.i32(kTopLevelVersion);
  write_versioned_snapshot(w, s);
}

StateMetaSpec keyed_state(std::string name, std::string kind, SnapshotSpec value, SnapshotSpec ns) {
  StateMetaSpec m;
  m.name = std::move(name);
  m.backend = BackendStateType::kKeyValue;
  m.options = {{"KEYED_STATE_TYPE", std::move(kind)}};
  // The order Flink's HashMap gives these two keys (spec §4.2).
  m.serializers = {{"VALUE_SERIALIZER", std::move(value)}, {"NAMESPACE_SERIALIZER", std::move(ns)}};
  return m;
}

StateMetaSpec priority_queue_state(std::string name, SnapshotSpec element) {
  StateMetaSpec m;
  m.name = std::move(name);
  m.backend = BackendStateType::kPriorityQueue;
  m.serializers = {{"VALUE_SERIALIZER", std::move(element)}};
  return m;
}

StateMetaSpec operator_list_state(std::string name, std::string mode, SnapshotSpec element) {
  StateMetaSpec m;
  m.name = std::move(name);
  m.backend = BackendStateType::kOperator;
  m.options = {{"OPERATOR_STATE_DISTRIBUTION_MODE", std::move(mode)}};
  m.serializers = {{"VALUE_SERIALIZER", std::move(element)}};
  return m;
}

std::string write_keyed_proxy(bool compressed, const SnapshotSpec& key, const std::vector<StateMetaSpec>& states) {
  std::string out;
  io::ByteWriter w(out);
  w.i32(kKeyedProxyVersion);
  w.u8(compressed ? 1 : 0);
  write_top_level_snapshot(w, key);
  write_state_count(w, states.size());
  for (const auto& s : states) write_meta(w, s);
  return out;
}

std::string write_operator_proxy(bool compressed, const std::vector<StateMetaSpec>& states,
                                 const std::vector<StateMetaSpec>& broadcast) {
  std::string out;
  io::ByteWriter w(out);
  w.i32(kOperatorProxyVersion);
  w.u8(compressed ? 1 : 0);
  write_state_count(w, states.size());
  for (const auto& s : states) write_meta(w, s);
  write_state_count(w, broadcast.size());
  for (const auto& s : broadcast) write_meta(w, s);
  return out;
}

}  // namespace ckpt::state
