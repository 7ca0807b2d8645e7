// Key-group arithmetic (spec §14.1, §14.2): every test vector of the spec, the abs rule of
// Flink's murmur mix at its edges, and the partition properties of the subtask ranges.
#include <doctest/doctest.h>

#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "flink/key_groups.h"
#include "util/error.h"

using namespace ckpt::flink;

namespace {

// Multiplicative inverse of an odd number modulo 2^32 (Newton's iteration doubles the correct
// bits).
uint32_t inverse(uint32_t a) {
  uint32_t x = a;
  for (int i = 0; i < 5; ++i) x *= 2 - a * x;
  return x;
}

uint32_t rotr(uint32_t x, int r) { return (x >> r) | (x << (32 - r)); }

// The int whose raw MurmurHash3_x86_32 (before Flink's abs rule) is `raw`: every step of the
// 4-byte hash is a bijection, so it can be run backwards.
int32_t preimage_of_raw_murmur(uint32_t raw) {
  uint32_t k = raw;
  k ^= k >> 16;
  k *= inverse(0xC2B2AE35u);
  k ^= (k >> 13) ^ (k >> 26);
  k *= inverse(0x85EBCA6Bu);
  k ^= k >> 16;
  k ^= 4;
  k = (k - 0xE6546B64u) * inverse(5);
  k = rotr(k, 13);
  k *= inverse(0x1B873593u);
  k = rotr(k, 15);
  k *= inverse(0xCC9E2D51u);
  return static_cast<int32_t>(k);
}

}  // namespace

TEST_CASE("murmur_mix and key groups of ints match spec §14.1") {
  struct Vector {
    int32_t key;
    int32_t mix;
    int32_t kg128;
  };
  const Vector kVectors[] = {
      {0, 593689054, 94},   {1, 68075478, 86},           {2, 1085422463, 127},         {42, 1134849565, 29},
      {-1, 1982413648, 80}, {INT32_MAX, 1653689534, 62}, {INT32_MIN, 1718298732, 108},
  };
  for (const auto& v : kVectors) {
    CAPTURE(v.key);
    CHECK(java_hash_int(v.key) == v.key);
    CHECK(murmur_mix(v.key) == v.mix);
    CHECK(key_group_for_hash(java_hash_int(v.key), 128) == v.kg128);
  }
  CHECK(key_group_for_hash(0, 32768) == 31198);
  CHECK(key_group_for_hash(1, 32768) == 16342);
  CHECK(key_group_for_hash(42, 32768) == 28189);
}

TEST_CASE("String keys hash like java.lang.String (spec §14.1)") {
  CHECK(java_hash_string("hello") == 99162322);
  CHECK(java_hash_string("a") == 97);
  CHECK(java_hash_string("Flink") == 67968320);
  CHECK(murmur_mix(99162322) == 1715862179);
  CHECK(murmur_mix(97) == 1455541201);
  CHECK(murmur_mix(67968320) == 688019071);
  CHECK(key_group_for_hash(java_hash_string("hello"), 128) == 35);
  CHECK(key_group_for_hash(java_hash_string("hello"), 4096) == 2723);
  CHECK(key_group_for_hash(java_hash_string("a"), 128) == 81);
  CHECK(key_group_for_hash(java_hash_string("Flink"), 128) == 127);
}

TEST_CASE("java_hash_string counts UTF-16 units, as Java does") {
  CHECK(java_hash_string("") == 0);
  CHECK(java_hash_string_utf16(u"") == 0);
  CHECK(java_hash_string_utf16(u"hello") == 99162322);
  CHECK(java_hash_string("\xC3\xBC") == 0xFC);                    // ü: one unit
  CHECK(java_hash_string("\xE6\x97\xA5\xE6\x9C\xAC") == 835047);  // 日本 = 0x65E5*31 + 0x672C
  CHECK(java_hash_string("\xF0\x9F\x98\x80") == 1772899);         // 😀 = D83D DE00
  CHECK(java_hash_string_utf16(u"\xD83D\xDE00") == 1772899);
  CHECK(java_hash_string(std::string("a\0", 2)) == 97 * 31);  // NUL is a unit of its own
  CHECK(java_hash_string("\xFF") == 0xFFFD);                  // bad byte: U+FFFD
  // Wrapping multiplication: a long string overflows int many times over.
  const std::string long_ascii(1000, 'z');
  const std::u16string long_utf16(1000, u'z');
  CHECK(java_hash_string(long_ascii) == java_hash_string_utf16(long_utf16));
  // "Aa" and "BB" collide in Java.
  CHECK(java_hash_string("Aa") == java_hash_string("BB"));
  CHECK(java_hash_string("Aa") == 2112);
}

TEST_CASE("java_hash_long folds the two halves like Long.hashCode()") {
  CHECK(java_hash_long(int64_t{1} << 40) == 256);
  CHECK(key_group_for_hash(java_hash_long(int64_t{1} << 40), 128) == 54);
  CHECK(java_hash_long(0) == 0);
  CHECK(java_hash_long(42) == 42);
  CHECK(java_hash_long(-1) == 0);
  CHECK(java_hash_long(INT64_MIN) == INT32_MIN);
  CHECK(java_hash_long(INT64_MAX) == INT32_MIN);
  CHECK(java_hash_long(0x100000001LL) == 0);
}

TEST_CASE("murmur_mix applies Flink's abs rule at its edges") {
  // Raw hash INT_MIN has no negation: Flink maps it to 0.
  const int32_t to_min = preimage_of_raw_murmur(0x80000000u);
  CHECK(murmur_mix(to_min) == 0);
  CHECK(key_group_for_hash(to_min, 128) == 0);
  const int32_t to_minus_one = preimage_of_raw_murmur(0xFFFFFFFFu);
  CHECK(murmur_mix(to_minus_one) == 1);
  const int32_t to_min_plus_one = preimage_of_raw_murmur(0x80000001u);
  CHECK(murmur_mix(to_min_plus_one) == INT32_MAX);
  const int32_t to_max = preimage_of_raw_murmur(0x7FFFFFFFu);
  CHECK(murmur_mix(to_max) == INT32_MAX);
  // The inversion itself is right: it finds the inputs of known outputs.
  CHECK(preimage_of_raw_murmur(593689054u) == 0);
  // int 42's raw hash is negative: its spec vector already goes through the negation.
  CHECK(preimage_of_raw_murmur(static_cast<uint32_t>(-1134849565)) == 42);

  for (int32_t h = -100000; h <= 100000; h += 7) CHECK_MESSAGE(murmur_mix(h) >= 0, h);
}

TEST_CASE("key_group_for_hash stays in [0, maxParallelism)") {
  for (int32_t max_p : {1, 2, 3, 10, 127, 128, 129, 1000, 32768, INT32_MAX}) {
    for (int32_t h : {0, 1, -1, 42, INT32_MIN, INT32_MAX, 99162322}) {
      const int32_t kg = key_group_for_hash(h, max_p);
      CHECK(kg >= 0);
      CHECK(kg < max_p);
    }
  }
  CHECK(key_group_for_hash(12345, 1) == 0);
  CHECK_THROWS_AS(key_group_for_hash(0, 0), ckpt::util::Error);
  CHECK_THROWS_AS(key_group_for_hash(0, -128), ckpt::util::Error);
}

TEST_CASE("range_of_subtask matches the ranges of spec §14.1") {
  auto range = [](int32_t max_p, int32_t p, int32_t i) {
    const auto r = range_of_subtask(max_p, p, i);
    return std::vector<int32_t>{r.start, r.end_inclusive()};
  };
  CHECK(range(128, 3, 0) == std::vector<int32_t>{0, 42});
  CHECK(range(128, 3, 1) == std::vector<int32_t>{43, 85});
  CHECK(range(128, 3, 2) == std::vector<int32_t>{86, 127});
  CHECK(range(128, 4, 0) == std::vector<int32_t>{0, 31});
  CHECK(range(128, 4, 1) == std::vector<int32_t>{32, 63});
  CHECK(range(128, 4, 2) == std::vector<int32_t>{64, 95});
  CHECK(range(128, 4, 3) == std::vector<int32_t>{96, 127});
  CHECK(range(10, 3, 0) == std::vector<int32_t>{0, 3});
  CHECK(range(10, 3, 1) == std::vector<int32_t>{4, 6});
  CHECK(range(10, 3, 2) == std::vector<int32_t>{7, 9});
  CHECK(range_of_subtask(128, 3, 1).count == 43);
  CHECK(range(1, 1, 0) == std::vector<int32_t>{0, 0});
  CHECK(range(32768, 1, 0) == std::vector<int32_t>{0, 32767});
}

TEST_CASE("subtask ranges partition the key groups and agree with subtask_for_key_group") {
  auto check_partition = [](int32_t max_p, int32_t p) {
    int32_t next = 0;
    for (int32_t i = 0; i < p; ++i) {
      const auto r = range_of_subtask(max_p, p, i);
      if (r.start != next || r.count < 1) return false;  // p <= maxP: never empty
      for (int32_t kg = r.start; kg <= r.end_inclusive(); ++kg) {
        if (subtask_for_key_group(max_p, p, kg) != i) return false;
      }
      next = r.start + r.count;
    }
    return next == max_p;
  };
  for (int32_t max_p = 1; max_p <= 130; ++max_p) {
    for (int32_t p = 1; p <= max_p; ++p) {
      CAPTURE(max_p);
      CAPTURE(p);
      REQUIRE(check_partition(max_p, p));
    }
  }
  for (int32_t p : {1, 2, 3, 7, 100, 1000, 4095, 32767, 32768}) {
    CAPTURE(p);
    CHECK(check_partition(32768, p));
  }
}

TEST_CASE("subtask arithmetic is exact beyond Flink's int range") {
  // Flink would overflow int here (and never gets here: it caps maxParallelism at 32768).
  const auto last = range_of_subtask(INT32_MAX, 3, 2);
  CHECK(last.end_inclusive() == INT32_MAX - 1);
  CHECK(last.start == 1431655765);
  CHECK(range_of_subtask(INT32_MAX, INT32_MAX, INT32_MAX - 1).start == INT32_MAX - 1);
  CHECK(range_of_subtask(INT32_MAX, INT32_MAX, INT32_MAX - 1).count == 1);
  CHECK(subtask_for_key_group(INT32_MAX, 3, INT32_MAX - 1) == 2);
  CHECK(subtask_for_key_group(INT32_MAX, INT32_MAX, INT32_MAX - 1) == INT32_MAX - 1);
  CHECK(subtask_for_key_group(32768, 32768, 32767) == 32767);
}

TEST_CASE("range and subtask functions reject arguments outside their preconditions") {
  CHECK_THROWS_AS(range_of_subtask(128, 0, 0), ckpt::util::Error);
  CHECK_THROWS_AS(range_of_subtask(128, -1, 0), ckpt::util::Error);
  CHECK_THROWS_AS(range_of_subtask(4, 5, 0), ckpt::util::Error);
  CHECK_THROWS_AS(range_of_subtask(0, 0, 0), ckpt::util::Error);
  CHECK_THROWS_AS(range_of_subtask(128, 4, 4), ckpt::util::Error);
  CHECK_THROWS_AS(range_of_subtask(128, 4, -1), ckpt::util::Error);
  CHECK_THROWS_AS(subtask_for_key_group(128, 4, 128), ckpt::util::Error);
  CHECK_THROWS_AS(subtask_for_key_group(128, 4, -1), ckpt::util::Error);
  CHECK_THROWS_AS(subtask_for_key_group(128, 0, 0), ckpt::util::Error);
  CHECK_THROWS_AS(subtask_for_key_group(2, 3, 0), ckpt::util::Error);
}

TEST_CASE("default_max_parallelism matches spec §14.1") {
  for (int32_t p = 1; p <= 85; ++p) CHECK(default_max_parallelism(p) == 128);
  CHECK(default_max_parallelism(86) == 256);
  CHECK(default_max_parallelism(100) == 256);
  CHECK(default_max_parallelism(170) == 256);  // 170 + 85 = 255
  CHECK(default_max_parallelism(171) == 256);  // 171 + 85 = 256, already a power of two
  CHECK(default_max_parallelism(172) == 512);  // 172 + 86 = 258
  CHECK(default_max_parallelism(1000) == 2048);
  CHECK(default_max_parallelism(10923) == 16384);  // 10923 + 5461 = 16384
  CHECK(default_max_parallelism(10924) == 32768);
  CHECK(default_max_parallelism(21846) == 32768);
  CHECK(default_max_parallelism(32768) == kMaxMaxParallelism);
  CHECK(default_max_parallelism(INT32_MAX) == kMaxMaxParallelism);
  CHECK_THROWS_AS(default_max_parallelism(0), ckpt::util::Error);
  CHECK_THROWS_AS(default_max_parallelism(-5), ckpt::util::Error);
  for (int32_t p = 1; p <= 40000; ++p) {
    const int32_t m = default_max_parallelism(p);
    if (m < 128 || m > 32768 || (m & (m - 1)) != 0) FAIL("not a power of two in range: p=" << p);
  }
}

TEST_CASE("key_group_prefix_bytes: one byte up to 128 key groups (spec §14.2)") {
  CHECK(key_group_prefix_bytes(1) == 1);
  CHECK(key_group_prefix_bytes(127) == 1);
  CHECK(key_group_prefix_bytes(128) == 1);
  CHECK(key_group_prefix_bytes(129) == 2);
  CHECK(key_group_prefix_bytes(kMaxMaxParallelism) == 2);
}
