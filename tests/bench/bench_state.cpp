// The input of the state section of run.sh (issue "state contents", item 6): a native RocksDB
// snapshot of about GIB gibibytes whose meta files are Flink's keyed backend proxies, so that
// `ckpt state` decodes every entry (testsupport::write_rocks_snapshot: Integer keys, byte[]
// values, lists of Longs, timers; random bytes, so the SST files hold about as much as the state).
// Usage: bench_state DIR GIB   (prints the snapshot directory, then the SST files' count and bytes)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/rocks_snapshot.h"

using namespace ckpt;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_state DIR GIB\n");
    return 2;
  }
  const double gib = std::strtod(argv[2], nullptr);
  if (!(gib > 0)) {
    std::fprintf(stderr, "bench_state: GIB must be positive\n");
    return 2;
  }
  try {
    testsupport::RocksSnapshotSpec spec;
    spec.subtasks = 2;
    spec.db.max_parallelism = 128;
    spec.db.value_bytes = 1000;
    // Per subtask: flushes x keys_per_flush writes of ~1 KB over key_space keys (later flushes
    // overwrite), each flush one table file per column family.
    const double per_subtask = gib * 1024 * 1024 * 1024 / spec.subtasks;
    spec.db.flushes = 8;
    // Keys are drawn with replacement: about 1/8 of a flush's writes replace one of the same flush
    // or are deletions, which never reach its table file; hence the 8/7.
    spec.db.keys_per_flush = static_cast<int>(per_subtask * 8 / 7 / spec.db.value_bytes / spec.db.flushes);
    spec.db.key_space = spec.db.keys_per_flush * spec.db.flushes;  // mostly distinct keys
    testsupport::RocksSnapshot s = testsupport::write_rocks_snapshot(argv[1], spec);
    uint64_t ssts = 0, bytes = 0;
    for (const auto& e : fs::directory_iterator(s.job_dir / "shared")) {
      if (!e.is_regular_file()) continue;
      ++ssts;
      bytes += e.file_size();
    }
    std::printf("%s\n%llu %llu\n", s.snapshot_dir.c_str(), static_cast<unsigned long long>(ssts),
                static_cast<unsigned long long>(bytes));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_state: %s\n", e.what());
    return 1;
  }
  return 0;
}
