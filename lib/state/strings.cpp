#include "state/strings.h"

#include <fmt/format.h>

#include "io/mutf8.h"
#include "util/json_text.h"

namespace ckpt::state {

std::string read_utf(io::ByteReader& r, const char* what) {
  uint16_t n = r.u16(what);
  return io::lenient_mutf8_to_utf8(r.bytes(n, what));
}

namespace {

// StringValue's varint: 7 bits a byte, least significant first, high bit = more. Java reads it
// into an int; more than 5 bytes cannot come from a Java writer.
uint32_t varint(io::ByteReader& r, const char* what) {
  uint64_t at = r.offset();
  uint32_t v = 0;
  for (int shift = 0;; shift += 7) {
    if (shift > 28) io::ByteReader::fail(at, fmt::format("{}: a variable-length number longer than 5 bytes", what));
    uint8_t b = r.u8(what);
    v |= static_cast<uint32_t>(b & 0x7F) << shift;
    if (b < 0x80) return v;
  }
}

uint32_t string_length(io::ByteReader& r, const char* what, bool& is_null) {
  uint64_t at = r.offset();
  uint32_t len_plus_one = varint(r, what);
  is_null = len_plus_one == 0;
  if (is_null) return 0;
  uint32_t units = len_plus_one - 1;
  r.check_fits(at, units, 1, what);  // every unit takes at least one byte
  return units;
}

}  // namespace

std::optional<std::string> read_string_value(io::ByteReader& r, const char* what) {
  bool is_null = false;
  uint32_t units = string_length(r, what, is_null);
  if (is_null) return std::nullopt;
  std::string out;
  out.reserve(units);
  uint32_t high = 0;  // a pending high surrogate
  for (uint32_t i = 0; i < units; ++i) {
    uint32_t c = varint(r, what) & 0xFFFF;  // Java keeps the char: the low 16 bits
    if (c >= 0xD800 && c < 0xDC00) {
      if (high != 0) util::append_utf8(out, 0xFFFD);
      high = c;
      continue;
    }
    if (c >= 0xDC00 && c < 0xE000) {
      if (high != 0) {
        util::append_utf8(out, 0x10000 + ((high - 0xD800) << 10) + (c - 0xDC00));
        high = 0;
      } else {
        util::append_utf8(out, 0xFFFD);
      }
      continue;
    }
    if (high != 0) {
      util::append_utf8(out, 0xFFFD);
      high = 0;
    }
    util::append_utf8(out, c);
  }
  if (high != 0) util::append_utf8(out, 0xFFFD);
  return out;
}

void skip_string_value(io::ByteReader& r, const char* what) {
  bool is_null = false;
  uint32_t units = string_length(r, what, is_null);
  for (uint32_t i = 0; i < units; ++i) varint(r, what);
}

}  // namespace ckpt::state
