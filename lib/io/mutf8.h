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

// Why valid modified UTF-8 `bytes` does not survive mutf8_to_utf8 then utf8_to_mutf8 (the caller
// found it does not): the first unpaired surrogate, raw 0x00 byte or non-shortest form, with its
// byte offset, as a phrase such as "holds a raw 0x00 byte at byte 3, which Java would re-encode as
// C0 80".
std::string describe_utf8_loss(std::string_view bytes);

// Display conversion of bytes that may not be valid modified UTF-8: every byte that does not start
// a well-formed sequence becomes U+FFFD, the rest converts as mutf8_to_utf8 does.
std::string lenient_mutf8_to_utf8(std::string_view bytes);

}  // namespace ckpt::io
