// ops/store_plan: prune and gc on an object-store root through the one planner. A generated
// incremental job is relocated to s3://b/ck and loaded into an in-memory store; the store plan
// must delete what the local plan of the same root deletes (objects only, no directories), in
// two phases, never what a kept checkpoint uses, and nothing when the re-check or the lease says no.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "io/file_bytes.h"
#include "ops/convert.h"
#include "ops/prune_plan.h"
#include "ops/relocate_in_place.h"
#include "ops/store_plan.h"
#include "snapshot/layout.h"
#include "storage/object_uri.h"
#include "support/synthetic_root.h"
#include "support/temp_dir.h"
#include "util/error.h"

using namespace ckpt;
namespace fs = std::filesystem;

namespace store_plan_test {

constexpr int64_t kNsPerS = 1000000000;
constexpr int64_t kStoreT0 = 1700000000;

// An in-memory bucket that records the order of its deletions.
class MemBucket final : public storage::ObjectStore {
 public:
  std::map<std::string, std::pair<storage::ObjectInfo, std::string>> objects;
  std::vector<std::vector<std::string>> remove_calls;
  std::set<std::string> deny;  // keys whose deletion is refused (AccessDenied)
  bool fail_list = false;

  std::string uri(std::string_view key) const override { return "s3://b/" + std::string(key); }
  void list(std::string_view prefix, const std::function<void(std::span<const storage::ObjectInfo>)>& page) override {
    if (fail_list) throw util::Error(util::ErrorKind::kIo, "s3://b/" + std::string(prefix) + ": listing page 2");
    std::vector<storage::ObjectInfo> out;
    for (const auto& [k, o] : objects) {
      if (k.starts_with(prefix)) out.push_back(o.first);
    }
    page(out);
  }
  std::optional<storage::ObjectInfo> stat(std::string_view key) override {
    auto it = objects.find(std::string(key));
    if (it == objects.end()) return std::nullopt;
    return it->second.first;
  }
  std::string read(std::string_view key, uint64_t) override {
    auto it = objects.find(std::string(key));
    if (it == objects.end()) throw util::Error(util::ErrorKind::kInput, uri(key) + ": no such object");
    return it->second.second;
  }
  std::string read_range(std::string_view key, uint64_t off, uint64_t len) override {
    return read(key, UINT64_MAX).substr(off, len);
  }
  void write_atomic(std::string_view key, std::string_view bytes, bool overwrite) override {
    if (!overwrite && objects.count(std::string(key))) throw util::Error(util::ErrorKind::kIo, "412");
    put(std::string(key), std::string(bytes), kStoreT0 * kNsPerS);
  }
  void copy(std::string_view, std::string_view) override {}
  std::vector<std::string> read_all(std::span<const std::string> keys, uint64_t max) override {
    std::vector<std::string> out;
    for (const auto& k : keys) out.push_back(read(k, max));
    return out;
  }
  void download(std::span<const std::string>, std::span<const std::string>) override {}
  void upload(std::span<const std::string>, std::span<const std::string>) override {}
  std::vector<storage::DeleteFailure> remove(std::span<const std::string> keys) override {
    remove_calls.emplace_back(keys.begin(), keys.end());
    std::vector<storage::DeleteFailure> out;
    for (const auto& k : keys) {
      if (deny.count(k)) {
        out.push_back({k, "AccessDenied: Access Denied"});
        continue;
      }
      objects.erase(k);
    }
    return out;
  }
  void put(const std::string& key, std::string bytes, int64_t mtime_ns) {
    storage::ObjectInfo o;
    o.key = key;
    o.size = bytes.size();
    o.modified_unix_ns = mtime_ns;
    objects[key] = {o, std::move(bytes)};
  }
};

// A relocated copy of a generated job in `store` under "ck/", and the local root it came from.
struct StoreFixture {
  testsupport::TempDir t;
  MemBucket* store = nullptr;
  std::unique_ptr<ops::StoreRoot> root;
  testsupport::SyntheticJob job;

  explicit StoreFixture(int checkpoints, const std::string& handles_at = "s3://b/ck") {
    testsupport::IncrementalJobSpec spec;
    spec.checkpoints = checkpoints;
    spec.subtasks = 3;
    spec.window = 4;
    spec.new_every = 2;
    job = testsupport::make_incremental_job(t.path(), spec);
    auto rel = ops::relocate_in_place(job.job_dir, {{t.path().string(), handles_at}}, false);
    REQUIRE(rel.failed == 0);
    auto mem = std::make_unique<MemBucket>();
    store = mem.get();
    for (auto it = fs::recursive_directory_iterator(t.path()); it != fs::recursive_directory_iterator(); ++it) {
      if (!it->is_regular_file()) continue;
      struct stat st {};
      REQUIRE(::lstat(it->path().c_str(), &st) == 0);
      store->put("ck/" + it->path().lexically_relative(t.path()).string(), io::read_file_bytes(it->path()),
                 static_cast<int64_t>(st.st_mtim.tv_sec) * kNsPerS);
    }
    storage::OpenedStore opened;
    opened.store = std::move(mem);
    opened.key = "ck";
    opened.uri = storage::parse_object_uri("s3://b/ck");
    root = std::make_unique<ops::StoreRoot>(std::move(opened));
  }

  ops::PlanRun plan(int retain, std::vector<std::string> protect = {}, bool allow_missing = false) {
    ops::StorePlanRequest req;
    req.protect = std::move(protect);
    req.options.allow_missing = allow_missing;
    req.options.now_ns = (kStoreT0 + 86400) * kNsPerS;
    req.options.grace_ns = 3600 * kNsPerS;
    if (retain == 0) return ops::plan_store_root(*root, req, ops::keep_all);
    ops::RetentionPolicy p;
    p.last = retain;
    return ops::plan_store_root(*root, req, [&](const snapshot::ReferenceGraph& g) { return ops::decide(g, p); });
  }

  std::set<std::string> keys() const {
    std::set<std::string> out;
    for (const auto& [k, o] : store->objects) out.insert(k);
    return out;
  }
};

std::set<std::string> deleted_keys(const ops::StoreRoot& root, const ops::Plan& p) {
  std::set<std::string> out;
  for (const auto& d : p.deletions) {
    auto k = root.key_of(d.entry.path);
    REQUIRE(k);
    out.insert(*k);
  }
  return out;
}

TEST_CASE("store plan: names of an object-store root") {
  storage::OpenedStore opened;
  opened.store = std::make_unique<MemBucket>();
  opened.uri = storage::parse_object_uri("s3a://bkt/a/b/");
  ops::StoreRoot r(std::move(opened));
  CHECK(r.key() == "a/b");
  CHECK(r.uri() == "s3a://bkt/a/b");
  const std::string v = r.virtual_path("a/b/job/shared/x");
  CHECK(r.key_of(v) == std::optional<std::string>("a/b/job/shared/x"));
  CHECK(r.display(v) == "s3a://bkt/a/b/job/shared/x");
  CHECK(r.display("refused: " + v + " and " + v) ==
        "refused: s3a://bkt/a/b/job/shared/x and s3a://bkt/a/b/job/shared/x");
  CHECK_FALSE(r.key_of("/elsewhere/a/b"));
  // s3, s3a and s3p of the bucket are one store; another bucket is not mapped.
  std::set<std::string> prefixes;
  for (const auto& m : r.mappings()) prefixes.insert(m.prefix);
  CHECK(prefixes == std::set<std::string>{"s3://bkt", "s3a://bkt", "s3p://bkt"});
  storage::OpenedStore whole;
  whole.store = std::make_unique<MemBucket>();
  whole.uri = storage::parse_object_uri("s3://bkt");
  CHECK_THROWS_AS(ops::StoreRoot(std::move(whole)), util::Error);
}

TEST_CASE("store plan: prune --retain 2 deletes what the planner says, metadata first, kept files stay") {
  StoreFixture f(6);
  auto run = f.plan(2);
  REQUIRE(run.refusals.empty());
  CHECK(run.plan.missing.empty());
  CHECK(run.plan.dirs_deleted == 0);  // prefixes, not directories
  CHECK(run.plan.journal.empty());
  int kept = 0;
  for (const auto& d : run.plan.snapshots) kept += d.keep;
  CHECK(kept == 2);
  auto gone = deleted_keys(*f.root, run.plan);
  REQUIRE(!gone.empty());
  // Every object a kept checkpoint uses stays.
  std::set<std::string> used;
  for (const auto& d : run.plan.snapshots) {
    if (!d.keep) continue;
    for (uint32_t fi : run.graph.snapshots[d.snapshot].files) used.insert(*f.root->key_of(run.graph.files[fi].path));
  }
  for (const auto& k : used) CHECK(gone.count(k) == 0);
  for (const auto& k : used) CHECK(f.store->objects.count(k) == 1);
  auto before = f.keys();
  auto result = ops::apply_store_plan(run, *f.root, {});
  CHECK(result.ok());
  CHECK(result.files_deleted == run.plan.files_deleted);
  // Phase 1 alone first: only `_metadata` objects.
  REQUIRE(f.store->remove_calls.size() >= 2);
  for (const auto& k : f.store->remove_calls.front()) CHECK(k.ends_with("/_metadata"));
  CHECK(f.store->remove_calls.front().size() == 4);
  for (const auto& k : before) CHECK((f.keys().count(k) == 0) == (gone.count(k) == 1));
  // Converged.
  auto again = f.plan(2);
  REQUIRE(again.refusals.empty());
  CHECK(again.plan.deletions.empty());
}

TEST_CASE("store plan: a kept checkpoint's missing object withholds every deletion") {
  StoreFixture f(4);
  // An orphan that gc would delete, and a shared object the newest checkpoint uses removed.
  f.store->put("ck/" + f.job.job_dir.filename().string() + "/shared/orphan", "x", kStoreT0 * kNsPerS);
  auto gc = f.plan(0);
  REQUIRE(gc.refusals.empty());
  CHECK(deleted_keys(*f.root, gc.plan).count("ck/" + f.job.job_dir.filename().string() + "/shared/orphan") == 1);
  const auto& last = f.job.checkpoints.back();
  REQUIRE(!last.shared.empty());
  f.store->objects.erase("ck/" + f.job.job_dir.filename().string() + "/shared/" + last.shared.front());
  auto run = f.plan(0);
  REQUIRE(run.refusals.empty());
  CHECK(run.plan.missing.size() == 1);
  CHECK(run.plan.deletions.empty());
  CHECK(run.plan.withheld > 0);
}

TEST_CASE("store plan: a failed listing plans nothing; AccessDenied is reported and blocks dependants") {
  StoreFixture f(5);
  f.store->fail_list = true;
  CHECK_THROWS_AS(f.plan(1), util::Error);
  f.store->fail_list = false;
  auto run = f.plan(1);
  REQUIRE(run.refusals.empty());
  // Deny the first pruned `_metadata`: its checkpoint's own files must stay.
  std::string denied;
  for (const auto& d : run.plan.deletions) {
    if (d.reason == ops::DeleteReason::kPrunedMetadata) {
      denied = *f.root->key_of(d.entry.path);
      break;
    }
  }
  REQUIRE(!denied.empty());
  f.store->deny.insert(denied);
  auto result = ops::apply_store_plan(run, *f.root, {});
  CHECK_FALSE(result.ok());
  CHECK(f.store->objects.count(denied) == 1);
  const std::string dir = denied.substr(0, denied.rfind('/') + 1);
  bool own_left = false;
  for (const auto& [k, o] : f.store->objects) own_left = own_left || (k.starts_with(dir) && k != denied);
  CHECK(own_left);
  bool reported = false;
  for (const auto& fl : result.failures) reported = reported || fl.why.find("AccessDenied") != std::string::npos;
  CHECK(reported);
}

TEST_CASE("store plan: a snapshot that appears after planning and uses a deleted object refuses the apply") {
  StoreFixture f(4);
  auto run = f.plan(1);
  REQUIRE(run.refusals.empty());
  REQUIRE(!run.plan.deletions.empty());
  // A copy of a pruned checkpoint's `_metadata` under a new name: it uses what the plan deletes.
  std::string pruned_md;
  for (const auto& d : run.plan.deletions) {
    if (d.reason == ops::DeleteReason::kPrunedMetadata) pruned_md = *f.root->key_of(d.entry.path);
  }
  REQUIRE(!pruned_md.empty());
  const std::string job = "ck/" + f.job.job_dir.filename().string();
  f.store->put(job + "/chk-99/_metadata", f.store->objects[pruned_md].second, (kStoreT0 + 86000) * kNsPerS);
  auto before = f.keys();
  CHECK_THROWS_AS(ops::apply_store_plan(run, *f.root, {}), util::Error);
  CHECK(f.keys() == before);
}

TEST_CASE("store plan: the lease refuses a second run and is released") {
  StoreFixture f(2);
  std::string holder;
  auto a = ops::StoreLease::try_acquire(*f.root, "gc", 3600, holder);
  REQUIRE(a);
  CHECK(f.store->objects.count("ck/.ckpt-gc.lease") == 1);
  auto b = ops::StoreLease::try_acquire(*f.root, "prune", 3600, holder);
  CHECK_FALSE(b);
  CHECK(holder.find("owner=ckpt gc") != std::string::npos);
  // The lease object is not part of any plan.
  auto run = f.plan(0);
  REQUIRE(run.refusals.empty());
  CHECK(deleted_keys(*f.root, run.plan).count("ck/.ckpt-gc.lease") == 0);
  a->release();
  CHECK(f.store->objects.count("ck/.ckpt-gc.lease") == 0);
  // An expired lease (a killed run) is taken over.
  f.store->put("ck/.ckpt-gc.lease", "owner=ckpt gc\nexpires_unix=1\n", kStoreT0 * kNsPerS);
  auto c = ops::StoreLease::try_acquire(*f.root, "gc", 3600, holder);
  CHECK(c);
}

TEST_CASE("store plan: s3a:// and s3p:// handles reach the same objects; another bucket refuses") {
  for (const char* scheme : {"s3a", "s3p"}) {
    CAPTURE(scheme);
    StoreFixture f(4, std::string(scheme) + "://b/ck");
    auto run = f.plan(1);
    REQUIRE(run.refusals.empty());
    CHECK(run.plan.missing.empty());
    CHECK(run.plan.withheld == 0);
    CHECK(!run.plan.deletions.empty());
  }
  StoreFixture f(4, "s3://other-bucket/ck");
  auto run = f.plan(1);
  CHECK_FALSE(run.refusals.empty());
  CHECK(run.plan.deletions.empty());
  bool names_it = false;
  for (const auto& r : run.refusals) names_it = names_it || r.find("s3://other-bucket/ck") != std::string::npos;
  CHECK(names_it);
}

TEST_CASE("store plan: --protect a prefix of the bucket keeps what its snapshots use") {
  StoreFixture f(5);
  auto run = f.plan(1);
  REQUIRE(run.refusals.empty());
  // A savepoint outside the root made from the oldest (pruned) checkpoint's `_metadata`.
  const std::string job = "ck/" + f.job.job_dir.filename().string();
  std::string oldest = job + "/chk-1/_metadata";
  REQUIRE(f.store->objects.count(oldest));
  f.store->put("sp/savepoint-0001/_metadata", f.store->objects[oldest].second, kStoreT0 * kNsPerS);
  std::set<std::string> released;
  for (const auto& d : run.plan.deletions) {
    if (d.reason == ops::DeleteReason::kReleased) released.insert(*f.root->key_of(d.entry.path));
  }
  std::set<std::string> used_by_oldest;
  for (const auto& s : f.job.checkpoints.front().shared) used_by_oldest.insert(job + "/shared/" + s);
  bool some = false;
  for (const auto& k : used_by_oldest) some = some || released.count(k);
  REQUIRE(some);
  // Its relative (exclusive) files are not under sp/: missing, so allow_missing to see the rest.
  auto prot = f.plan(1, {"s3p://b/sp"}, true);
  REQUIRE(prot.refusals.empty());
  bool found = false;
  for (const auto& s : prot.graph.snapshots)
    found = found || (s.protected_origin && s.loc.metadata.native().ends_with("sp/savepoint-0001/_metadata"));
  CHECK(found);
  auto gone = deleted_keys(*f.root, prot.plan);
  for (const auto& k : used_by_oldest) CHECK(gone.count(k) == 0);
  CHECK_THROWS_AS(f.plan(1, {"s3://other/sp"}), util::Error);
}

}  // namespace store_plan_test
