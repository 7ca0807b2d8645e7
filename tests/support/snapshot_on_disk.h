// Writing a built model to disk as a complete snapshot: every local file its handles reference
// (relative ones under the snapshot directory, absolute `file:` ones wherever they point, e.g. a
// job's shared/ directory) is created with the recorded size and deterministic, moderately
// compressible content, then `_metadata` is written. For tests and benchmarks of commands that
// read state files (convert --self-contained, pack, diff).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "flink/model.h"

namespace ckpt::testsupport {

// Creates missing parent directories. A file referenced several times (or by several segments)
// is written once, large enough for every reference. Returns the bytes written (without
// `_metadata`).
uint64_t write_snapshot_on_disk(const flink::Metadata& md, const std::filesystem::path& snapshot_dir);

// `n` bytes of deterministic content for `seed`: half pseudo-random, half repeated text, so that
// zstd compresses it about 2:1 like real RocksDB files.
std::string filler_bytes(uint64_t n, uint64_t seed);

}  // namespace ckpt::testsupport
