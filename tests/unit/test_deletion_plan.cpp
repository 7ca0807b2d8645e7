// ops/deletion_plan + ops/plan_executor + snapshot/reference_graph on generated roots made with the
// writer: what is kept and why, hostile inputs, and a property test of plan + apply against a
// brute-force model of random checkpoint histories.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "fixtures.h"
#include "flink/builder.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "ops/plan_executor.h"
#include "ops/prune_plan.h"
#include "ops/relocate_in_place.h"
#include "snapshot/job_lock.h"
#include "support/intact.h"
#include "support/synthetic_root.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;

using ckpt::testsupport::TempDir;

namespace {

constexpr int64_t kS = 1000000000;
constexpr int64_t kT0 = 1700000000;  // first checkpoint time of generated histories

ops::PlanRun plan(const fs::path& root, const ops::RetentionPolicy* policy, int64_t now_s, int64_t grace_s = 3600,
                  std::vector<fs::path> protect = {}, bool skip_unreadable = false,
                  std::vector<snapshot::PathMapping> maps = {}) {
  ops::PlanRequest req;
  req.root = root;
  req.protect = std::move(protect);
  req.mappings = std::move(maps);
  req.options.now_ns = now_s * kS;
  req.options.grace_ns = grace_s * kS;
  req.options.skip_unreadable = skip_unreadable;
  if (policy) return ops::plan_root(req, [&](const snapshot::ReferenceGraph& g) { return ops::decide(g, *policy); });
  return ops::plan_root(req, ops::keep_all);
}

testsupport::IncrementalJobSpec job_spec(int checkpoints, int subtasks = 4, int window = 5, int new_every = 1) {
  testsupport::IncrementalJobSpec spec;
  spec.checkpoints = checkpoints;
  spec.subtasks = subtasks;
  spec.window = window;
  spec.new_every = new_every;
  return spec;
}

ops::ApplyResult apply(const ops::PlanRun& run) {
  auto lock = ops::RootLock::try_acquire(run.inventory.root);
  REQUIRE(lock);
  return ops::apply_plan(run.plan, *lock);
}

std::set<std::string> all_files(const fs::path& root) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_symlink()) continue;
    if (it->is_regular_file()) out.insert(it->path().string());
  }
  return out;
}

std::set<std::string> deleted_files(const ops::Plan& p) {
  std::set<std::string> out;
  for (const auto& d : p.deletions) {
    if (d.entry.type == ops::FsEntry::Type::kFile) out.insert(d.entry.path);
  }
  return out;
}

void check_kept_intact(const ops::PlanRun& run) {
  for (const auto& d : run.plan.snapshots) {
    if (!d.keep) continue;
    const auto& s = run.graph.snapshots[d.snapshot];
    if (!s.readable) continue;
    auto problems = testsupport::snapshot_problems(s.loc.directory);
    CAPTURE(s.loc.directory.string());
    CHECK(problems.empty());
  }
}

}  // namespace

TEST_CASE("prune --retain 2 on an incremental job: plan, apply, converge") {
  TempDir t;
  const auto spec = job_spec(6, 3, 4, 2);
  auto job = testsupport::make_incremental_job(t.path(), spec);
  ops::RetentionPolicy p;
  p.last = 2;
  const int64_t now = kT0 + 86400;
  auto run = plan(t.path(), &p, now);
  REQUIRE(run.refusals.empty());
  REQUIRE(run.plan.snapshots.size() == 6);
  int kept = 0;
  for (const auto& d : run.plan.snapshots) {
    const auto& s = run.graph.snapshots[d.snapshot];
    bool newest = s.checkpoint_id >= 5;
    CHECK(d.keep == newest);
    if (d.keep) CHECK(d.rules == ops::keep_rule::kLast);
    kept += d.keep;
  }
  CHECK(kept == 2);
  // Phase order: every _metadata first, directories last.
  const auto& dels = run.plan.deletions;
  REQUIRE(!dels.empty());
  size_t i = 0;
  while (i < dels.size() && dels[i].reason == ops::DeleteReason::kPrunedMetadata) ++i;
  CHECK(i == 4);
  bool dirs = false;
  bool pool = false;
  for (; i < dels.size(); ++i) {
    CHECK(dels[i].reason != ops::DeleteReason::kPrunedMetadata);
    if (dels[i].reason == ops::DeleteReason::kDirectory) dirs = true;
    else CHECK_FALSE(dirs);
    if (dels[i].reason == ops::DeleteReason::kReleased) pool = true;
    else if (dels[i].reason == ops::DeleteReason::kPrunedFile) CHECK_FALSE(pool);
    if (dels[i].reason == ops::DeleteReason::kReleased) CHECK(!dels[i].after.empty());
  }
  CHECK(run.plan.dirs_deleted == 4);
  // Released shared files are exactly those only checkpoints 1-4 used.
  std::set<std::string> used_by_kept, used_by_pruned;
  for (const auto& c : job.checkpoints) {
    for (const auto& s : c.shared) (c.id >= 5 ? used_by_kept : used_by_pruned).insert(s);
  }
  std::set<std::string> released;
  for (const auto& d : dels) {
    if (d.reason == ops::DeleteReason::kReleased) released.insert(std::string(d.entry.name()));
  }
  std::set<std::string> expect;
  for (const auto& s : used_by_pruned) {
    if (!used_by_kept.count(s)) expect.insert(s);
  }
  CHECK(released == expect);

  auto before = all_files(t.path());
  auto result = apply(run);
  CHECK(result.ok());
  CHECK(result.files_deleted == run.plan.files_deleted);
  CHECK(result.dirs_deleted == run.plan.dirs_deleted);
  auto after = all_files(t.path());
  auto gone = deleted_files(run.plan);
  for (const auto& f : before) CHECK((after.count(f) == 0) == (gone.count(f) == 1));
  CHECK_FALSE(fs::exists(t.path() / ops::kJournalName));
  check_kept_intact(run);
  auto again = plan(t.path(), &p, now);
  REQUIRE(again.refusals.empty());
  CHECK(again.plan.deletions.empty());
}

TEST_CASE("gc deletes orphans and old incomplete checkpoints, never young ones or referenced files") {
  TempDir t;
  const auto spec = job_spec(3);
  auto job = testsupport::make_incremental_job(t.path(), spec);
  const fs::path jd = job.job_dir;
  const int64_t now = kT0 + 100000;
  auto make = [&](const fs::path& p, int64_t mtime) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
    testsupport::set_mtime(p, mtime);
  };
  make(jd / "shared" / "orphan-old", now - 7200);
  make(jd / "shared" / "orphan-young", now - 60);
  make(jd / "taskowned" / "job_x_tm_y" / "old-segment", now - 7200);
  make(jd / "chk-9" / "upload-old", now - 7200);
  testsupport::set_mtime(jd / "chk-9", now - 7200);
  make(jd / "chk-10" / "upload-inflight", now - 10);
  make(jd / "chk-11" / "a", now - 7200);  // old file, but the directory was just touched
  testsupport::set_mtime(jd / "chk-11", now - 5);
  make(jd / "notes" / "shared" / "x", now - 7200);  // not a pool: notes/ is not a job directory
  auto run = plan(t.path(), nullptr, now);
  REQUIRE(run.refusals.empty());
  auto gone = deleted_files(run.plan);
  CHECK(gone == std::set<std::string>{(jd / "chk-9" / "upload-old").string(), (jd / "shared" / "orphan-old").string(),
                                      (jd / "taskowned" / "job_x_tm_y" / "old-segment").string()});
  std::set<std::string> dirs;
  for (const auto& d : run.plan.deletions) {
    if (d.entry.type == ops::FsEntry::Type::kDir) dirs.insert(d.entry.path);
  }
  CHECK(dirs == std::set<std::string>{(jd / "chk-9").string()});  // pool sub-directories stay
  CHECK(run.plan.young.size() == 3);
  for (const auto& d : run.plan.snapshots) CHECK(d.keep);
  CHECK(apply(run).ok());
  check_kept_intact(run);
  CHECK(fs::exists(jd / "chk-10" / "upload-inflight"));
  CHECK(fs::exists(jd / "taskowned" / "job_x_tm_y"));
}

TEST_CASE("referenced but missing files are reported, never fixed") {
  TempDir t;
  const auto spec = job_spec(2);
  auto job = testsupport::make_incremental_job(t.path(), spec);
  fs::remove(job.job_dir / "shared" / job.checkpoints[1].shared[0]);
  auto run = plan(t.path(), nullptr, kT0 + 86400);
  REQUIRE(run.refusals.empty());
  REQUIRE(run.plan.missing.size() == 1);
  CHECK(run.plan.missing[0].path.filename() == job.checkpoints[1].shared[0]);
  CHECK(run.plan.missing[0].actual_size == -1);
}

TEST_CASE("--protect: files used by a snapshot outside the root stay") {
  TempDir t;
  const fs::path root = t.path() / "root";
  const fs::path sp = t.path() / "savepoints" / "savepoint-abcdef-0123456789ab";
  const auto spec = job_spec(3);
  auto job = testsupport::make_incremental_job(root, spec);
  // A native savepoint elsewhere whose handles point into the job's shared/ (CLAIM-mode history).
  testsupport::HistoryCheckpoint c = job.checkpoints[0];
  c.id = 77;
  c.savepoint = true;
  c.exclusive = {"sp-own-file"};
  testsupport::write_history_checkpoint(job.job_dir, c, 0, sp);
  ops::RetentionPolicy p;
  p.last = 1;
  auto unprotected = plan(root, &p, kT0 + 86400);
  auto protected_run = plan(root, &p, kT0 + 86400, 3600, {sp.parent_path()});
  REQUIRE(protected_run.refusals.empty());
  auto a = deleted_files(unprotected.plan), b = deleted_files(protected_run.plan);
  for (const auto& s : c.shared) {
    std::string path = (job.job_dir / "shared" / s).string();
    CHECK(b.count(path) == 0);
  }
  CHECK(a.size() > b.size());
  CHECK(apply(protected_run).ok());
  CHECK(testsupport::snapshot_problems(sp).empty());
  check_kept_intact(protected_run);
}

TEST_CASE("savepoints are never deleted without --include-savepoints; files they use stay") {
  TempDir t;
  const auto spec = job_spec(3);
  auto job = testsupport::make_incremental_job(t.path(), spec);
  testsupport::HistoryCheckpoint c = job.checkpoints[0];
  c.id = 50;
  c.savepoint = true;
  c.exclusive = {"own"};
  fs::path sp = t.path() / "savepoint-abcdef-0123456789ab";
  testsupport::write_history_checkpoint(job.job_dir, c, 0, sp);
  ops::RetentionPolicy p;
  p.last = 1;
  auto run = plan(t.path(), &p, kT0 + 86400);
  REQUIRE(run.refusals.empty());
  for (const auto& d : run.plan.snapshots) {
    if (run.graph.snapshots[d.snapshot].savepoint) CHECK(d.rules == ops::keep_rule::kSavepoint);
  }
  CHECK(apply(run).ok());
  CHECK(testsupport::snapshot_problems(sp).empty());
  p.include_savepoints = true;
  auto run2 = plan(t.path(), &p, kT0 + 86400);
  REQUIRE(run2.refusals.empty());
  bool pruned_sp = false;
  for (const auto& d : run2.plan.snapshots) pruned_sp |= !d.keep && run2.graph.snapshots[d.snapshot].savepoint;
  CHECK_FALSE(pruned_sp);  // alone in its group: the newest of a group is always kept
}

TEST_CASE("file-merging segments: a physical file stays while any kept snapshot has a segment in it") {
  TempDir t;
  const fs::path jd = t.path() / "0123456789abcdef0123456789abcdef";
  const fs::path seg = jd / "shared" / "job_x_op_y_0_1" / "physical";
  fs::create_directories(seg.parent_path());
  std::ofstream(seg) << std::string(300, 's');
  testsupport::set_mtime(seg, kT0);
  const fs::path lone = jd / "shared" / "job_x_op_y_0_1" / "only-old";
  std::ofstream(lone) << std::string(100, 's');
  testsupport::set_mtime(lone, kT0);
  auto write = [&](int64_t id, std::vector<std::pair<fs::path, int64_t>> segments) {
    flink::Metadata md = testsupport::history_metadata(jd, {id, kT0 + id, {}, {}, {}, 1, false});
    flink::Builder b(md);
    for (auto& [path, start] : segments) {
      flink::StreamHandle h;
      h.tag = flink::stream_tag::kSegment;
      h.name = b.str("file:" + path.string());
      h.start = start;
      h.size = 100;
      h.scope = 1;
      h.logical_id = b.str(fmt::format("logical-{}-{}", id, start));
      md.operators[0].subtasks[0].raw_keyed = b.key_groups(
          md.operators[0].subtasks[0].managed_keyed.tag ? flink::KeyGroupRange{0, 0} : flink::KeyGroupRange{}, {},
          std::move(h), fmt::format("kg-{}-{}", id, start));
    }
    fs::create_directories(jd / fmt::format("chk-{}", id));
    io::write_file_atomically(jd / fmt::format("chk-{}/_metadata", id), flink::write_metadata(md));
    testsupport::set_mtime(jd / fmt::format("chk-{}/_metadata", id), kT0 + id);
  };
  write(1, {{lone, 0}});
  write(2, {{seg, 0}});
  write(3, {{seg, 100}});
  ops::RetentionPolicy p;
  p.last = 1;
  auto run = plan(t.path(), &p, kT0 + 86400);
  REQUIRE(run.refusals.empty());
  auto id = run.graph.find(seg);
  REQUIRE(id);
  CHECK(run.graph.files[*id].segment);
  CHECK(run.graph.files[*id].handles == 2);
  CHECK(run.graph.files[*id].recorded_size == 200);
  auto gone = deleted_files(run.plan);
  CHECK(gone.count(seg.string()) == 0);
  CHECK(gone.count(lone.string()) == 1);
  CHECK(apply(run).ok());
  check_kept_intact(run);
}

TEST_CASE("fail closed: unreadable _metadata, escaping handles, unmapped remote URIs, symbolic links") {
  TempDir t;
  const auto spec = job_spec(3);
  auto job = testsupport::make_incremental_job(t.path(), spec);
  const fs::path jd = job.job_dir;
  const int64_t now = kT0 + 86400;
  ops::RetentionPolicy p;
  p.last = 1;

  SUBCASE("unreadable _metadata: refusal, or with skip_unreadable its job's pools are kept whole") {
    fs::create_directories(jd / "chk-2b");
    fs::create_directories(jd / "chk-99");
    std::ofstream(jd / "chk-99" / "_metadata") << "garbage";
    testsupport::set_mtime(jd / "chk-99" / "_metadata", kT0);
    std::ofstream(jd / "shared" / "orphan") << "x";
    testsupport::set_mtime(jd / "shared" / "orphan", kT0);
    auto run = plan(t.path(), &p, now);
    REQUIRE(run.refusals.size() == 1);
    CHECK(run.refusals[0].find("chk-99/_metadata") != std::string::npos);
    auto skip = plan(t.path(), &p, now, 3600, {}, true);
    REQUIRE(skip.refusals.empty());
    for (const auto& d : skip.plan.deletions) {
      CHECK(d.reason != ops::DeleteReason::kReleased);
      CHECK(d.reason != ops::DeleteReason::kOrphan);
    }
    for (const auto& d : skip.plan.snapshots) {
      if (!skip.graph.snapshots[d.snapshot].readable) CHECK((d.keep && (d.rules & ops::keep_rule::kUnreadable)));
    }
  }
  SUBCASE("a handle whose .. leaves the root") {
    testsupport::HistoryCheckpoint c = job.checkpoints.back();
    c.id = 10;
    c.mtime_s = kT0 + 1000;
    c.exclusive = {"../../../../etc/passwd"};
    flink::Metadata md = testsupport::history_metadata(jd, c);
    fs::create_directories(jd / "chk-10");
    io::write_file_atomically(jd / "chk-10" / "_metadata", flink::write_metadata(md));
    auto run = plan(t.path(), &p, now);
    REQUIRE(run.refusals.size() == 1);
    CHECK(run.refusals[0].find("leaves") != std::string::npos);
  }
  SUBCASE("an absolute handle with .. that stays inside the root is normalised") {
    testsupport::HistoryCheckpoint c = job.checkpoints.back();
    c.id = 10;
    c.mtime_s = kT0 + 1000;
    c.absolute = {jd / "chk-10" / ".." / "shared" / c.shared[0]};
    fs::create_directories(jd / "chk-10");
    flink::Metadata md = testsupport::history_metadata(jd, c);
    io::write_file_atomically(jd / "chk-10" / "_metadata", flink::write_metadata(md));
    testsupport::set_mtime(jd / "chk-10" / "_metadata", c.mtime_s);
    auto run = plan(t.path(), &p, now);
    REQUIRE(run.refusals.empty());
    auto id = run.graph.find(jd / "shared" / c.shared[0]);
    REQUIRE(id);
    CHECK(run.graph.files[*id].users.size() >= 2);
  }
  SUBCASE("remote URIs need --map") {
    testsupport::HistoryCheckpoint c = job.checkpoints.back();
    c.id = 10;
    c.mtime_s = kT0 + 1000;
    flink::Metadata md = testsupport::history_metadata(jd, c);
    flink::Builder b(md);
    md.operators[0].subtasks[0].raw_keyed = b.key_groups(
        {0, 0}, {}, b.file("s3://bucket/flink/" + jd.filename().string() + "/shared/" + c.shared[0], 0), "kg-remote");
    fs::create_directories(jd / "chk-10");
    io::write_file_atomically(jd / "chk-10" / "_metadata", flink::write_metadata(md));
    testsupport::set_mtime(jd / "chk-10" / "_metadata", c.mtime_s);
    auto run = plan(t.path(), &p, now);
    REQUIRE(run.refusals.size() == 1);
    CHECK(run.refusals[0].find("--map") != std::string::npos);
    auto mapped =
        plan(t.path(), &p, now, 3600, {}, false, {*snapshot::parse_mapping("s3://bucket/flink=" + t.path().string())});
    CHECK(mapped.refusals.empty());
  }
  SUBCASE("symbolic links: never followed, never deleted; _metadata as a link is refused; root as a link") {
    TempDir outside;
    std::ofstream(outside.path() / "precious") << "x";
    testsupport::set_mtime(outside.path() / "precious", kT0);
    fs::create_symlink(outside.path() / "precious", jd / "shared" / "link-out");
    fs::create_directory_symlink(outside.path(), jd / "shared" / "dirlink-out");
    fs::create_directory_symlink(outside.path(), jd / "chk-7");
    auto run = plan(t.path(), &p, now);
    REQUIRE(run.refusals.empty());
    for (const auto& d : run.plan.deletions) CHECK(d.entry.path.find("link") == std::string::npos);
    CHECK(apply(run).ok());
    CHECK(fs::exists(outside.path() / "precious"));
    CHECK(fs::is_symlink(jd / "shared" / "link-out"));

    fs::create_directories(jd / "chk-8");
    fs::create_symlink(jd / "chk-3" / "_metadata", jd / "chk-8" / "_metadata");
    auto refused = plan(t.path(), &p, now);
    CHECK(refused.refusals.size() == 1);
    fs::remove_all(jd / "chk-8");

    fs::create_directory_symlink(t.path(), outside.path() / "root-link");
    CHECK_THROWS_WITH(plan(outside.path() / "root-link", &p, now), doctest::Contains("symbolic link"));
  }
  SUBCASE("a referenced path through a symbolic link inside the root still protects its target") {
    // job2's checkpoint names job1's shared files through a link: identity (inode) protects them.
    const fs::path j2 = t.path() / "fedcba9876543210fedcba9876543210";
    fs::create_directories(j2);
    fs::create_directory_symlink(jd / "shared", t.path() / "alias");
    testsupport::HistoryCheckpoint c;
    c.id = 1;
    c.mtime_s = kT0 + 5000;
    for (const auto& s : job.checkpoints[0].shared) c.absolute.push_back(t.path() / "alias" / s);
    testsupport::write_history_checkpoint(j2, c);
    auto run = plan(t.path(), &p, now);
    REQUIRE(run.refusals.empty());
    auto gone = deleted_files(run.plan);
    for (const auto& s : job.checkpoints[0].shared) CHECK(gone.count((jd / "shared" / s).string()) == 0);
    CHECK(apply(run).ok());
    CHECK(testsupport::snapshot_problems(j2 / "chk-1").empty());
  }
}

TEST_CASE("permission errors fail closed (run as an unprivileged user)") {
  if (::geteuid() != 0) {
    MESSAGE("needs root to switch to an unprivileged uid: skipped");
    return;
  }
  TempDir t;
  fs::permissions(t.path(), fs::perms::all);
  const auto spec = job_spec(3);
  auto job = testsupport::make_incremental_job(t.path(), spec);
  fs::create_directories(t.path() / "hidden");
  std::string cmd = "chown -R 65534 " + t.path().string() + " && chown 0 " + (t.path() / "hidden").string() +
                    " && chmod 700 " + (t.path() / "hidden").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    ops::RetentionPolicy p;
    p.last = 1;
    auto run = plan(t.path(), &p, kT0 + 86400);
    bool refused = !run.refusals.empty() && run.refusals[0].find("hidden") != std::string::npos;
    ::_exit(refused ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("property: plan and apply match a brute-force model on random histories") {
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 40; ++trial) {
    CAPTURE(trial);
    TempDir t;
    const fs::path root = t.path();
    struct Snap {
      fs::path dir;
      std::string group;
      int64_t id, mtime;
      bool savepoint;
      std::set<std::string> uses;  // absolute paths
    };
    std::vector<Snap> snaps;
    std::vector<fs::path> jobs;
    int njobs = 1 + static_cast<int>(rng() % 3);
    std::map<std::string, std::vector<std::string>> pool;  // job -> shared file names
    for (int j = 0; j < njobs; ++j) {
      jobs.push_back(root / testsupport::random_job_id(rng));
      int nfiles = 3 + static_cast<int>(rng() % 15);
      // Unique across jobs, as Flink's UUID names are: a name found in two jobs' shared/ means a
      // copied directory (deletion_plan.h, moved prefixes).
      for (int k = 0; k < nfiles; ++k) pool[jobs[j].string()].push_back(fmt::format("j{}s{}", j, k));
    }
    int64_t max_time = kT0;
    for (int j = 0; j < njobs; ++j) {
      int n = 1 + static_cast<int>(rng() % 8);
      int64_t time = kT0 + static_cast<int64_t>(rng() % 86400);
      for (int k = 0; k < n; ++k) {
        time += static_cast<int64_t>(rng() % 3 ? rng() % 4000 : rng() % 90000) + 1;
        testsupport::HistoryCheckpoint c;
        c.id = k + 1;
        c.mtime_s = time;
        c.subtasks = 1 + static_cast<int>(rng() % 3);
        for (const auto& f : pool[jobs[j].string()]) {
          if (rng() % 3 == 0) c.shared.push_back(f);
        }
        if (njobs > 1 && rng() % 4 == 0) {  // CLAIM-mode style reference into another job's shared/
          const fs::path& other = jobs[(j + 1) % njobs];
          c.absolute.push_back(other / "shared" / pool[other.string()][0]);
        }
        int ne = static_cast<int>(rng() % 3);
        for (int e = 0; e < ne; ++e) c.exclusive.push_back(fmt::format("x{}", e));
        c.savepoint = false;
        fs::path dir = testsupport::write_history_checkpoint(jobs[j], c);
        Snap s{dir, jobs[j].string(), c.id, time, false, {}};
        for (const auto& f : c.shared) s.uses.insert((jobs[j] / "shared" / f).string());
        for (const auto& f : c.exclusive) s.uses.insert((dir / f).string());
        for (const auto& f : c.absolute) s.uses.insert(f.string());
        snaps.push_back(std::move(s));
        max_time = std::max(max_time, time);
      }
      // Orphans, old and young, and incomplete checkpoints.
      int no = static_cast<int>(rng() % 4);
      for (int k = 0; k < no; ++k) {
        fs::path f = jobs[j] / (rng() % 2 ? "shared" : "taskowned") / fmt::format("orphan{}", k);
        std::ofstream(f) << "o";
        testsupport::set_mtime(f, max_time - static_cast<int64_t>(rng() % 7200));
      }
      if (rng() % 2) {
        fs::path d = jobs[j] / "chk-1000";
        fs::create_directories(d);
        std::ofstream(d / "partial") << "p";
        int64_t m = max_time - static_cast<int64_t>(rng() % 7200);
        testsupport::set_mtime(d / "partial", m);
        testsupport::set_mtime(d, m);
      }
    }
    // Savepoints: one per job sometimes, using files of its job.
    for (int j = 0; j < njobs; ++j) {
      if (rng() % 2) continue;
      testsupport::HistoryCheckpoint c;
      c.id = 500;
      c.savepoint = true;
      c.mtime_s = kT0 + static_cast<int64_t>(rng() % 86400);
      c.exclusive = {"sp"};
      c.shared = {pool[jobs[j].string()].back()};
      std::string job6 = jobs[j].filename().string().substr(0, 6);
      fs::path dir = root / "savepoints" / fmt::format("savepoint-{}-{:012x}", job6, rng() % (1ull << 48));
      testsupport::write_history_checkpoint(jobs[j], c, 0, dir);
      Snap s{dir, (root / "savepoints" / ("savepoint-" + job6)).string(), c.id, c.mtime_s, true, {}};
      s.uses = {(dir / "sp").string(), (jobs[j] / "shared" / c.shared[0]).string()};
      snaps.push_back(std::move(s));
    }
    ops::RetentionPolicy p;
    if (rng() % 2) p.last = 1 + static_cast<int64_t>(rng() % 4);
    if (rng() % 3 == 0) p.within_ns = static_cast<int64_t>(rng() % 20000) * kS;
    if (rng() % 3 == 0) p.hourly = 1 + static_cast<int64_t>(rng() % 5);
    if (rng() % 3 == 0) p.daily = 1 + static_cast<int64_t>(rng() % 2);
    if (p.empty()) p.last = 2;
    p.include_savepoints = rng() % 2;
    const int64_t grace = rng() % 2 ? 3600 : 0;
    const int64_t now = max_time + static_cast<int64_t>(rng() % 5000);
    const int64_t cutoff = now - grace;

    // Model: who is kept.
    std::vector<ops::Ranked> ranked;
    std::vector<size_t> of;
    std::vector<bool> keep(snaps.size(), true);
    for (size_t i = 0; i < snaps.size(); ++i) {
      if (snaps[i].savepoint && !p.include_savepoints) continue;
      ranked.push_back({snaps[i].group, snaps[i].mtime * kS, snaps[i].id, !snaps[i].savepoint});
      of.push_back(i);
    }
    auto rules = ops::apply_policy(ranked, p);  // itself checked against its model in test_prune_plan
    for (size_t k = 0; k < of.size(); ++k) keep[of[k]] = rules[k] != 0 || snaps[of[k]].mtime > cutoff;
    std::set<std::string> used;
    for (size_t i = 0; i < snaps.size(); ++i) {
      if (keep[i]) used.insert(snaps[i].uses.begin(), snaps[i].uses.end());
    }
    // Model: what goes.
    std::set<std::string> expect;
    auto mtime_of = [](const fs::path& f) {
      struct stat st {};
      ::lstat(f.c_str(), &st);
      return static_cast<int64_t>(st.st_mtim.tv_sec);
    };
    for (size_t i = 0; i < snaps.size(); ++i) {
      if (keep[i]) continue;
      for (const auto& e : fs::recursive_directory_iterator(snaps[i].dir)) {
        if (!e.is_regular_file()) continue;
        std::string f = e.path().string();
        if (e.path().filename() == "_metadata" || (!used.count(f) && mtime_of(e.path()) <= cutoff)) expect.insert(f);
      }
    }
    for (const auto& jd : jobs) {
      for (const char* poolname : {"shared", "taskowned"}) {
        for (const auto& e : fs::recursive_directory_iterator(jd / poolname)) {
          std::string f = e.path().string();
          if (e.is_regular_file() && !used.count(f) && mtime_of(e.path()) <= cutoff) expect.insert(f);
        }
      }
      fs::path inc = jd / "chk-1000";
      if (fs::exists(inc) && mtime_of(inc) <= cutoff && mtime_of(inc / "partial") <= cutoff) {
        expect.insert((inc / "partial").string());
      }
    }

    auto run = plan(root, &p, now, grace);
    REQUIRE(run.refusals.empty());
    for (const auto& d : run.plan.snapshots) {
      const auto& s = run.graph.snapshots[d.snapshot];
      auto it = std::find_if(snaps.begin(), snaps.end(), [&](const Snap& x) { return x.dir == s.loc.directory; });
      REQUIRE(it != snaps.end());
      CHECK(d.keep == keep[static_cast<size_t>(it - snaps.begin())]);
    }
    CHECK(deleted_files(run.plan) == expect);
    auto before = all_files(root);
    CHECK(apply(run).ok());
    auto after = all_files(root);
    for (const auto& f : before) CHECK((after.count(f) == 0) == (expect.count(f) == 1));
    check_kept_intact(run);
    auto again = plan(root, &p, now, grace);
    REQUIRE(again.refusals.empty());
    CHECK(again.plan.deletions.empty());
  }
}

TEST_CASE("a crash at every deletion converges on rerun (in-process fork + SIGKILL)") {
  TempDir t;
  const auto spec = job_spec(5, 2, 3, 1);
  auto job = testsupport::make_incremental_job(t.path(), spec);
  ops::RetentionPolicy p;
  p.last = 2;
  const int64_t now = kT0 + 86400;
  auto first = plan(t.path(), &p, now);
  REQUIRE(first.refusals.empty());
  const auto expected_after = [&] {
    auto all = all_files(t.path());
    for (const auto& f : deleted_files(first.plan)) all.erase(f);
    return all;
  }();
  const size_t steps = first.plan.deletions.size();
  REQUIRE(steps > 10);
  // For each crash point: regenerate the same root (same seed), crash after k deletions, rerun.
  for (size_t k = 1; k < steps; ++k) {
    CAPTURE(k);
    fs::remove_all(t.path());
    testsupport::make_incremental_job(t.path(), spec);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setenv("CKPT_TEST_CRASH_AFTER", std::to_string(k).c_str(), 1);
      auto run = plan(t.path(), &p, now);
      auto lock = ops::RootLock::try_acquire(run.inventory.root);
      ops::apply_plan(run.plan, *lock);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    auto rerun = plan(t.path(), &p, now);
    REQUIRE(rerun.refusals.empty());
    check_kept_intact(rerun);
    CHECK(apply(rerun).ok());
    CHECK(all_files(t.path()) == expected_after);
    CHECK_FALSE(fs::exists(t.path() / ops::kJournalName));
    for (int id = 1; id <= 3; ++id) CHECK_FALSE(fs::exists(job.job_dir / fmt::format("chk-{}", id)));
  }
}

namespace {

// plan() with every safety option spelled out.
ops::PlanRun plan_with(const fs::path& root, const ops::RetentionPolicy* policy, int64_t now_s, int64_t grace_s,
                       bool allow_missing) {
  ops::PlanRequest req;
  req.root = root;
  req.options.now_ns = now_s * kS;
  req.options.grace_ns = grace_s * kS;
  req.options.allow_missing = allow_missing;
  if (policy) return ops::plan_root(req, [&](const snapshot::ReferenceGraph& g) { return ops::decide(g, *policy); });
  return ops::plan_root(req, ops::keep_all);
}

std::set<std::string> files_under(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.insert(e.path().string());
  }
  return out;
}

}  // namespace

TEST_CASE("fail closed: a kept snapshot's missing file stops every deletion; --allow-missing spares namesakes") {
  TempDir t;
  auto job = testsupport::make_incremental_job(t.path(), job_spec(5));
  ops::RetentionPolicy p;
  p.last = 1;
  const int64_t now = kT0 + 86400;
  const auto baseline = plan_with(t.path(), &p, now, 3600, false);
  REQUIRE(baseline.plan.deletions.size() > 10);
  // The newest checkpoint loses a shared file; a file of the same name sits, unreferenced, in
  // taskowned/ (a half-restored backup put it in the wrong place).
  const std::string lost = job.checkpoints.back().shared[0];
  fs::rename(job.job_dir / "shared" / lost, job.job_dir / "taskowned" / lost);
  testsupport::set_mtime(job.job_dir / "taskowned" / lost, kT0);

  auto closed = plan_with(t.path(), &p, now, 3600, false);
  REQUIRE(closed.refusals.empty());
  REQUIRE(closed.plan.missing.size() == 1);
  CHECK(closed.plan.missing[0].path.filename() == lost);
  CHECK_FALSE(closed.plan.missing[0].users.empty());
  CHECK(closed.plan.deletions.empty());
  CHECK(closed.plan.files_deleted == 0);
  CHECK(closed.plan.withheld >= static_cast<int64_t>(baseline.plan.deletions.size()));
  auto before = all_files(t.path());
  CHECK(apply(closed).ok());
  CHECK(all_files(t.path()) == before);

  auto allowed = plan_with(t.path(), &p, now, 3600, true);
  REQUIRE(allowed.plan.missing.size() == 1);
  CHECK(allowed.plan.withheld == 0);
  CHECK(!allowed.plan.deletions.empty());
  for (const auto& d : allowed.plan.deletions) CHECK(d.entry.name() != lost);
  CHECK(apply(allowed).ok());
  CHECK(fs::exists(job.job_dir / "taskowned" / lost));
}

TEST_CASE("a moved job directory: recognised, its files protected, fixed by relocate_in_place") {
  TempDir t;
  const fs::path old_ck = t.path() / "ck", new_ck = t.path() / "moved" / "ck2";
  auto job = testsupport::make_incremental_job(old_ck, job_spec(4));
  fs::create_directories(new_ck.parent_path());
  fs::rename(old_ck, new_ck);
  const fs::path job_dir = new_ck / job.job_dir.filename();
  const auto shared_before = files_under(job_dir / "shared");
  REQUIRE(!shared_before.empty());
  const int64_t now = kT0 + 86400;

  auto run = plan_with(job_dir, nullptr, now, 0, false);
  REQUIRE(run.refusals.empty());
  REQUIRE(run.plan.moved.size() == 1);
  CHECK(run.plan.moved[0].from == old_ck.string());  // the checkpoints directory: the job kept its name
  CHECK(run.plan.moved[0].to == new_ck.string());
  CHECK(run.plan.moved[0].files > 0);
  CHECK(run.plan.moved[0].missing == run.plan.moved[0].files);
  CHECK(!run.plan.missing.empty());
  CHECK(run.plan.deletions.empty());
  CHECK(ops::relocation_command(run.plan.moved[0], job_dir) ==
        "ckpt convert --relocate " + old_ck.string() + "=" + new_ck.string() + " --in-place " + job_dir.string());
  // Even told to go ahead, gc deletes none of the moved files.
  auto allowed = plan_with(job_dir, nullptr, now, 0, true);
  CHECK(deleted_files(allowed.plan).empty());

  struct stat st_before {};
  const fs::path md = job_dir / "chk-4" / "_metadata";
  REQUIRE(::lstat(md.c_str(), &st_before) == 0);
  auto fixed = ops::relocate_in_place(job_dir, {{old_ck.string(), new_ck.string()}}, false);
  CHECK(fixed.failed == 0);
  CHECK(fixed.rewritten == 4);
  struct stat st_after {};
  REQUIRE(::lstat(md.c_str(), &st_after) == 0);
  CHECK(st_after.st_mtim.tv_sec == st_before.st_mtim.tv_sec);
  CHECK(st_after.st_mtim.tv_nsec == st_before.st_mtim.tv_nsec);
  CHECK(st_after.st_ino != st_before.st_ino);  // replaced by rename, not rewritten in place
  auto again = ops::relocate_in_place(job_dir, {{old_ck.string(), new_ck.string()}}, false);
  CHECK(again.rewritten == 0);
  CHECK(again.unchanged == 4);

  auto after = plan_with(job_dir, nullptr, now, 0, false);
  REQUIRE(after.refusals.empty());
  CHECK(after.plan.moved.empty());
  CHECK(after.plan.missing.empty());
  for (const auto& d : after.plan.deletions) CHECK(shared_before.count(d.entry.path) == 0);
  check_kept_intact(after);
}

TEST_CASE("a copied job directory (originals still there): the copy's files are protected and reported") {
  TempDir t;
  const fs::path a = t.path() / "a", b = t.path() / "b";
  auto job = testsupport::make_incremental_job(a, job_spec(4));
  fs::copy(a, b, fs::copy_options::recursive);
  const fs::path copy_job = b / job.job_dir.filename();
  auto run = plan_with(copy_job, nullptr, kT0 + 86400, 0, false);
  REQUIRE(run.refusals.empty());
  CHECK(run.plan.missing.empty());
  REQUIRE(run.plan.moved.size() == 1);
  CHECK(run.plan.moved[0].missing == 0);
  CHECK(deleted_files(run.plan).empty());
}

TEST_CASE("a snapshot retired while the plan is made is not reported missing") {
  TempDir t;
  auto job = testsupport::make_incremental_job(t.path(), job_spec(3));
  ops::PlanRequest req;
  req.root = t.path();
  req.options.now_ns = (kT0 + 86400) * kS;
  auto run = ops::gather_root(req);
  REQUIRE(run.refusals.empty());
  // The job retires chk-1 after the graph read it: `_metadata` first, then its files.
  const fs::path chk1 = job.job_dir / "chk-1";
  fs::remove(chk1 / "_metadata");
  fs::remove_all(chk1);
  auto p = ops::make_plan(run.graph, run.inventory, ops::keep_all(run.graph), req.options);
  CHECK(p.missing.empty());
  CHECK(p.withheld == 0);
}

TEST_CASE("a live job's lock refuses a grace shorter than its checkpoint timeout") {
  TempDir t;
  auto job = testsupport::make_incremental_job(t.path(), job_spec(2));
  const int64_t now = kT0 + 86400;
  {
    auto lock = snapshot::JobLock::acquire(job.job_dir, 600 * kS);
    CHECK_THROWS_AS(snapshot::JobLock::acquire(job.job_dir, 600 * kS), io::IoError);
    auto live = snapshot::live_job(job.job_dir);
    REQUIRE(live);
    CHECK(live->pid == ::getpid());
    CHECK(live->min_grace_ns == 600 * kS);
    auto refused = plan_with(t.path(), nullptr, now, 60, false);
    REQUIRE(refused.refusals.size() == 1);
    CHECK(refused.refusals[0].find("a running job") != std::string::npos);
    CHECK(refused.refusals[0].find("--grace 10m") != std::string::npos);
    CHECK(plan_with(t.path(), nullptr, now, 600, false).refusals.empty());
  }
  CHECK_FALSE(snapshot::live_job(job.job_dir));
  CHECK_FALSE(fs::exists(job.job_dir / std::string(snapshot::kJobLockName)));
  CHECK(plan_with(t.path(), nullptr, now, 0, false).refusals.empty());
}

TEST_CASE("apply removes the temporary journal a run killed mid-write left in the root, nothing else") {
  TempDir t;
  const auto spec = job_spec(3);
  testsupport::make_incremental_job(t.path(), spec);
  const fs::path stale = io::temp_sibling(t.path() / ops::kJournalName, "tmp");
  CHECK(io::is_temp_sibling_name(stale.filename().native(), ops::kJournalName, "tmp"));
  const fs::path lookalike = t.path() / (std::string(".") + ops::kJournalName + ".not-hex-not-hex!.tmp");
  const fs::path other = t.path() / "notes.tmp";
  for (const auto& f : {stale, lookalike, other}) std::ofstream(f) << "x";
  ops::RetentionPolicy p;
  p.last = 1;
  auto run = plan(t.path(), &p, kT0 + 100000);
  REQUIRE(run.refusals.empty());
  CHECK(apply(run).ok());
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(lookalike));
  CHECK(fs::exists(other));
}

TEST_SUITE("fixtures") {
  TEST_CASE("reference graph over the real fixtures: every handle of every snapshot, keyed by one path form") {
    const fs::path root = snapshot::absolute_normal(fixtures::root());
    auto g = snapshot::build_reference_graph({{root, false}}, {});
    REQUIRE(g.snapshots.size() > 290);
    int unreadable = 0, checked = 0;
    for (uint32_t i = 0; i < g.snapshots.size(); ++i) {
      const auto& s = g.snapshots[i];
      CAPTURE(s.loc.metadata.string());
      if (!s.readable) {
        ++unreadable;
        continue;
      }
      CHECK(s.problems.empty());
      flink::Metadata md = flink::read_metadata_file(s.loc.metadata);
      std::set<std::string> paths;
      for (const auto& f : snapshot::file_refs(md, s.loc.directory)) {
        REQUIRE(f.resolved.kind == snapshot::ResolvedPath::Kind::kLocal);
        paths.insert(f.resolved.local.lexically_normal().string());
      }
      CHECK(paths.size() == s.files.size());
      for (const auto& p : paths) {
        auto id = g.find(p);
        REQUIRE(id);
        CHECK(std::binary_search(g.files[*id].users.begin(), g.files[*id].users.end(), i));
        CHECK(fs::path(p).is_absolute());
      }
      ++checked;
    }
    CHECK(unreadable == 1);  // the Flink 1.1 (version 0) savepoint
    CHECK(checked > 290);
  }

  TEST_CASE("gc over the real fixtures refuses for the unreadable one, and otherwise deletes nothing") {
    auto refused = plan(fixtures::root(), nullptr, kT0);
    CHECK(refused.refusals.size() == 1);
    auto run = plan(fixtures::root(), nullptr, kT0, 3600, {}, true);
    REQUIRE(run.refusals.empty());
    CHECK(run.plan.deletions.empty());
    for (const auto& d : run.plan.snapshots) CHECK(d.keep);
  }
}
