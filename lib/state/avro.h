// Avro values as Flink's AvroSerializer writes them (state spec §5.8): Flink's own
// DataOutputEncoder, not Avro's binary encoder — fixed-width big-endian ints and longs, i32-length
// strings and bytes, arrays and maps in blocks of a LEB128 count ended by a 0 — decoded with the
// writer schema that AvroSerializerSnapshot stores, into JSON.
//
// Contract: parse_avro_schema returns nullptr for a schema it cannot read (the values then stay
// opaque); decode_avro reads exactly one value or throws io::DecodeError. Nesting is capped, named
// types resolve by full name, recursive schemas are followed lazily.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "io/byte_reader.h"

namespace ckpt::state {

struct AvroSchema;  // opaque: the parsed writer schema

std::shared_ptr<const AvroSchema> parse_avro_schema(std::string_view json);

// Appends the JSON of one value to `out` (nullptr: step over it).
void decode_avro(io::ByteReader& r, const AvroSchema& schema, std::string* out);

}  // namespace ckpt::state
