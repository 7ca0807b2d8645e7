// The payloads the bundled pipeline writes into checkpoint files (documented byte for byte in
// formats/pipeline-state-format.md): key-group-partitioned keyed snapshots, operator list state,
// channel state, and Flink's serializers for the types they hold.
//
// Keys, namespaces and values use Flink's own serializations: StringSerializer (StringValue:
// length+1 as a 7-bit varint, then UTF-16 units as 7-bit varints), LongSerializer (8 bytes BE),
// TimeWindow.Serializer (start, end as longs), VoidNamespaceSerializer (one 0 byte). Everything
// else (headers, counts) is big-endian like Java's DataOutputStream.
//
// Readers are bounds-checked (io::ByteReader) and throw io::DecodeError with the byte offset.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "io/byte_reader.h"
#include "pipeline/events.h"
#include "state/keyed_payload.h"

namespace ckpt::pipeline {

// --- Flink serializers --------------------------------------------------------------------------

void write_java_string(std::string& out, std::string_view utf8);  // StringSerializer
std::string read_java_string(io::ByteReader& r);                  // returns UTF-8

// Namespaces of keyed state: VoidNamespace (counter) or a TimeWindow (windows).
enum class NamespaceKind : uint8_t { kVoid = 0, kTimeWindow = 1 };

struct Namespace {
  int64_t start = 0;  // TimeWindow start (inclusive); 0 for VoidNamespace
  int64_t end = 0;    // TimeWindow end (exclusive)
  bool operator==(const Namespace&) const = default;
  auto operator<=>(const Namespace&) const = default;
};

void write_namespace(std::string& out, NamespaceKind kind, const Namespace& ns);
Namespace read_namespace(io::ByteReader& r, NamespaceKind kind);

// --- keyed snapshots ----------------------------------------------------------------------------

enum class KeyedStateKind : uint8_t { kValue = 0, kEventTimers = 1 };

struct KeyedStateInfo {
  std::string name;
  KeyedStateKind kind = KeyedStateKind::kValue;
  NamespaceKind ns = NamespaceKind::kVoid;
};

// One entry of a keyed snapshot: a value (key, namespace) -> value, or a timer.
struct KeyedEntry {
  int32_t key_group = 0;
  std::string_view key;  // UTF-8; valid during the callback only
  Namespace ns;
  int64_t value = 0;  // value states: the Long; timers: the timestamp
};

// Writes a keyed snapshot in Flink's format (state spec §7): the keyed backend serialization
// proxy (version 6: String keys, each value state's namespace and Long values, timers as priority
// queues of TimerSerializer elements), then the key groups in the heap layout (§7.1: checkpoints,
// native savepoints) or the canonical layout (§7.2: canonical savepoints), Snappy-framed per
// state block (heap) or per key group (canonical) when `compress`. The caller streams key groups
// in ascending order through begin_key_group(kg) and, for each state of `states` in order,
// add_state(index, count) followed by exactly `count` add_* calls. finish() returns the payload;
// offsets() has one entry per key group begun (canonical: 0 for a key group without entries).
class KeyedSnapshotWriter {
 public:
  KeyedSnapshotWriter(std::vector<KeyedStateInfo> states, bool compress, state::KeyedLayout layout,
                      int32_t max_parallelism);
  void reserve(std::size_t bytes) { out_.reserve(bytes); }  // a hint of the payload size
  void begin_key_group(int32_t kg);
  void add_state(int index, int32_t count);
  void add_value(std::string_view key, const Namespace& ns, int64_t value);
  void add_timer(int64_t timestamp, std::string_view key, const Namespace& ns);
  std::string finish();
  const std::vector<int64_t>& offsets() const { return offsets_; }

 private:
  void end_state_block();
  void end_key_group();
  void canonical_record(std::string_view key_tail, std::string_view value);
  // Uncompressed blocks are written in place; compressed ones are collected first.
  std::string& target() { return compress_ ? body_ : out_; }
  std::vector<KeyedStateInfo> states_;
  bool compress_;
  state::KeyedLayout layout_;
  int prefix_bytes_;
  std::string out_;
  std::string body_;  // the current block (heap: state block; canonical: key group) when compressed
  std::string scratch_key_, scratch_value_;
  int32_t kg_ = 0;
  int current_state_ = -1;
  int32_t remaining_ = 0;  // canonical: records left in the current state's run
  bool kg_has_data_ = false;
  int64_t offsets_start_ = 0;
  bool open_ = false;
  std::vector<int64_t> offsets_;
};

// Heap timers as Flink writes them into raw keyed state when the backend is RocksDB (state spec
// §8.4, §8.5): for every key group, an InternalTimerServiceSerializationProxy (version 2) holding
// the timer service named by `timer_state` ("_timer_state/event_<service>"; none when empty) with
// its String keys, `ns` namespaces and event-time timers. begin_key_group(kg, n) is followed by n
// add_timer calls; offsets() has one entry per key group.
class RawTimersWriter {
 public:
  RawTimersWriter(std::string_view timer_state, NamespaceKind ns);
  void begin_key_group(int32_t kg, int32_t timers);
  void add_timer(int64_t timestamp, std::string_view key, const Namespace& ns);
  std::string finish();
  const std::vector<int64_t>& offsets() const { return offsets_; }

 private:
  void end_key_group();
  std::string service_;  // empty: no timer service
  NamespaceKind ns_;
  std::string out_;
  std::vector<int64_t> offsets_;
  bool open_ = false;
};

// The keyed backend serialization proxy of `states` (String keys): the head of every keyed
// snapshot and RocksDB's meta stream. `compressed`: the key groups after it are Snappy-framed.
std::string keyed_proxy_of(const std::vector<KeyedStateInfo>& states, bool compressed);

// What the `_metadata` says about a keyed payload beyond its range and offsets.
struct KeyedSnapshotFacts {
  int32_t max_parallelism = 128;  // the operator's: the key-group prefix of canonical records
  bool canonical_handle = false;  // keyed handle tag 7 (the canonical layout)
};

// Reads the key groups of `want` (intersected with `range`) from a keyed snapshot whose handle
// says `range` / `offsets`, calling `fn(state info, entry)` for every entry. Reads Flink's format
// (either layout, compressed or not, through state/keyed_payload.h) and the "CKKS" format of
// ckpt 0.1. Throws io::DecodeError (offset, what was expected) for anything else.
void read_keyed_snapshot(std::string_view payload, flink::KeyGroupRange range, const flink::I64Array& offsets,
                         flink::KeyGroupRange want, const KeyedSnapshotFacts& facts,
                         const std::function<void(const KeyedStateInfo&, const KeyedEntry&)>& fn);

// --- operator list state -------------------------------------------------------------------------

// An operator list state of byte[] elements (Flink's BytePrimitiveArraySerializer), as Flink's
// SourceOperator (`SourceReaderState`) and sink committer (`streaming_committer_raw_states`) keep
// their splits and committables.
struct ListStateData {
  std::string name;
  flink::DistributionMode mode = flink::DistributionMode::kSplitDistribute;
  std::vector<std::string> elements;  // each element's bytes
};

// Payload and, per state, the offsets of its elements.
struct OperatorStatePayload {
  std::string bytes;
  std::vector<std::vector<int64_t>> offsets;
};
// Flink's operator state payload (state spec §8.1): the operator backend proxy (version 6), then
// every state's elements, each `i32 length` + bytes; with `compress`, one Snappy framed stream
// after the proxy, flushed before each element so that every offset is a chunk boundary.
OperatorStatePayload write_operator_state(const std::vector<ListStateData>& states, bool compress = false);

// The elements of each state entry of a handle, from a payload in Flink's format or in the "CKOS"
// format ckpt 0.1 wrote (its elements are framed the same way; the header differs).
std::vector<ListStateData> read_operator_state(std::string_view payload,
                                               const std::vector<flink::OperatorStateEntry>& entries);

// --- channel state (Flink's channel-state file: i32 version 0, then i32 length + bytes) ---------

// One serialized buffer of records (the bytes of one length-prefixed entry).
std::string serialize_buffer(std::span<const Record> records);
void deserialize_buffer(std::string_view bytes, std::vector<Record>& out, int32_t max_parallelism);

}  // namespace ckpt::pipeline
