// Small non-cryptographic hashes shared by the pipeline and the benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ckpt::util {

// SplitMix64 (Steele, Lea, Flood 2014): a fixed increment, then a finalizer that spreads every input
// bit over the output. Deterministic across platforms, so generated data is reproducible.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A hash of a byte string for in-memory hash tables: eight bytes per multiply, then splitmix64's
// finalizer, so keys that differ only late (file paths under one long directory) still spread
// over every bit. Not stable across versions: never persist it.
inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x6A09E667F3BCC909ULL ^ (s.size() * 0x9E3779B97F4A7C15ULL);
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
  }
  return splitmix64(h);
}

}  // namespace ckpt::util
