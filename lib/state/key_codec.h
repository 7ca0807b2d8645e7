// A key as a user types it (`ckpt state --key 42`, `--key abc`, `--key '[1, "x"]'`), serialized
// with a state backend's key serializer, and its Java hashCode: what `--key` needs to compute the
// key group the way Flink does (flink/key_groups.h) and to find the key's entries by their bytes.
//
// Key types whose hashCode Flink or Java defines: Long, Integer, Short, Byte, Boolean, Char,
// String, Flink tuples of those (Tuple.hashCode: h = 31 * h + field), and a java.lang.Long through
// Kryo (Scala jobs keyed by Any). Others (POJOs, case classes, rows) define their own hashCode;
// encode_key refuses them with the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "state/type.h"

namespace ckpt::state {

struct EncodedKey {
  std::string bytes;
  int32_t java_hash = 0;
};

// nullopt with `why` set when the text does not parse as the type or the type has no
// reproducible hashCode.
std::optional<EncodedKey> encode_key(const Type& key_type, std::string_view text, std::string& why);

}  // namespace ckpt::state
