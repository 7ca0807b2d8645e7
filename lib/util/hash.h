// Small non-cryptographic hashes shared by the pipeline and the benchmarks.
#pragma once

#include <cstdint>

namespace ckpt::util {

// SplitMix64 (Steele, Lea, Flood 2014): a fixed increment, then a finalizer that spreads every input
// bit over the output. Deterministic across platforms, so generated data is reproducible.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace ckpt::util
