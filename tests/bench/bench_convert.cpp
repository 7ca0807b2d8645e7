// Benchmark of `ckpt convert --self-contained` and `ckpt pack` on a >= 2 GiB incremental
// checkpoint (written with the writer plus real state files), each beside its baseline on the
// same data in the same run:
//   * self-contained (hard links, the default) and self-contained --copy  vs  `cp -r` of the
//     checkpoint directory and its shared/ directory;
//   * pack (zstd level 3, one worker per core)  vs  `tar -cf - | zstd -3 -T0`.
// Usage: bench_convert WORK_DIR [GIB]   (GIB: approximate data size, default 2.2)
// The page cache is warm for every measurement (the generator has just written the data, and
// each command reads it before the next); run on an idle machine.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "ops/convert.h"
#include "ops/pack.h"
#include "snapshot/discovery.h"
#include "support/bench_timing.h"
#include "support/snapshot_on_disk.h"
#include "support/synthetic.h"

namespace fs = std::filesystem;
using namespace ckpt;

using testsupport::now_seconds;
using testsupport::timed_shell;

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_convert WORK_DIR [GIB]\n");
    return 2;
  }
  fs::path work = fs::path(argv[1]) / "convert";
  double gib = argc > 2 ? std::atof(argv[2]) : 2.2;
  fs::remove_all(work);
  fs::create_directories(work);

  // 4 operators x 4 subtasks x (S shared .sst + 3 private) files, sized to reach `gib`.
  const int ops = 4, subtasks = 4, shared = 8, priv = 3;
  const int64_t sst_size = static_cast<int64_t>(gib * (1u << 30) / (ops * subtasks * shared));
  flink::Metadata md = testsupport::synthetic_incremental(ops, subtasks, shared, priv, (work / "ckpts").string());
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    auto& h = const_cast<flink::StreamHandle&>(*r.handle);
    h.size = r.role == flink::Role::kShared ? sst_size : 4096 + r.subtask_index;
  });
  fs::path job = work / "ckpts/7a3f8e2d9c1b4a5f6e7d8c9b0a1f2e3d";
  fs::path chk = job / "chk-1000";
  double t0 = now_seconds();
  uint64_t bytes = testsupport::write_snapshot_on_disk(md, chk);
  fmt::print("data: {:.2f} GiB in {} files ({} shared .sst of {:.1f} MiB), generated in {:.1f} s\n",
             static_cast<double>(bytes) / (1u << 30), ops * subtasks * (shared + priv + 1), ops * subtasks * shared,
             static_cast<double>(sst_size) / (1u << 20), now_seconds() - t0);
  timed_shell(fmt::format("cat {}/shared/* {}/* > /dev/null", job.string(), chk.string()));  // warm the cache

  snapshot::Location loc = snapshot::locate(chk / "_metadata");
  // Baseline 1: cp -r of everything the checkpoint needs (its directory and shared/).
  double cp = timed_shell(fmt::format("mkdir -p {0}/cp && cp -r {1} {2} {0}/cp/ && sync -f {0}/cp", work.string(),
                                      chk.string(), (job / "shared").string()));
  double t = now_seconds();
  ops::SelfContainedPlan plan = ops::plan_self_contained(md, loc, {});
  double plan_s = now_seconds() - t;
  t = now_seconds();
  ops::write_self_contained(plan, work / "sc-link", false, false);
  double link = now_seconds() - t + plan_s;
  t = now_seconds();
  ops::write_self_contained(plan, work / "sc-copy", false, true);
  double copy = now_seconds() - t + plan_s;
  fmt::print("convert --self-contained (hard links): {:.3f} s; --copy: {:.3f} s; baseline cp -r + sync: {:.3f} s\n",
             link, copy, cp);
  fmt::print("  ratio vs cp -r: links {:.3f}x the time, copy {:.3f}x the time (plan: {:.3f} s)\n", link / cp, copy / cp,
             plan_s);

  // Baseline 2: tar | zstd of the same files, same level, one worker per core.
  double tz =
      timed_shell(fmt::format("tar -C {} -cf - chk-1000 shared | zstd -q -3 -T0 -o {}/base.tar.zst && sync -f {}",
                              job.string(), work.string(), work.string()));
  t = now_seconds();
  ops::PackStats ps = ops::pack_snapshot(plan, work / "chk.ckpt.zst", false, {});
  double pk = now_seconds() - t + plan_s;
  uint64_t base_size = fs::file_size(work / "base.tar.zst");
  fmt::print("pack: {:.3f} s, {:.1f} MiB; baseline tar | zstd -3 -T0: {:.3f} s, {:.1f} MiB\n", pk,
             static_cast<double>(ps.bytes_out) / (1u << 20), tz, static_cast<double>(base_size) / (1u << 20));
  fmt::print("  ratio vs tar | zstd: {:.3f}x the time, {:.3f}x the size\n", pk / tz,
             static_cast<double>(ps.bytes_out) / static_cast<double>(base_size));
  t = now_seconds();
  ops::unpack_archive(work / "chk.ckpt.zst", work / "unpacked", false);
  double up = now_seconds() - t;
  double uz = timed_shell(fmt::format(
      "mkdir -p {0}/untar && zstd -q -d -c {0}/base.tar.zst | tar -C {0}/untar -xf - && sync -f {0}", work.string()));
  fmt::print("unpack (verify + extract + check): {:.3f} s; baseline zstd -d | tar -x + sync: {:.3f} s ({:.3f}x)\n", up,
             uz, up / uz);
  fs::remove_all(work);
  return 0;
}
