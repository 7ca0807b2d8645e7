// util/json_text: every byte at every position of a word is escaped as RFC 8259 says (the
// word-at-a-time scan must never skip a byte that needs an escape).
#include <doctest/doctest.h>

#include <string>

#include "util/json_text.h"

using namespace ckpt;

namespace {

// The escape of one ASCII byte, written out by hand.
std::string escaped(unsigned char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      break;
  }
  if (c < 0x20) {
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("\\u00") + kHex[c >> 4] + kHex[c & 0xF];
  }
  return std::string(1, static_cast<char>(c));
}

}  // namespace

TEST_CASE("JSON strings: each ASCII byte at each offset of 24, escaped as RFC 8259 says") {
  for (int c = 0; c < 0x80; ++c) {
    for (std::size_t at = 0; at < 24; ++at) {
      std::string s(24, 'a');
      s[at] = static_cast<char>(c);
      std::string out;
      util::append_json_string(out, s);
      std::string want =
          "\"" + std::string(at, 'a') + escaped(static_cast<unsigned char>(c)) + std::string(23 - at, 'a') + "\"";
      REQUIRE_MESSAGE(out == want, "byte " << c << " at " << at);
    }
  }
  // Non-ASCII: well-formed UTF-8 kept, U+2028 escaped, a stray byte replaced, at any offset.
  for (std::size_t at = 0; at < 16; ++at) {
    std::string pad(at, 'x');
    std::string out;
    util::append_json_string(out, pad + "\xC3\xA9" + pad);
    CHECK(out == "\"" + pad + "\xC3\xA9" + pad + "\"");
    out.clear();
    util::append_json_string(out, pad + "\xE2\x80\xA8" + pad);
    CHECK(out == "\"" + pad + "\\u2028" + pad + "\"");
    out.clear();
    util::append_json_string(out, pad + "\xFF" + pad);
    CHECK(out == "\"" + pad + "\\ufffd" + pad + "\"");
  }
}

TEST_CASE("JSON string escapes read back; a malformed \\u or a trailing backslash is refused, not thrown") {
  CHECK(util::unescape_json_string(R"(a\"b\\c\n\t\u00e9\u20AC)") == "a\"b\\c\n\t\xC3\xA9\xE2\x82\xAC");
  CHECK(util::unescape_json_string("plain") == "plain");
  CHECK(!util::unescape_json_string(R"(x\)"));
  CHECK(!util::unescape_json_string(R"(\u12)"));
  CHECK(!util::unescape_json_string(R"(\uzzzz)"));
  CHECK(!util::unescape_json_string(R"(\u+123)"));
  std::string out;
  util::append_utf8(out, 0x41);
  util::append_utf8(out, 0xE9);
  util::append_utf8(out, 0x20AC);
  CHECK(out == "A\xC3\xA9\xE2\x82\xAC");
}
