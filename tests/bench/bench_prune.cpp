// Benchmark of `ckpt prune` / `ckpt gc` planning and applying (issue "prune and gc", item 7), and
// the generator + checker the CLI tests use.
//   bench_prune gen ROOT CHECKPOINTS SUBTASKS WINDOW NEW_EVERY [SEED]
//       writes one incremental job under ROOT with the writer (empty files), mtimes one minute apart
//       from 2023-11-14 22:13:20 UTC; prints the number of files made
//   bench_prune savepoint CHK_DIR OUT_DIR
//       a native savepoint in OUT_DIR that uses (by absolute path) every shared file CHK_DIR uses,
//       as a job restored in CLAIM mode leaves it
//   bench_prune plan ROOT RETAIN NOW_UNIX_S
//       the planning pass of `ckpt prune --retain RETAIN --dry-run --json` in-process, phase by
//       phase: wall and CPU time, peak RSS
//   bench_prune apply ROOT RETAIN NOW_UNIX_S
//       plans as above (untimed), then times apply_plan alone, from a sync to a sync
//   bench_prune check DIR...
//       every snapshot under each DIR: each referenced file exists with its recorded size
//       (exit 1 and one line per problem otherwise)
// The timing itself is done by tests/bench/run.sh (section "prune"), around the ckpt binary and
// around rm on the same files, in the same run.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "codec/json.h"
#include "export/prune_json.h"
#include "flink/metadata_reader.h"
#include "ops/plan_executor.h"
#include "ops/prune_plan.h"
#include "snapshot/discovery.h"
#include "snapshot/file_refs.h"
#include "support/bench_timing.h"
#include "support/intact.h"
#include "support/synthetic_root.h"

using namespace ckpt;

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Resident set now (peak RSS is getrusage's ru_maxrss).
long rss_mib() {
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * 4096 / (1024 * 1024);
}

}  // namespace

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
    // The same steps as ops::plan_root and `--json`, timed one by one (wall and CPU seconds).
    struct Phase {
      const char* name;
      double wall, cpu;
      long rss_mib;
    };
    std::vector<Phase> phases;
    double t = testsupport::now_seconds(), c = cpu_seconds();
    auto lap = [&](const char* name) {
      double t1 = testsupport::now_seconds(), c1 = cpu_seconds();
      phases.push_back({name, t1 - t, c1 - c, rss_mib()});
      t = t1;
      c = c1;
    };
    ops::PlanRun run = ops::gather_root(req);
    lap("graph + inventory");
    if (run.refusals.empty())
      run.plan = ops::make_plan(run.graph, run.inventory, ops::decide(run.graph, policy), req.options);
    lap("decisions + plan");
    std::FILE* null = std::fopen("/dev/null", "w");
    prune_json::write_plan_json(run, "prune", req.options, nullptr, false, null);
    std::fclose(null);
    lap("--json to /dev/null");
    double wall = 0, cpu = 0;
    for (const auto& ph : phases) {
      std::printf("  %-22s %6.2f s wall %6.2f s CPU, RSS after: %ld MiB\n", ph.name, ph.wall, ph.cpu, ph.rss_mib);
      wall += ph.wall;
      cpu += ph.cpu;
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "plan + --json: %.2f s wall (%.2f s CPU), peak RSS %ld MiB; %zu snapshots, %zu files in the graph, "
        "%zu deletions, %zu refusals\n",
        wall, cpu, ru.ru_maxrss / 1024, run.graph.snapshots.size(), run.graph.files.size(), run.plan.deletions.size(),
        run.refusals.size());
    return 0;
  }
  if (argc == 5 && std::string(argv[1]) == "apply") {
    ops::RetentionPolicy policy;
    policy.last = std::atoll(argv[3]);
    ops::PlanRequest req;
    req.root = argv[2];
    req.options.now_ns = std::atoll(argv[4]) * 1000000000LL;
    auto lock = ops::RootLock::try_acquire(ops::checked_root(req.root));
    if (!lock) return 2;
    auto run = ops::plan_root(req, [&](const snapshot::ReferenceGraph& g) { return ops::decide(g, policy); });
    ::sync();
    double t0 = testsupport::now_seconds(), c0 = cpu_seconds();
    ops::ApplyResult r = ops::apply_plan(run.plan, *lock);
    ::sync();
    double wall = testsupport::now_seconds() - t0, cpu = cpu_seconds() - c0;
    std::printf(
        "apply: %.2f s wall (%.2f s CPU) incl. a final sync; %lld files and %lld directories deleted, %zu failures\n",
        wall, cpu, static_cast<long long>(r.files_deleted), static_cast<long long>(r.dirs_deleted), r.failures.size());
    return r.ok() ? 0 : 1;
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
