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
