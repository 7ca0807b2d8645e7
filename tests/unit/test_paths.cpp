#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "snapshot/paths.h"

using ckpt::snapshot::is_plainly_normal;

TEST_CASE("is_plainly_normal: never true for a path lexically_normal would change") {
  // Every string of up to 7 characters over {a, ., /}: the fast paths trust this function.
  const char alphabet[] = {'a', '.', '/'};
  int plain = 0;
  for (int len = 0; len <= 7; ++len) {
    int combos = 1;
    for (int i = 0; i < len; ++i) combos *= 3;
    for (int c = 0; c < combos; ++c) {
      std::string p;
      for (int i = 0, x = c; i < len; ++i, x /= 3) p += alphabet[x % 3];
      if (!is_plainly_normal(p)) continue;
      ++plain;
      CAPTURE(p);
      CHECK(std::filesystem::path(p).lexically_normal().native() == p);
      CHECK((p == "/" || p.back() != '/'));
    }
  }
  CHECK(plain > 100);
  for (const char* p : {"/", "a", "/a/b", "/tmp/r/c5ff/shared/0123-abcd", ".a", "a..", "/..a/b.", "a/.b"}) {
    CAPTURE(p);
    CHECK(is_plainly_normal(p));
  }
  for (const char* p : {"", "a/", "/a//b", "/a/./b", "/a/../b", ".", "..", "./a", "/a/.", "/a/..", "//"}) {
    CAPTURE(p);
    CHECK_FALSE(is_plainly_normal(p));
  }
}
