// The key groups of one keyed state payload (state spec §7): the heap layout of heap checkpoints
// and old savepoints, and the canonical layout of canonical savepoints and RocksDB full
// snapshots, both optionally Snappy-compressed. Walking them yields one record per stored entry,
// with the bytes of its key, namespace, user key and value; decoding those is the caller's
// (state/value_codec.h), so that counting entries costs no JSON.
//
// Contract: walk_keyed_payload reads every key group of the handle's range at its offset and
// calls the visitor for each record in payload order. A key group that does not parse is reported
// through `problem` (offset, what was expected) and skipped — its neighbours are still read, since
// the offsets delimit every key group. Records of a type whose extent only the job's classes know
// (heap layout only: canonical records carry lengths) end their key group the same way. Nothing
// is allocated from an unchecked length.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/backend_proxy.h"

namespace ckpt::state {

enum class KeyedLayout { kHeap, kCanonical };

// "heap", "canonical".
std::string_view keyed_layout_name(KeyedLayout l);

struct Slice {
  std::string_view bytes;
  uint64_t offset = 0;  // where the bytes start: in the file, or in a key group's uncompressed data
};

struct KeyedRecord {
  int32_t key_group = 0;
  std::size_t state = 0;  // index into the proxy's states
  Slice key;              // empty for priority-queue elements
  Slice ns;               // empty for priority-queue elements
  Slice user_key;         // canonical MAP records: the map key
  // The value. Heap: the state's whole value (a LIST's ListSerializer bytes, a MAP's
  // MapSerializer bytes); priority queues: the element. Canonical: the RocksDB value (spec §6.4:
  // LIST elements ','-delimited, MAP values behind a null flag); priority queues: the element
  // (the RocksDB value is empty).
  Slice value;
  bool rocksdb_format = false;  // canonical: value and user key follow spec §6
  // False when the key's serializer needs the job's classes and the namespace's extent does not
  // tell where the key ends: `key` then holds key and namespace together, `ns` is empty.
  bool key_split = true;
};

struct KeyedProblem {
  int32_t key_group = 0;
  uint64_t offset = 0;
  std::string message;
};

struct KeyedVisitor {
  std::function<void(const KeyedRecord&)> record;
  std::function<void(const KeyedProblem&)> problem;
};

struct KeyedPayload {
  std::string_view bytes;  // the whole payload (proxy at offset 0)
  uint64_t base = 0;       // the payload's offset in its file
  int32_t key_group_start = 0;
  std::vector<int64_t> offsets;  // one per key group of the range, relative to the payload
  int32_t max_parallelism = 0;
  bool canonical_handle = false;          // keyed handle tag 7 (KeyGroupsSavepointStateHandle)
  std::optional<int32_t> only_key_group;  // walk this key group alone (the others are not read)
};

// Which layout the payload uses (spec §7.3): tag 7, or any key group without data, means
// canonical; a heap payload has its key group's number at every offset.
KeyedLayout detect_keyed_layout(const KeyedPayload& p, const KeyedProxy& proxy);

void walk_keyed_payload(const KeyedPayload& p, const KeyedProxy& proxy, KeyedLayout layout, const KeyedVisitor& v);

// The key-group prefix length of RocksDB keys: 2 bytes above 128 key groups, else 1.
int key_group_prefix_bytes(int32_t max_parallelism);

// One RocksDB entry of state `m` (a canonical record, or an entry of a native RocksDB database):
// for priority queues the element is the key after its prefix; otherwise the key is split into
// key, namespace and (MAP) user key, and `value` is the value. When the key does not split, `rec`
// holds it whole (key_split false) and the problem is returned (an opaque key serializer is not
// one).
std::optional<std::string> fill_rocksdb_record(Slice after_prefix, Slice value, const StateMeta& m,
                                               const Type& key_type, KeyedRecord& rec);

// Splits a RocksDB key of keyed state (spec §6.3) after its key-group prefix into key, namespace
// and (MAP) user key, using the key and namespace types to find the boundaries. Throws
// io::DecodeError (UndecodableValue for opaque types) when the bytes do not fit.
void split_rocksdb_key(Slice after_prefix, const Type& key_type, const Type& ns_type, bool is_map, KeyedRecord& out);

}  // namespace ckpt::state
