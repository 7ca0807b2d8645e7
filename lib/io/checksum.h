// Checksums. XXH64 (Yann Collet's xxHash, 64-bit variant, seed 0 unless given): the per-file checksum of
// ckpt's pack archives (formats/pack-format.md). Computed by Debian's libxxhash.
//
// Why XXH64: it is the checksum zstd itself uses for frame content and runs at memory speed. It
// detects corruption, not tampering; a pack is not a signature.
//
// Contract: Xxh64 fed any split of the same bytes yields xxh64() of the concatenation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ckpt::io {

class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void update(std::string_view bytes);
  uint64_t digest() const;

 private:
  // libxxhash's XXH64_state_t (88 bytes), held by value so that an Xxh64 needs no allocation and
  // xxhash.h stays out of this header; checksum.cpp asserts the size.
  alignas(8) unsigned char state_[88];
};

uint64_t xxh64(std::string_view bytes, uint64_t seed = 0);

// CRC-32C (Castagnoli), continuing from `crc` (0 to start): the checksum of RocksDB's log records
// and of Snappy's framing format.
uint32_t crc32c(std::string_view data, uint32_t crc = 0);
// The masked form both store (RocksDB util/crc32c.h Mask, xerial's Snappy framing): a CRC of data
// that itself holds CRCs stays strong. crc32c_unmask inverts it.
uint32_t crc32c_mask(uint32_t crc);
uint32_t crc32c_unmask(uint32_t masked);

}  // namespace ckpt::io
