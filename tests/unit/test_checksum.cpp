// io::Xxh64: published test vectors, zstd's own frame checksum as a reference, and split
// invariance.
#include <doctest/doctest.h>
#include <zstd.h>

#include <string>

#include "io/checksum.h"
#include "support/snapshot_on_disk.h"

using namespace ckpt;

TEST_CASE("xxh64 matches the reference vectors") {
  CHECK(io::xxh64("") == 0xEF46DB3751D8E999ULL);
  CHECK(io::xxh64("a") == 0xD24EC4F1A98C6E5BULL);
  CHECK(io::xxh64("abc") == 0x44BC2CF5AD770999ULL);
}

TEST_CASE("xxh64 agrees with the checksum zstd stores in its frames") {
  for (uint64_t n : {0ULL, 1ULL, 7ULL, 31ULL, 32ULL, 33ULL, 100ULL, 4096ULL, 100003ULL}) {
    CAPTURE(n);
    std::string data = testsupport::filler_bytes(n, n + 3);
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    std::string out(ZSTD_compressBound(n), '\0');
    std::size_t r = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
    ZSTD_freeCCtx(c);
    REQUIRE(!ZSTD_isError(r));
    // The frame ends with the low 32 bits of XXH64(content, seed 0), little endian.
    uint32_t stored = 0;
    for (int i = 3; i >= 0; --i)
      stored = (stored << 8) | static_cast<unsigned char>(out[r - 4 + static_cast<std::size_t>(i)]);
    CHECK(stored == static_cast<uint32_t>(io::xxh64(data)));
  }
}

TEST_CASE("xxh64 streaming equals one shot for any split") {
  std::string data = testsupport::filler_bytes(1000, 9);
  uint64_t want = io::xxh64(data);
  for (std::size_t step : {1u, 3u, 31u, 32u, 33u, 64u, 999u}) {
    io::Xxh64 h;
    for (std::size_t i = 0; i < data.size(); i += step) h.update(std::string_view(data).substr(i, step));
    CHECK(h.digest() == want);
  }
}
