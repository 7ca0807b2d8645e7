#include <doctest/doctest.h>

#include <random>
#include <string>

#include "io/mutf8.h"

TEST_CASE("is_plain_ascii: agrees with a byte-by-byte check at every length and position") {
  auto slow = [](const std::string& s) {
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      if (c == 0 || c >= 0x80) return false;
    }
    return true;
  };
  std::mt19937 rng(11);
  for (size_t len = 0; len <= 40; ++len) {
    std::string base(len, 'x');
    for (size_t i = 0; i < len; ++i) base[i] = static_cast<char>('!' + rng() % 90);
    CHECK(ckpt::io::is_plain_ascii(base));
    for (size_t pos = 0; pos < len; ++pos) {
      for (unsigned char bad : {0x00, 0x7F, 0x80, 0xC0, 0xFF, 0x01}) {
        std::string s = base;
        s[pos] = static_cast<char>(bad);
        CAPTURE(len);
        CAPTURE(pos);
        CAPTURE(static_cast<int>(bad));
        CHECK(ckpt::io::is_plain_ascii(s) == slow(s));
      }
    }
  }
}

TEST_CASE("describe_utf8_loss: the first reason a string does not survive UTF-8, with its byte") {
  using ckpt::io::describe_utf8_loss;
  CHECK(describe_utf8_loss(std::string("a\0b", 3)) ==
        "holds a raw 0x00 byte at byte 1, which Java would re-encode as C0 80");
  CHECK(describe_utf8_loss("x\xED\xA0\xBDy") ==
        "holds an unpaired surrogate U+D83D at byte 1, which UTF-8 cannot carry");
  CHECK(describe_utf8_loss("ab\xED\xA0\xBD") ==
        "holds an unpaired surrogate U+D83D at byte 2, which UTF-8 cannot carry");
  CHECK(describe_utf8_loss("\xED\xB8\x80") == "holds an unpaired surrogate U+DE00 at byte 0, which UTF-8 cannot carry");
  CHECK(describe_utf8_loss("\xC1\x81") ==
        "holds a non-shortest encoding of U+0041 at byte 0, which Java would re-encode");
  CHECK(describe_utf8_loss("z\xE0\x81\x81") ==
        "holds a non-shortest encoding of U+0041 at byte 1, which Java would re-encode");
  // C0 80 is how Java writes U+0000: no loss there, nor in a paired surrogate.
  CHECK(describe_utf8_loss("\xC0\x80\xED\xA0\xBD\xED\xB8\x80") ==
        "does not convert to UTF-8 and back to the same bytes");
}

TEST_CASE("lenient_mutf8_to_utf8: every byte that starts no well-formed sequence becomes U+FFFD") {
  using ckpt::io::lenient_mutf8_to_utf8;
  CHECK(lenient_mutf8_to_utf8("plain") == "plain");
  CHECK(lenient_mutf8_to_utf8("ok\xFF") == "ok\xEF\xBF\xBD");
  CHECK(lenient_mutf8_to_utf8("\xC3") == "\xEF\xBF\xBD");                  // cut-off 2-byte sequence
  CHECK(lenient_mutf8_to_utf8("\xC3\xA9\x80") == "\xC3\xA9\xEF\xBF\xBD");  // stray continuation byte
  CHECK(lenient_mutf8_to_utf8("x\xED\xA0\xBDy\xFF") == "x\xEF\xBF\xBDy\xEF\xBF\xBD");
}
