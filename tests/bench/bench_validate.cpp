// Makes the data set of the `ckpt validate --deep` benchmark: real RocksDB SST files (written by
// RocksDB's SstFileWriter, Flink's key layout: 1-byte key-group prefix for maxParallelism 128,
// LZ4/Snappy-compressed blocks of incompressible values) totalling at least GIB GiB, plus a
// `_metadata` (written by ckpt's writer) whose incremental RocksDB handles reference them as
// relative files, so that `ckpt validate --deep DIR` checks exactly the files that
// `sst_dump --command=verify --file=DIR` and `cat DIR/*.sst` read. tests/bench/run.sh times the
// three in one run.
//
// Usage: bench_validate DIR [GIB=2]
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "flink/builder.h"
#include "flink/key_groups.h"
#include "flink/metadata_writer.h"
#include "io/atomic_file.h"
#include "rocks/sst_writer.h"

using namespace ckpt;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_validate DIR [GIB]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  const double gib = argc > 2 ? std::atof(argv[2]) : 2.0;
  const uint64_t target = static_cast<uint64_t>(gib * (1ull << 30));
  constexpr int kMaxP = 128, kPar = 2;
  constexpr uint64_t kFileBytes = 128ull << 20;
  fs::create_directories(dir);

  flink::Metadata md;
  md.version = 3;  // Flink 1.15: tag-11 handles, no properties trailer
  md.checkpoint_id = 1;
  flink::Builder b(md);
  std::mt19937_64 rng(42);
  flink::OperatorState op;
  op.id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  op.parallelism = kPar;
  op.max_parallelism = kMaxP;
  const uint64_t per_subtask = (target + kPar - 1) / kPar;
  uint64_t total = 0;
  int file_no = 10;
  std::string value(1000, '\0');
  for (int s = 0; s < kPar; ++s) {
    flink::KeyGroupRange range = flink::range_of_subtask(kMaxP, kPar, s);
    std::vector<flink::NamedStream> shared;
    uint64_t written = 0;
    uint64_t key_no = 0;
    while (written < per_subtask) {
      std::string name = flink::random_uuid(rng) + ".sst";
      rocks::SstWriter w(dir / name);
      uint64_t in_file = 0;
      // Key groups ascend across the subtask's files: each file covers a slice of its range.
      while (in_file < kFileBytes) {
        int kg = range.start + static_cast<int>((written + in_file) * static_cast<uint64_t>(range.count) / per_subtask);
        if (kg > range.end_inclusive()) kg = range.end_inclusive();
        std::string key(1, static_cast<char>(kg));
        key += fmt::format("{:016x}", key_no++);
        for (std::size_t i = 0; i < value.size(); i += 8) {
          uint64_t r = rng();
          std::memcpy(&value[i], &r, std::min<std::size_t>(8, value.size() - i));
        }
        w.put(key, value);
        in_file += key.size() + value.size();
      }
      uint64_t size = w.finish();
      written += size;
      total += size;
      shared.push_back(b.named(fmt::format("{:06}.sst", file_no++), b.relative_file(name, static_cast<int64_t>(size))));
    }
    flink::SubtaskState st;
    st.index = s;
    st.managed_keyed =
        b.incremental(1, flink::random_uuid(rng), range, static_cast<int64_t>(written),
                      b.inline_bytes(flink::random_uuid(rng), "meta"), std::move(shared), {}, flink::random_uuid(rng));
    op.subtasks.push_back(std::move(st));
  }
  md.operators.push_back(std::move(op));
  io::write_file_atomically(dir / "_metadata", flink::write_metadata(md));
  std::printf("%s: %d SST files, %.2f GiB\n", dir.c_str(), file_no - 10, static_cast<double>(total) / (1ull << 30));
  return 0;
}
