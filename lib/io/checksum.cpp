#include "io/checksum.h"

#include <array>

#define XXH_STATIC_LINKING_ONLY  // the state's layout, to hold it by value
#include <xxhash.h>

namespace ckpt::io {
namespace {

static_assert(sizeof(XXH64_state_t) <= 88 && alignof(XXH64_state_t) <= 8, "Xxh64::state_ must hold an XXH64_state_t");

}  // namespace

Xxh64::Xxh64(uint64_t seed) { XXH64_reset(reinterpret_cast<XXH64_state_t*>(state_), seed); }

void Xxh64::update(std::string_view bytes) {
  XXH64_update(reinterpret_cast<XXH64_state_t*>(state_), bytes.data(), bytes.size());
}

uint64_t Xxh64::digest() const { return XXH64_digest(reinterpret_cast<const XXH64_state_t*>(state_)); }

uint64_t xxh64(std::string_view bytes, uint64_t seed) { return XXH64(bytes.data(), bytes.size(), seed); }

namespace {

constexpr auto kCrc32cTable = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}();

}  // namespace

uint32_t crc32c(std::string_view data, uint32_t crc) {
  crc = ~crc;
  for (char ch : data) crc = kCrc32cTable[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

uint32_t crc32c_unmask(uint32_t masked) {
  uint32_t rot = masked - 0xA282EAD8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace ckpt::io
