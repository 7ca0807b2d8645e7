// Benchmark of `ckpt prune` / `ckpt gc` planning and applying (issue "prune and gc", item 7), and
// the generator + checker the CLI tests use.
//   bench_prune gen ROOT CHECKPOINTS SUBTASKS WINDOW NEW_EVERY [SEED]
//       writes one incremental job under ROOT with the writer (empty files), mtimes one minute apart
//       from 2023-11-14 22:13:20 UTC; prints the number of files made
//   bench_prune savepoint CHK_DIR OUT_DIR
//       a native savepoint in OUT_DIR that uses (by absolute path) every shared file CHK_DIR uses,
//       as a job restored in CLAIM mode leaves it
//   bench_prune plan ROOT RETAIN NOW_UNIX_S
//       the planning pass of `ckpt prune --retain RETAIN --dry-run` in-process: wall time, peak RSS
//   bench_prune check DIR...
//       every snapshot under each DIR: each referenced file exists with its recorded size
//       (exit 1 and one line per problem otherwise)
// The timing itself is done by tests/bench/run.sh (section "prune"), around the ckpt binary and
// around rm on the same files, in the same run.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "flink/metadata_reader.h"
#include "ops/prune_plan.h"
#include "snapshot/discovery.h"
#include "snapshot/file_refs.h"
#include "support/intact.h"
#include "support/synthetic_root.h"

using namespace ckpt;

int main(int argc, char** argv) {
  if (argc >= 7 && std::string(argv[1]) == "gen") {
    testsupport::IncrementalJobSpec spec;
    spec.checkpoints = std::atoi(argv[3]);
    spec.subtasks = std::atoi(argv[4]);
    spec.window = std::atoi(argv[5]);
    spec.new_every = std::atoi(argv[6]);
    spec.exclusive = 1;
    if (argc >= 8) spec.seed = std::strtoull(argv[7], nullptr, 10);
    auto job = testsupport::make_incremental_job(argv[2], spec);
    std::printf("%s %lld shared files, %lld exclusive files, %d checkpoints\n", job.job_dir.c_str(),
                static_cast<long long>(job.shared_files),
                static_cast<long long>(spec.checkpoints) * spec.subtasks * spec.exclusive, spec.checkpoints);
    return 0;
  }
  if (argc == 4 && std::string(argv[1]) == "savepoint") {
    std::filesystem::path chk = argv[2];
    testsupport::HistoryCheckpoint c;
    c.id = 1000000;
    c.savepoint = true;
    c.exclusive = {"savepoint-own-file"};
    flink::Metadata md = flink::read_metadata_file(chk / "_metadata");
    for (const auto& f : snapshot::file_refs(md, chk)) {
      if (f.shared) c.absolute.push_back(f.resolved.local);
    }
    testsupport::write_history_checkpoint(chk.parent_path(), c, 0, argv[3]);
    std::printf("%zu shared files used\n", c.absolute.size());
    return 0;
  }
  if (argc == 5 && std::string(argv[1]) == "plan") {
    ops::RetentionPolicy policy;
    policy.last = std::atoll(argv[3]);
    ops::PlanRequest req;
    req.root = argv[2];
    req.options.now_ns = std::atoll(argv[4]) * 1000000000LL;
    auto t0 = std::chrono::steady_clock::now();
    auto run = ops::plan_root(req, [&](const snapshot::ReferenceGraph& g) { return ops::decide(g, policy); });
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("plan: %.2f s, peak RSS %ld MiB; %zu snapshots, %zu files in the graph, %zu deletions, %zu refusals\n", s,
                ru.ru_maxrss / 1024, run.graph.snapshots.size(), run.graph.files.size(), run.plan.deletions.size(),
                run.refusals.size());
    return 0;
  }
  if (argc >= 3 && std::string(argv[1]) == "check") {
    int bad = 0, n = 0;
    for (int i = 2; i < argc; ++i) {
      for (const auto& loc : snapshot::discover(argv[i]).snapshots) {
        ++n;
        for (const auto& p : testsupport::snapshot_problems(loc.directory)) {
          std::printf("%s: %s\n", loc.directory.c_str(), p.c_str());
          ++bad;
        }
      }
    }
    std::printf("%d snapshots checked, %d problems\n", n, bad);
    return bad ? 1 : 0;
  }
  std::fprintf(stderr, "usage: bench_prune gen ROOT CHECKPOINTS SUBTASKS WINDOW NEW_EVERY [SEED] | check DIR...\n");
  return 2;
}
