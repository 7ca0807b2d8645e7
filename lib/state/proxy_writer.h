// Writing what state/backend_proxy.h and state/serializer_snapshot.h read: serializer snapshots
// and the keyed backend serialization proxy of the current version (state spec §3 and §4), as
// Flink 1.8 to 2.x write them. For ckpt's own snapshots (the bundled pipeline, the benchmarks) to
// carry Flink's own type information, which every reader of Flink's format understands.
//
// Contract: the bytes are exactly Flink's (the proxy version 6 / meta version 6 layout; composite
// snapshots version 3 with both magics); read back by read_keyed_proxy they give the same states,
// kinds and serializers (tests/unit/test_proxy_writer.cpp). Names are written with Java's
// writeUTF (modified UTF-8); a name longer than 65,535 bytes is util::Error (kUsage), as Java
// refuses it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/byte_writer.h"
#include "state/backend_proxy.h"

namespace ckpt::state {

// One serializer snapshot: a simple (stateless) serializer's, or a composite one with nested
// snapshots.
struct SnapshotSpec {
  std::string class_name;  // the snapshot class, inner classes with '$'
  int32_t version = 3;     // simple: SimpleTypeSerializerSnapshot's current version (empty payload)
  bool composite = false;
  int32_t outer_version = 0;  // composite: the subclass's own version
  std::string outer_payload;  // composite: its outer snapshot bytes (often empty)
  std::vector<SnapshotSpec> nested;
};

// The snapshots of Flink's common serializers.
SnapshotSpec long_serializer();
SnapshotSpec int_serializer();
SnapshotSpec string_serializer();
SnapshotSpec void_namespace_serializer();
SnapshotSpec time_window_serializer();
SnapshotSpec byte_array_serializer();  // BytePrimitiveArraySerializer (byte[]: i32 length + bytes)  // DataStream
                                       // windows: org.apache.flink.streaming.api...
SnapshotSpec list_serializer(SnapshotSpec element);
SnapshotSpec map_serializer(SnapshotSpec key, SnapshotSpec value);
SnapshotSpec timer_serializer(SnapshotSpec key, SnapshotSpec ns);  // TimerSerializerSnapshot

// `utf className`, `i32 version`, payload (TypeSerializerSnapshot.writeVersionedSnapshot).
void write_versioned_snapshot(io::ByteWriter& w, const SnapshotSpec& s);
// `i32 2` then the versioned snapshot (TypeSerializerSnapshotSerializationUtil).
void write_top_level_snapshot(io::ByteWriter& w, const SnapshotSpec& s);
// Java's writeUTF.
void write_utf(io::ByteWriter& w, std::string_view utf8);

struct StateMetaSpec {
  std::string name;
  BackendStateType backend = BackendStateType::kKeyValue;
  // In the order written (Flink writes HashMaps: any order reads back the same).
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::pair<std::string, SnapshotSpec>> serializers;
};

// A keyed state: KEYED_STATE_TYPE `kind` ("VALUE", "LIST", "MAP", ...), VALUE_SERIALIZER and
// NAMESPACE_SERIALIZER.
StateMetaSpec keyed_state(std::string name, std::string kind, SnapshotSpec value, SnapshotSpec ns);
// A priority queue (timers: "_timer_state/event_<name>", "_timer_state/processing_<name>").
StateMetaSpec priority_queue_state(std::string name, SnapshotSpec element);

// An operator list state: OPERATOR_STATE_DISTRIBUTION_MODE `mode` ("SPLIT_DISTRIBUTE" or "UNION"),
// VALUE_SERIALIZER the element.
StateMetaSpec operator_list_state(std::string name, std::string mode, SnapshotSpec element);

// KeyedBackendSerializationProxy version 6: `compressed` says the key-group blocks after it are
// Snappy-compressed (heap and canonical layouts; false for RocksDB meta files).
std::string write_keyed_proxy(bool compressed, const SnapshotSpec& key, const std::vector<StateMetaSpec>& states);

// OperatorBackendSerializationProxy version 6 (Flink 1.18 to 2.x): list and union states, then
// broadcast states.
std::string write_operator_proxy(bool compressed, const std::vector<StateMetaSpec>& states,
                                 const std::vector<StateMetaSpec>& broadcast);

}  // namespace ckpt::state
