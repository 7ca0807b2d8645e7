// Values of state (state spec §5): one key, namespace, value or element, decoded by its Type into
// JSON, or stepped over.
//
// JSON shapes (formats/state-json.md lists them all): numbers as numbers (int64 exact),
// strings as strings, byte[] as base64, tuples and legacy rows as arrays, POJOs as objects by
// field name, maps with String keys as objects and others as arrays of [key, value], Option as the
// value or null, Either as {"left": v} / {"right": v}, times as ISO-8601 text, windows as
// {"start", "end"}, timers as {"timestamp", "key", "namespace"}, TTL values as
// {"lastAccess", "value"}, RowData as {"kind": "+I", "fields": [...]}. A value whose bytes are
// delimited but whose serializer ckpt cannot decode is {"opaque": "<serializer>", "base64": ...}.
//
// Contract: decode_value / skip_value read exactly one value from `r`. A value of a type whose
// extent only the job's classes know (Kryo user classes, Avro, custom serializers) throws
// UndecodableValue, a DecodeError whose offset is where that value began: the caller decides
// whether the extent is known some other way (canonical records, operator-state offsets) and
// prints the bytes. Any other mismatch is a DecodeError. Lengths are checked before allocation;
// nesting is capped.
#pragma once

#include <string>
#include <string_view>

#include "io/byte_reader.h"
#include "io/decode_error.h"
#include "state/type.h"

namespace ckpt::state {

class UndecodableValue : public io::DecodeError {
 public:
  UndecodableValue(uint64_t offset, std::string serializer)
      : io::DecodeError(offset, "values of " + serializer + " cannot be decoded without the job's classes"),
        serializer_(std::move(serializer)) {}
  const std::string& serializer() const { return serializer_; }

 private:
  std::string serializer_;
};

// Appends the JSON of one value to `out`.
void decode_value(io::ByteReader& r, const Type& t, std::string& out);

// Reads over one value.
void skip_value(io::ByteReader& r, const Type& t);

// The JSON of a value whose bytes are known to be exactly `bytes`: decoded when its type allows
// and the bytes are consumed exactly, else {"opaque": "<serializer>", "base64": "..."}. Returns
// false in the second case when the bytes did not match the type (a problem worth reporting; an
// opaque serializer is not one).
bool decode_delimited(std::string_view bytes, uint64_t base, const Type& t, std::string& out,
                      std::string* problem = nullptr);

}  // namespace ckpt::state
