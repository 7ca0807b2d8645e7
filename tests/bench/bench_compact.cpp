// Benchmark of `ckpt compact` on a synthetic incremental checkpoint over real RocksDB databases
// with many small table files (tests/support/rocks_snapshot.h: every flush one table file per
// column family, keys overwritten, deleted and appended to), beside its baselines on the same data
// in the same run:
//   * cat of the same RocksDB files (the read limit);
//   * RocksDB's own full compaction of the same databases: DB::Open + CompactRange (bottommost
//     level forced) on each, one after the other, and `ldb compact` of one of them.
// ckpt compact does more than the compaction (a second layout of each database, a verification
// pass over both versions, the new snapshot directory): the ratio to the compaction alone is its
// overhead. Reports files and bytes before and after (the compaction ratio).
// Usage: bench_compact WORK_DIR [MB]   (MB: approximate size of the RocksDB files, default 300)
// The page cache is warm for every measurement; run on an idle machine.
#include <fmt/format.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "flink/metadata_reader.h"
#include "ops/compact.h"
#include "snapshot/discovery.h"
#include "support/bench_timing.h"
#include "support/rocks_snapshot.h"

namespace fs = std::filesystem;
using namespace ckpt;

namespace {

using testsupport::now_seconds;
using testsupport::timed_shell;

void ok(const rocksdb::Status& s) {
  if (!s.ok()) {
    fmt::print(stderr, "rocksdb: {}\n", s.ToString());
    std::exit(2);
  }
}

// RocksDB's own full compaction of the database in `dir`: open, CompactRange every column family
// with the bottommost level forced, close. Seconds.
double rocksdb_compact(const fs::path& dir) {
  double t0 = now_seconds();
  std::vector<std::string> names;
  ok(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names));
  rocksdb::ColumnFamilyOptions cfo;
  ok(rocksdb::MergeOperator::CreateFromString(rocksdb::ConfigOptions(), "StringAppendTESTOperator",
                                              &cfo.merge_operator));
  cfo.disable_auto_compactions = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, cfo);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ok(rocksdb::DB::Open(rocksdb::DBOptions(), dir.string(), cfs, &handles, &db));
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles) ok(db->CompactRange(cro, h, nullptr, nullptr));
  for (auto* h : handles) ok(db->DestroyColumnFamilyHandle(h));
  ok(db->Close());
  delete db;
  return now_seconds() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_compact WORK_DIR [MB]\n");
    return 2;
  }
  fs::path work = fs::path(argv[1]) / "compact";
  double mb = argc > 2 ? std::atof(argv[2]) : 300;
  fs::remove_all(work);
  fs::create_directories(work);

  // 4 subtasks x 40 flushes x 3 column families = 480 table files of ~0.6 MiB (value-state;
  // list-state and timers are smaller); keys overwritten ~6 times each.
  testsupport::RocksSnapshotSpec spec;
  spec.subtasks = 4;
  spec.db.flushes = 40;
  spec.db.value_bytes = 512;
  spec.db.keys_per_flush = static_cast<int>(mb * (1 << 20) / (spec.subtasks * spec.db.flushes * 460.0));
  spec.db.key_space = spec.db.keys_per_flush * spec.db.flushes / 6;
  spec.inline_threshold = 20 * 1024;  // Flink's default: CURRENT and small files inlined
  double t0 = now_seconds();
  testsupport::RocksSnapshot snap = testsupport::write_rocks_snapshot(work / "gen", spec);
  fmt::print(
      "data: {} RocksDB files, {:.1f} MiB in 4 databases ({} keys written per flush, 40 flushes), "
      "generated in {:.1f} s\n",
      snap.rocks_files, static_cast<double>(snap.rocks_bytes) / (1 << 20), spec.db.keys_per_flush, now_seconds() - t0);

  const std::string shared = (snap.job_dir / "shared").string();
  timed_shell(fmt::format("cat {}/* > /dev/null", shared));  // warm the cache
  double cat = timed_shell(fmt::format("cat {}/* > /dev/null", shared));

  // RocksDB alone, on copies of the same databases (copies not timed).
  double rocks = 0;
  for (std::size_t s = 0; s < snap.checkpoints.size(); ++s) {
    fs::path copy = work / fmt::format("rocks-{}", s);
    fs::copy(snap.checkpoints[s], copy);
    rocks += rocksdb_compact(copy);
  }
  // ldb compacts one column family per call (the default one unless named).
  fs::copy(snap.checkpoints[0], work / "ldb");
  double ldb = 0;
  for (const char* cf : {"value-state", "list-state", "_timer_state/event_user-timers"}) {
    ldb += timed_shell(fmt::format("ldb --db={} --column_family={} compact > /dev/null", (work / "ldb").string(), cf));
  }

  snapshot::Location loc = snapshot::locate(snap.snapshot_dir / "_metadata");
  flink::Metadata md = flink::read_metadata_file(loc.metadata);
  double times[2] = {0, 0};
  ops::CompactResult last;
  for (unsigned threads : {1u, 0u}) {
    double t = now_seconds();
    ops::CompactPlan plan = ops::plan_compact(md, loc, {});
    ops::CompactRunOptions o;
    o.threads = threads;
    last = ops::run_compact(plan, work / fmt::format("out-{}", threads), o);
    times[threads == 0] = now_seconds() - t;
  }
  uint64_t files_after = 0, bytes_after = 0, entries = 0, sst_after = 0;
  for (const auto& cs : last.subtasks) {
    files_after += static_cast<uint64_t>(cs.files_after);
    sst_after += static_cast<uint64_t>(cs.sst_after);
    bytes_after += cs.bytes_after;
    for (const auto& cf : cs.column_families) entries += cf.entries;
  }
  fmt::print(
      "before: {} files, {:.1f} MiB; after: {} files ({} .sst), {:.1f} MiB, {} entries verified; "
      "ratio: files {:.3f}, bytes {:.3f}\n",
      snap.rocks_files, static_cast<double>(snap.rocks_bytes) / (1 << 20), files_after, sst_after,
      static_cast<double>(bytes_after) / (1 << 20), entries,
      static_cast<double>(files_after) / static_cast<double>(snap.rocks_files),
      static_cast<double>(bytes_after) / static_cast<double>(snap.rocks_bytes));
  fmt::print("cat of the same files (read limit):              {:.3f} s\n", cat);
  fmt::print("RocksDB Open + CompactRange, 4 databases in turn:  {:.3f} s\n", rocks);
  fmt::print("ldb compact of database 0 (of 4), 3 column families: {:.3f} s\n", ldb);
  fmt::print(
      "ckpt compact --threads 1:                          {:.3f} s  = {:.2f}x RocksDB's compaction, {:.1f}x cat\n",
      times[0], times[0] / rocks, times[0] / cat);
  fmt::print(
      "ckpt compact (one thread per core, {} cores):       {:.3f} s  = {:.2f}x RocksDB's compaction, {:.1f}x cat\n",
      std::thread::hardware_concurrency(), times[1], times[1] / rocks, times[1] / cat);
  fs::remove_all(work);
  return 0;
}
