#include "io/mutf8.h"

#include <cstring>

#include <fmt/format.h>

namespace ckpt::io {
namespace {

bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one UTF-16 code unit of valid modified UTF-8 at `i`, advancing `i`.
uint32_t next_unit(std::string_view b, std::size_t& i) {
  auto c = static_cast<unsigned char>(b[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  if ((c & 0xE0) == 0xC0) {
    uint32_t u = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(b[i + 1]) & 0x3Fu);
    i += 2;
    return u;
  }
  uint32_t u = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(b[i + 1]) & 0x3Fu) << 6) |
               (static_cast<unsigned char>(b[i + 2]) & 0x3Fu);
  i += 3;
  return u;
}

void put_mutf8_unit(std::string& out, uint32_t u) {
  if (u >= 0x01 && u < 0x80) {
    out.push_back(static_cast<char>(u));
  } else if (u < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (u >> 6)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (u >> 12)));
    out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
  }
}

}  // namespace

bool is_plain_ascii(std::string_view bytes) {
  // Eight bytes at a time (every handle path of every snapshot passes here): a word is plain
  // when no byte has its high bit set and no byte is zero (the classic has-zero-byte test).
  constexpr uint64_t kHigh = 0x8080808080808080ULL, kOnes = 0x0101010101010101ULL;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    if ((w & kHigh) != 0 || ((w - kOnes) & ~w & kHigh) != 0) return false;
  }
  for (char ch : bytes.substr(i)) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0 || c >= 0x80) return false;
  }
  return true;
}

std::optional<Mutf8Problem> check_mutf8(std::string_view b) {
  // Fast path: 8 bytes at a time while none has its high bit set (every byte < 0x80 is valid).
  std::size_t i = 0;
  while (i + 8 <= b.size()) {
    uint64_t w;
    std::memcpy(&w, b.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < b.size()) {
    auto c = static_cast<unsigned char>(b[i]);
    if (c < 0x80) {
      // Java's readUTF accepts a raw 0x00 byte even though writeUTF never emits one.
      ++i;
    } else if ((c & 0xE0) == 0xC0) {
      if (i + 1 >= b.size()) return Mutf8Problem{i, "a 2-byte sequence is cut off by the end of the string"};
      if (!is_cont(static_cast<unsigned char>(b[i + 1]))) return Mutf8Problem{i + 1, "a continuation byte 10xxxxxx"};
      i += 2;
    } else if ((c & 0xF0) == 0xE0) {
      if (i + 2 >= b.size()) return Mutf8Problem{i, "a 3-byte sequence is cut off by the end of the string"};
      if (!is_cont(static_cast<unsigned char>(b[i + 1]))) return Mutf8Problem{i + 1, "a continuation byte 10xxxxxx"};
      if (!is_cont(static_cast<unsigned char>(b[i + 2]))) return Mutf8Problem{i + 2, "a continuation byte 10xxxxxx"};
      i += 3;
    } else {
      return Mutf8Problem{i,
                          "a lead byte 0xxxxxxx, 110xxxxx or 1110xxxx (4-byte and stray "
                          "continuation bytes are not modified UTF-8)"};
    }
  }
  return std::nullopt;
}

std::string mutf8_to_utf8(std::string_view b) {
  if (is_plain_ascii(b)) return std::string(b);
  std::string out;
  out.reserve(b.size());
  std::size_t i = 0;
  while (i < b.size()) {
    uint32_t u = next_unit(b, i);
    if (u >= 0xD800 && u <= 0xDBFF && i < b.size()) {
      std::size_t j = i;
      uint32_t lo = next_unit(b, j);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        i = j;
        continue;
      }
    }
    put_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
  }
  return out;
}

std::string utf8_to_mutf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0xFFFD;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size() && is_cont(static_cast<unsigned char>(s[i + 1]))) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      len = 2;
    } else if ((c & 0xF0) == 0xE0 && i + 2 < s.size() && is_cont(static_cast<unsigned char>(s[i + 1])) &&
               is_cont(static_cast<unsigned char>(s[i + 2]))) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      len = 3;
    } else if ((c & 0xF8) == 0xF0 && i + 3 < s.size() && is_cont(static_cast<unsigned char>(s[i + 1])) &&
               is_cont(static_cast<unsigned char>(s[i + 2])) && is_cont(static_cast<unsigned char>(s[i + 3]))) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
      len = 4;
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put_mutf8_unit(out, 0xD800 + (cp >> 10));
      put_mutf8_unit(out, 0xDC00 + (cp & 0x3FF));
    } else {
      put_mutf8_unit(out, cp);
    }
  }
  return out;
}

std::string describe_utf8_loss(std::string_view s) {
  std::size_t i = 0;
  bool pending_high = false;
  std::size_t high_at = 0;
  uint32_t high = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    auto c = static_cast<unsigned char>(s[start]);
    uint32_t u = next_unit(s, i);
    const std::size_t len = i - start;
    bool is_low = u >= 0xDC00 && u <= 0xDFFF;
    if (pending_high && !is_low) {
      return fmt::format("holds an unpaired surrogate U+{:04X} at byte {}, which UTF-8 cannot carry", high, high_at);
    }
    if (c == 0) return fmt::format("holds a raw 0x00 byte at byte {}, which Java would re-encode as C0 80", start);
    if ((len == 2 && u < 0x80 && u != 0) || (len == 3 && u < 0x800)) {
      return fmt::format("holds a non-shortest encoding of U+{:04X} at byte {}, which Java would re-encode", u, start);
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      pending_high = true;
      high = u;
      high_at = start;
    } else if (is_low) {
      if (!pending_high) {
        return fmt::format("holds an unpaired surrogate U+{:04X} at byte {}, which UTF-8 cannot carry", u, start);
      }
      pending_high = false;
    }
  }
  if (pending_high) {
    return fmt::format("holds an unpaired surrogate U+{:04X} at byte {}, which UTF-8 cannot carry", high, high_at);
  }
  return "does not convert to UTF-8 and back to the same bytes";
}

std::string lenient_mutf8_to_utf8(std::string_view s) {
  std::string valid;  // re-encoded as valid modified UTF-8 first
  std::size_t i = 0;
  auto cont = [&](std::size_t k) { return k < s.size() && is_cont(static_cast<unsigned char>(s[k])); };
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      valid.push_back(static_cast<char>(c));
      ++i;
    } else if ((c & 0xE0) == 0xC0 && cont(i + 1)) {
      valid.append(s.substr(i, 2));
      i += 2;
    } else if ((c & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
      valid.append(s.substr(i, 3));
      i += 3;
    } else {
      valid.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return mutf8_to_utf8(valid);
}

}  // namespace ckpt::io
