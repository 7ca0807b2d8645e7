// Java "modified UTF-8" (DataOutput.writeUTF), the string encoding of `_metadata` (spec §1.2).
//
// ckpt keeps strings as their raw modified-UTF-8 bytes so that they round-trip exactly; these
// functions validate them and convert to and from standard UTF-8 at the edges (display, JSON).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ckpt::io {

struct Mutf8Problem {
  std::size_t offset;   // byte inside the string
  const char* message;  // what was expected there
};

// nullopt when `bytes` is valid modified UTF-8 as Java's readUTF accepts it.
std::optional<Mutf8Problem> check_mutf8(std::string_view bytes);

// True when every byte is 0x01..0x7F: then the bytes are also standard UTF-8 (the common case).
bool is_plain_ascii(std::string_view bytes);

// Standard UTF-8 of valid modified UTF-8. Surrogate pairs become one 4-byte sequence; an unpaired
// surrogate (legal in Java, not in UTF-8) becomes U+FFFD.
std::string mutf8_to_utf8(std::string_view bytes);

// Modified UTF-8 of standard UTF-8 (NUL as C0 80, supplementary characters as two 3-byte
// surrogates). Invalid UTF-8 input bytes are each encoded as U+FFFD.
std::string utf8_to_mutf8(std::string_view utf8);

}  // namespace ckpt::io
