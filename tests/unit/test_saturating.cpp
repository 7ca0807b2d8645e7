#include <doctest/doctest.h>

#include <cstdint>

#include "util/saturating.h"

using namespace ckpt::util;

TEST_CASE("saturating arithmetic clamps instead of overflowing") {
  CHECK(sat_add<int64_t>(INT64_MAX, 1) == INT64_MAX);
  CHECK(sat_add<int64_t>(INT64_MAX, INT64_MAX) == INT64_MAX);
  CHECK(sat_add<int64_t>(INT64_MIN, -1) == INT64_MIN);
  CHECK(sat_add<int64_t>(40, 2) == 42);
  CHECK(sat_add<uint64_t>(UINT64_MAX, 1) == UINT64_MAX);
  CHECK(sat_sub<int64_t>(INT64_MIN, 1) == INT64_MIN);
  CHECK(sat_sub<int64_t>(INT64_MAX, -1) == INT64_MAX);
  CHECK(sat_sub<int64_t>(0, INT64_MIN) == INT64_MAX);
  CHECK(sat_sub<uint64_t>(1, 2) == 0);
  CHECK(sat_mul<int64_t>(INT64_MAX, 2) == INT64_MAX);
  CHECK(sat_mul<int64_t>(INT64_MIN, 2) == INT64_MIN);
  CHECK(sat_mul<int64_t>(-3, 4) == -12);
  CHECK(sat_mul<uint64_t>(UINT64_MAX, 3) == UINT64_MAX);
  int64_t acc = INT64_MAX - 1;
  sat_accumulate<int64_t>(acc, 5);
  CHECK(acc == INT64_MAX);
  CHECK(size_or_zero(-1) == 0);
  CHECK(size_or_zero(INT64_MAX) == static_cast<uint64_t>(INT64_MAX));
  CHECK(clamp_to_i64(UINT64_MAX) == INT64_MAX);
  CHECK(!checked_add<uint64_t>(UINT64_MAX, 1));
  CHECK(checked_add<int64_t>(1, 2) == 3);
}
