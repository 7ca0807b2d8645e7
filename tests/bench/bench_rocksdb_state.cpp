// Benchmark of the pipeline's RocksDB backend at about 1 GiB of state (issue "RocksDB state
// backend", item 8): one subtask holding all key groups, filled through the backend's own API.
//   (a) an incremental checkpoint of the whole state: the synchronous part (flush + RocksDB
//       checkpoint of hard links) and the asynchronous part (every SST uploaded to shared/ and
//       fsynced), beside the baseline `cp` + `sync` of the same files;
//   (b) a second checkpoint after changing 1 % of the keys (what incremental saves);
//   (c) restore from the checkpoint's files (laid out by hard links, then opened), beside the
//       baseline `cp -r` of the same files, and a rescaling restore into half the key groups
//       (one DB clipped to the new range).
// Usage: bench_rocksdb_state WORK_DIR [GIB]   (GIB: approximate state size, default 1.0)
// Run on an idle machine; the page cache is warm (the files were just written).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "flink/key_groups.h"
#include "pipeline/checkpoint_storage.h"
#include "pipeline/rocksdb_backend.h"
#include "rocks/db_files.h"
#include "support/bench_timing.h"
#include "support/native_db_files.h"
#include "util/hash.h"

using namespace ckpt;
using namespace ckpt::pipeline;
namespace fs = std::filesystem;
using testsupport::now_seconds;
using testsupport::timed_shell;

namespace {

constexpr int32_t kMaxP = 128;

std::unique_ptr<KeyedStateBackend> backend(flink::KeyGroupRange range, const fs::path& local) {
  RocksBackendOptions o;
  o.local_dir = local;
  o.max_parallelism = kMaxP;
  o.incremental = true;
  auto b = make_rocksdb_backend(range, o);
  b->declare_value_state("count", NamespaceKind::kVoid);
  b->declare_timers("_timer_state/event_user-timers", NamespaceKind::kVoid);
  return b;
}

// Keys of 40 pseudo-random hex characters: about 60 bytes per entry in the SST files, so that a
// GiB is ~18 M keys rather than the ~50 M short words would need.
std::string key_of(uint64_t i) {
  return fmt::format("{:016x}{:016x}{:08x}", util::splitmix64(2 * i), util::splitmix64(2 * i + 1),
                     static_cast<uint32_t>(i));
}

void put(KeyedStateBackend& b, uint64_t i, int64_t v) {
  std::string k = key_of(i);
  b.set_current_key(k, flink::key_group_for_hash(flink::java_hash_string(k), kMaxP));
  b.update(0, Namespace{}, v);
}

SnapshotLocation location(const fs::path& job, int64_t id) {
  SnapshotLocation loc;
  loc.dir = job / fmt::format("chk-{}", id);
  fs::create_directories(loc.dir);
  fs::create_directories(job / "shared");
  loc.memory_threshold = 20 * 1024;
  return loc;
}

uint64_t sst_bytes(const NativeKeyedResult& r) {
  uint64_t n = 0;
  for (const auto& [name, st] : r.shared) n += rocks::is_sst(name) ? static_cast<uint64_t>(st.size) : 0;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_rocksdb_state WORK_DIR [GIB]\n");
    return 2;
  }
  fs::path work = fs::absolute(argv[1]) / "rocksdb-state";
  double gib = argc > 2 ? std::stod(argv[2]) : 1.0;
  fs::remove_all(work);
  fs::create_directories(work / "local");
  const flink::KeyGroupRange all{0, kMaxP};
  const auto keys = static_cast<uint64_t>(gib * 18'000'000);

  auto b = backend(all, work / "local");
  double t0 = now_seconds();
  for (uint64_t i = 0; i < keys; ++i) put(*b, i, static_cast<int64_t>(i));
  double fill_s = now_seconds() - t0;

  // (a) the first checkpoint uploads everything.
  SnapshotLocation loc1 = location(work / "job", 1);
  t0 = now_seconds();
  auto snap1 = b->native_snapshot(1, false, false);
  double sync1_s = now_seconds() - t0;
  t0 = now_seconds();
  NativeKeyedResult r1 = snap1->persist(loc1);
  double async1_s = now_seconds() - t0;
  double cp_s = timed_shell(fmt::format("mkdir -p {0}/cp && cp {1}/shared/* {0}/cp/ && sync -f {0}/cp", work.string(),
                                        (work / "job").string()));
  std::printf("state: %llu keys, %.2f GiB of SST files (filled in %.1f s: %.2f M puts/s)\n",
              static_cast<unsigned long long>(keys), static_cast<double>(sst_bytes(r1)) / (1 << 30), fill_s,
              static_cast<double>(keys) / fill_s / 1e6);
  std::printf(
      "first checkpoint: %.2f s = sync (flush + RocksDB checkpoint) %.2f s + upload and fsync %.2f s; "
      "baseline cp + sync of the same files %.2f s (ratio %.2f)\n",
      sync1_s + async1_s, sync1_s, async1_s, cp_s, (sync1_s + async1_s) / cp_s);

  // (b) 1 % of the keys change: the next checkpoint uploads only the new SST files.
  for (uint64_t i = 0; i < keys; i += 100) put(*b, i, -1);
  SnapshotLocation loc2 = location(work / "job", 2);
  t0 = now_seconds();
  auto snap2 = b->native_snapshot(2, false, false);
  NativeKeyedResult r2 = snap2->persist(loc2);
  double inc_s = now_seconds() - t0;
  std::printf("checkpoint after changing 1 %% of the keys: %.2f s, uploaded %.1f MiB (%.2f %% of the state)\n", inc_s,
              static_cast<double>(r2.checkpointed_size) / (1 << 20),
              100.0 * static_cast<double>(r2.checkpointed_size) / static_cast<double>(sst_bytes(r1)));
  b.reset();

  // (c) restore from checkpoint 2 (its files are in shared/ and chk-2/).
  NativePiece piece{nullptr, testsupport::native_db_files(r2, loc2, "bench"), all};
  double cpr_s =
      timed_shell(fmt::format("mkdir -p {0}/cpr && cp {1}/shared/* {0}/cpr/", work.string(), (work / "job").string()));
  t0 = now_seconds();
  auto restored = backend(all, work / "local");
  restored->restore_native(piece);
  double restore_s = now_seconds() - t0;
  std::printf("restore (same key groups): %.2f s; baseline cp of the same files %.2f s\n", restore_s, cpr_s);
  restored.reset();

  t0 = now_seconds();
  auto half = backend({0, kMaxP / 2}, work / "local");
  half->restore_native(piece);
  double rescale_s = now_seconds() - t0;
  std::printf("restore rescaled to half the key groups: %.2f s\n", rescale_s);
  half.reset();
  fs::remove_all(work);
  return 0;
}
