// Operator ids from uids (spec §15): the ids Flink wrote into real `_metadata` files, and an
// independent transcription of the public MurmurHash3_x64_128 reference for every tail length.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>

#include "flink/operator_id.h"

using ckpt::flink::operator_id_from_uid;
using ckpt::flink::OperatorId;
using ckpt::flink::parse_operator_id;
using ckpt::flink::to_hex;

namespace {

// Straight port of Appleby's MurmurHash3_x64_128 (smhasher), seed 0, written the way the
// reference is: block loop, then a fall-through switch over the tail. Kept deliberately unlike
// the library code so that the two cannot share a mistake.
OperatorId reference_murmur3_x64_128(const std::string& key) {
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const int len = static_cast<int>(key.size());
  const int nblocks = len / 16;
  uint64_t h1 = 0, h2 = 0;
  const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  auto rotl64 = [](uint64_t x, int8_t r) { return (x << r) | (x >> (64 - r)); };
  auto fmix64 = [](uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
  };
  auto getblock64 = [&](int i) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | data[i * 8 + b];
    return v;
  };
  for (int i = 0; i < nblocks; i++) {
    uint64_t k1 = getblock64(i * 2 + 0);
    uint64_t k2 = getblock64(i * 2 + 1);
    k1 *= c1;
    k1 = rotl64(k1, 31);
    k1 *= c2;
    h1 ^= k1;
    h1 = rotl64(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= c2;
    k2 = rotl64(k2, 33);
    k2 *= c1;
    h2 ^= k2;
    h2 = rotl64(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }
  const uint8_t* tail = data + nblocks * 16;
  uint64_t k1 = 0, k2 = 0;
  switch (len & 15) {
    case 15:
      k2 ^= uint64_t(tail[14]) << 48;
      [[fallthrough]];
    case 14:
      k2 ^= uint64_t(tail[13]) << 40;
      [[fallthrough]];
    case 13:
      k2 ^= uint64_t(tail[12]) << 32;
      [[fallthrough]];
    case 12:
      k2 ^= uint64_t(tail[11]) << 24;
      [[fallthrough]];
    case 11:
      k2 ^= uint64_t(tail[10]) << 16;
      [[fallthrough]];
    case 10:
      k2 ^= uint64_t(tail[9]) << 8;
      [[fallthrough]];
    case 9:
      k2 ^= uint64_t(tail[8]) << 0;
      k2 *= c2;
      k2 = rotl64(k2, 33);
      k2 *= c1;
      h2 ^= k2;
      [[fallthrough]];
    case 8:
      k1 ^= uint64_t(tail[7]) << 56;
      [[fallthrough]];
    case 7:
      k1 ^= uint64_t(tail[6]) << 48;
      [[fallthrough]];
    case 6:
      k1 ^= uint64_t(tail[5]) << 40;
      [[fallthrough]];
    case 5:
      k1 ^= uint64_t(tail[4]) << 32;
      [[fallthrough]];
    case 4:
      k1 ^= uint64_t(tail[3]) << 24;
      [[fallthrough]];
    case 3:
      k1 ^= uint64_t(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k1 ^= uint64_t(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k1 ^= uint64_t(tail[0]) << 0;
      k1 *= c1;
      k1 = rotl64(k1, 31);
      k1 *= c2;
      h1 ^= k1;
      break;
    default:
      break;
  }
  h1 ^= uint64_t(len);
  h2 ^= uint64_t(len);
  h1 += h2;
  h2 += h1;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 += h2;
  h2 += h1;
  // Guava's asBytes(): h1 then h2, each little-endian.
  OperatorId out{};
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<uint8_t>(h1 >> (8 * i));
    out[8 + i] = static_cast<uint8_t>(h2 >> (8 * i));
  }
  return out;
}

}  // namespace

TEST_CASE("operator_id_from_uid reproduces the ids Flink wrote for these uids (spec §15)") {
  const std::pair<const char*, const char*> kPairs[] = {
      {"CheckpointingSource1", "69f32d314b97c6f7f9ed7873983167f2"},
      {"CheckpointingKeyedStateFlatMap1", "d5c8b168c6cbfe8c507a10f88b325243"},
      {"CheckpointingTimelyStatefulOperator1", "4b818c7923a927796d24b727201ba34d"},
      {"CheckpointingSource2", "1f2b5df5a66154aca61fcb26193792be"},
      {"CheckpointingKeyedStateFlatMap2", "dab25811652d3d4983a30c6e4afacb1c"},
      {"CheckpointingTimelyStatefulOperator2", "41e91aae0bee218c44306cf7d21940ad"},
  };
  for (const auto& pair : kPairs) {
    const std::string uid = pair.first;
    const std::string hex = pair.second;
    CAPTURE(uid);
    CHECK(to_hex(operator_id_from_uid(uid)) == hex);
    CHECK(reference_murmur3_x64_128(uid) == operator_id_from_uid(uid));
  }
}

TEST_CASE("operator_id_from_uid of the empty uid is all zero bytes (seed 0, no input)") {
  CHECK(operator_id_from_uid("") == OperatorId{});
  CHECK(reference_murmur3_x64_128("") == OperatorId{});
}

TEST_CASE("operator_id_from_uid matches the reference for every tail length") {
  // Lengths 1..33 cover every tail case (0..15 bytes) after zero, one and two full blocks. Bytes
  // >= 0x80 catch sign extension in the tail.
  for (int len = 1; len <= 33; ++len) {
    std::string ascii, high;
    for (int i = 0; i < len; ++i) {
      ascii.push_back(static_cast<char>('a' + (i * 7) % 26));
      high.push_back(static_cast<char>(0x80 + (i * 37) % 128));
    }
    CAPTURE(len);
    CHECK(operator_id_from_uid(ascii) == reference_murmur3_x64_128(ascii));
    CHECK(operator_id_from_uid(high) == reference_murmur3_x64_128(high));
  }
}

TEST_CASE("operator_id_from_uid hashes the UTF-8 bytes it is given") {
  const std::string uid = "caf\xC3\xA9-\xE6\x97\xA5\xE6\x9C\xAC-\xF0\x9F\x98\x80";  // café-日本-😀
  CHECK(operator_id_from_uid(uid) == reference_murmur3_x64_128(uid));
  CHECK(operator_id_from_uid(std::string("a\0b", 3)) == reference_murmur3_x64_128(std::string("a\0b", 3)));
  CHECK(operator_id_from_uid(std::string("a\0b", 3)) != operator_id_from_uid("ab"));
}

TEST_CASE("to_hex writes 32 lowercase digits, byte 0 first") {
  OperatorId id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i * 17);
  CHECK(to_hex(id) == "00112233445566778899aabbccddeeff");
  CHECK(to_hex(OperatorId{}) == std::string(32, '0'));
}

TEST_CASE("parse_operator_id inverts to_hex and rejects anything else") {
  const auto id = operator_id_from_uid("CheckpointingSource1");
  REQUIRE(parse_operator_id(to_hex(id)).has_value());
  CHECK(*parse_operator_id(to_hex(id)) == id);
  CHECK(parse_operator_id("69F32D314B97C6F7F9ED7873983167F2") == id);  // either case
  CHECK(parse_operator_id("69f32D314b97C6f7F9ed7873983167f2") == id);

  CHECK_FALSE(parse_operator_id(""));
  CHECK_FALSE(parse_operator_id("69f32d314b97c6f7f9ed7873983167f"));    // 31 digits
  CHECK_FALSE(parse_operator_id("69f32d314b97c6f7f9ed7873983167f20"));  // 33 digits
  CHECK_FALSE(parse_operator_id("0x69f32d314b97c6f7f9ed7873983167f2"));
  CHECK_FALSE(parse_operator_id("69f32d314b97c6f7f9ed7873983167g2"));  // 'g'
  CHECK_FALSE(parse_operator_id(" 9f32d314b97c6f7f9ed7873983167f2"));
  CHECK_FALSE(parse_operator_id("69f32d31-4b97-c6f7-f9ed-7873983167f2"));
  CHECK_FALSE(parse_operator_id(std::string("69f32d314b97c6f7f9ed7873983167f\0", 32)));
  // Characters next to the digit ranges in ASCII.
  for (char c : {'/', ':', '@', 'G', '`', 'g'}) {
    std::string hex(32, '0');
    hex[5] = c;
    CAPTURE(c);
    CHECK_FALSE(parse_operator_id(hex));
  }
}
