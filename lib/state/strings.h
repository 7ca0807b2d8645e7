// The two string encodings of state payloads (state spec §1): Java's writeUTF (u16 length +
// modified UTF-8) for names in proxies and snapshots, and Flink's StringValue (a varint count of
// UTF-16 units + 1, then each unit as a varint) for String values.
//
// Contract: as io::ByteReader — a value wholly inside the buffer, or io::DecodeError at the
// offset where the string began; no allocation larger than the bytes that remain.
#pragma once

#include <optional>
#include <string>

#include "io/byte_reader.h"

namespace ckpt::state {

// A writeUTF string as UTF-8 (invalid sequences are kept as U+FFFD, never refused: Flink reads
// them).
std::string read_utf(io::ByteReader& r, const char* what);

// A StringValue string as UTF-8; nullopt for Java null. Unpaired surrogates become U+FFFD.
std::optional<std::string> read_string_value(io::ByteReader& r, const char* what);

// Steps over a StringValue string without decoding it.
void skip_string_value(io::ByteReader& r, const char* what);

}  // namespace ckpt::state
