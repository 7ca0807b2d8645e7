// XXH64 (Yann Collet's xxHash, 64-bit variant, seed 0 unless given): the per-file checksum of
// ckpt's pack archives (formats/pack-format.md).
//
// Why XXH64: it is the checksum zstd itself uses for frame content, runs at memory speed, and its
// specification is small enough to carry here (libzstd does not export its copy). It detects
// corruption, not tampering; a pack is not a signature.
//
// Contract: Xxh64 fed any split of the same bytes yields xxh64() of the concatenation.
#pragma once

#include <cstdint>
#include <string_view>

namespace ckpt::io {

class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void update(std::string_view bytes);
  uint64_t digest() const;

 private:
  uint64_t v_[4];
  uint64_t seed_;
  uint64_t total_ = 0;
  unsigned char buf_[32];
  std::size_t buffered_ = 0;
};

uint64_t xxh64(std::string_view bytes, uint64_t seed = 0);

}  // namespace ckpt::io
