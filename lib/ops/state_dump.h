// `ckpt state`: every entry of a snapshot's state, one line each, streamed (formats/state-json.md).
//
// A value, list, reducing or aggregating state gives one line per key and namespace; a map state
// one per user key; timers one per timer; operator list and union state one per element;
// broadcast state one per map entry. Each line carries the operator, subtask, state, kind, key
// group, key, namespace and value, decoded by the serializer snapshots (state/value_codec.h);
// what cannot be decoded without the job's classes is printed as base64 with its serializer named.
// Native RocksDB state (keyed tags 5, 11) is read through RocksDB from a private copy of the
// subtask's database under TMPDIR (rocks/place_db.h: table files hard-linked where possible).
//
// With `key`, the key is serialized with the state's key serializer and its key group computed the
// way Flink does (the key's Java hashCode, then murmur); only that key group is read, and only
// entries whose key bytes are equal are printed. Key types whose hashCode Flink or Java defines:
// Long, Integer, Short, Byte, Boolean, String, Flink tuples of those, and Kryo-boxed Long.
//
// Contract: lines go to `sink` as they are decoded (memory does not grow with the state); a
// payload that does not match its serializers becomes a problem line (file, byte offset, state,
// what was expected) and the dump goes on. Throws DumpError for a request that cannot be served
// (an unparseable --key, a key type with no reproducible hashCode).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "ops/state_payloads.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"
#include "util/error.h"

namespace ckpt::ops {

class DumpError : public util::Error {
 public:
  explicit DumpError(const std::string& message) : util::Error(util::ErrorKind::kUsage, message) {}
};

enum class DumpFormat { kJsonl, kCsv };

struct DumpRequest {
  OperatorFilter filter;
  std::string state;               // empty: every state
  std::optional<std::string> key;  // the key as text: 42, "abc", [1, "x"] for a tuple
  std::optional<int32_t> key_group;
  int64_t limit = -1;  // lines; -1 = all
  DumpFormat format = DumpFormat::kJsonl;
  // Read native RocksDB state (a database laid out under TMPDIR and opened). The fuzz target turns
  // it off: it exercises ckpt's decoders, not RocksDB's.
  bool read_rocksdb = true;
};

struct DumpResult {
  uint64_t lines = 0;
  std::vector<std::string> problems;
  bool limited = false;  // stopped at `limit`
};

// The CSV header line `dump_state` writes first in kCsv.
std::string_view dump_csv_header();

DumpResult dump_state(const flink::Metadata& md, const snapshot::Location& loc,
                      const std::vector<snapshot::PathMapping>& mappings, const DumpRequest& request,
                      const std::function<void(std::string_view line)>& sink);

}  // namespace ckpt::ops
