// The state payloads of a snapshot (state spec §2): for every operator and subtask, the managed
// keyed payload (heap or canonical layout), the RocksDB meta stream of a native or incremental
// handle (with its files), the managed operator-state payload, and the raw keyed stream (where
// Flink kept timers before 1.6, §8.4) and Flink 1.2-1.3's legacy operator state (§8.6) — the bytes `inspect --states`
// and `ckpt state` read. Changelog handles contribute their materialized part.
//
// Contract: state_payloads() is pure (no I/O); read_payload_bytes() reads one stream handle's
// bytes (inline, a file, or a file-merging segment), resolving paths with snapshot/paths.h, and
// throws util::Error (kIo) naming the file when it cannot, or (kInput) when the file is shorter
// than the handle says.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "io/confined_open.h"
#include "snapshot/paths.h"
#include "state/keyed_payload.h"
#include "state/operator_payload.h"

namespace ckpt::ops {

struct StatePayload {
  enum class Kind {
    kKeyGroups,  // tags 3, 7, 12: heap or canonical layout
    kRocksDb,    // tags 5, 11: a keyed proxy in the meta stream, the data in RocksDB files
    kOperator,   // managed operator state
    kRawKeyed,   // tags 3, 12 in the raw keyed slot: timers (state/raw_timers.h)
    kLegacy,     // `_metadata` V1/V2 legacy operator state: a Checkpointed function's state
  };
  Kind kind = Kind::kKeyGroups;
  std::size_t operator_index = 0;
  int32_t subtask = 0;
  const flink::StreamHandle* stream = nullptr;             // the payload (the meta stream for kRocksDb)
  const flink::KeyGroupsHandle* key_groups = nullptr;      // kKeyGroups, kRawKeyed
  const flink::IncrementalHandle* incremental = nullptr;   // kRocksDb
  const flink::OperatorHandle* operator_handle = nullptr;  // kOperator
  bool canonical_handle = false;                           // tag 7
};

// Which operators: all when both are empty; else those named by the uid (flink::uid_names) and
// the 32-hex id.
struct OperatorFilter {
  std::string uid;
  std::string operator_id;
  bool matches(const flink::OperatorState& op) const;
};

std::vector<StatePayload> state_payloads(const flink::Metadata& md, const OperatorFilter& filter = {});

// The bytes of `h`. `label` (when given) is set to what names them in messages: the file path,
// or "<inline in _metadata>". Files are opened through `scope` (snapshot/read_scope.h).
std::string read_payload_bytes(const flink::StreamHandle& h, const std::filesystem::path& snapshot_dir,
                               const std::vector<snapshot::PathMapping>& mappings, const io::ReadScope& scope,
                               std::string* label = nullptr);

// Bytes [start, start + size) of a local file (a file-merging segment), opened through `scope`.
// Throws util::Error naming the file when it cannot be read or is too short.
std::string read_file_range(const io::ReadScope& scope, const std::string& path, int64_t start, int64_t size);

// The operator-state offsets `h` records, by state (the input of state::walk_operator_payload).
std::vector<state::PartitionOffsets> partition_offsets(const flink::OperatorHandle& h);

// A kKeyGroups or kRawKeyed payload over its `bytes`: key-group range, offsets, max parallelism, handle kind.
state::KeyedPayload keyed_payload(const flink::Metadata& md, const StatePayload& p, std::string_view bytes);

// A legacy operator state stream (state spec §8.6, Flink 1.2-1.3): `u8 present`, then (1) the
// Java-serialized state of a function implementing Checkpointed, then bytes a custom operator
// wrote itself.
// The state name ckpt gives it (Flink gave it none): the interface whose state it holds.
inline constexpr std::string_view kLegacyStateName = "Checkpointed";

struct LegacyOperatorState {
  bool present = false;
  std::string_view function;        // the Java stream (empty when not present)
  std::string_view operator_bytes;  // what follows it
};
// Throws io::DecodeError (offsets relative to `bytes`) when the flag is not 0 or 1 or the Java
// stream does not parse.
LegacyOperatorState read_legacy_operator_state(std::string_view bytes);

// Why `payload` is not in Flink's state format, when it is in the bundled pipeline's own (the
// CKKS keyed and CKOS operator formats of formats/pipeline-state-format.md); nullopt otherwise.
std::optional<std::string> not_flink_format(std::string_view payload);

// "operator <hex> (uid U) subtask N", for messages.
std::string payload_where(const flink::Metadata& md, const StatePayload& p);

}  // namespace ckpt::ops
