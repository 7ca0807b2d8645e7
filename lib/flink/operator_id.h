// Operator ids (spec §15): the 16 bytes `_metadata` stores per operator.
//
// An operator with a uid gets MurmurHash3_x64_128 (seed 0) of the uid's UTF-8 bytes, as Guava's
// `Hashing.murmur3_128(0)` emits it: h1 little-endian, then h2 little-endian. Operators without
// a uid get a hash of the job topology that cannot be recomputed from `_metadata`, so these
// helpers only derive ids from uids and convert ids to and from the hex form Flink prints.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "flink/model.h"

namespace ckpt::flink {

// The id Flink assigns to an operator declared with `.uid(uid)`. `uid_utf8` are the bytes Guava
// hashes: the UTF-8 encoding of the Java string (not the modified UTF-8 kept in the model).
OperatorId operator_id_from_uid(std::string_view uid_utf8);

// 32 lowercase hex digits, byte 0 first: the form of Flink's logs, REST API and web UI.
std::string to_hex(const OperatorId& id);

// True when `uid_utf8` names `op`: its recorded uid (V5+), or the id Flink derives from it (every
// version: an operator declared with .uid(uid) has that id even where `_metadata` keeps no uid).
bool uid_names(const OperatorState& op, std::string_view uid_utf8);

// Inverse of to_hex: exactly 32 hex digits, either case, nothing else (no prefix, no spaces).
std::optional<OperatorId> parse_operator_id(std::string_view hex);

}  // namespace ckpt::flink
