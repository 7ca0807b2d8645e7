// pipeline/local_state_store and native savepoints of the RocksDB backend: the local copy a
// checkpoint leaves (Flink's layout), pruning on confirmation, restore preferring a matching copy
// and falling back otherwise; native savepoints written self-contained; the configuration keys.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "flink/key_groups.h"
#include "pipeline/checkpoint_storage.h"
#include "pipeline/config.h"
#include "pipeline/local_state_store.h"
#include "pipeline/rocksdb_backend.h"
#include "rocks/db_files.h"
#include "support/native_db_files.h"
#include "support/temp_dir.h"

using namespace ckpt;
using namespace ckpt::pipeline;
namespace fs = std::filesystem;
using ckpt::testsupport::TempDir;

namespace {

constexpr int32_t kMaxParallelism = 128;
const std::string kJob = "0123456789abcdef0123456789abcdef";

std::unique_ptr<KeyedStateBackend> counter_backend(const fs::path& tmp, bool incremental,
                                                   const TaskLocalStateStore* local = nullptr) {
  RocksBackendOptions o;
  o.local_dir = tmp;
  o.max_parallelism = kMaxParallelism;
  o.incremental = incremental;
  if (local) o.local_snapshot_dir = [local](int64_t id, const std::string& b) { return local->snapshot_dir(id, b); };
  auto b = make_rocksdb_backend(flink::KeyGroupRange{0, kMaxParallelism}, o);
  b->declare_value_state("count", NamespaceKind::kVoid);
  for (int i = 0; i < 200; ++i) {
    std::string key = fmt::format("w{}", i);
    b->set_current_key(key, flink::key_group_for_hash(flink::java_hash_string(key), kMaxParallelism));
    b->update(0, Namespace{}, i);
  }
  return b;
}

}  // namespace

TEST_CASE("local state: a checkpoint keeps its RocksDB files under Flink's layout; confirmation prunes older copies") {
  TempDir tmp;
  LocalRecoveryConfig cfg{true, {tmp / "r0", tmp / "r1"}};
  TaskLocalStateStore store(cfg, kJob, "0da08f51eaa85fc298e176a139b3649a", 1);
  CHECK(store.dir() == tmp / "r1" / "localState" / "aid_00000000000000000000000000000001" / ("jid_" + kJob) /
                           "vtx_0da08f51eaa85fc298e176a139b3649a_sti_1");
  auto b = counter_backend(tmp.path(), true, &store);
  SnapshotLocation loc;
  loc.dir = tmp / "job" / "chk-1";
  fs::create_directories(loc.dir);
  fs::create_directories(tmp / "job" / "shared");
  NativeKeyedResult r1 = b->native_snapshot(1, false, false)->persist(loc);
  fs::path copy = store.dir() / "chk_1";
  REQUIRE(fs::is_directory(copy));
  auto dirs = std::distance(fs::directory_iterator(copy), fs::directory_iterator());
  CHECK(dirs == 1);
  fs::path backend_dir = fs::directory_iterator(copy)->path();
  CHECK(backend_dir.filename().string().find('-') == std::string::npos);  // UUID without dashes
  for (const auto& f : testsupport::native_db_files(r1, loc, "test").files) {
    CHECK(fs::exists(backend_dir / f.name));
    CHECK(fs::file_size(backend_dir / f.name) == f.size);
  }

  loc.dir = tmp / "job" / "chk-2";
  fs::create_directories(loc.dir);
  b->native_snapshot(2, false, false)->persist(loc);
  CHECK(fs::is_directory(store.dir() / "chk_2"));
  store.confirm(7);  // a savepoint's id: no local copy, nothing pruned
  CHECK(fs::is_directory(store.dir() / "chk_1"));
  store.confirm(2);
  CHECK_FALSE(fs::exists(store.dir() / "chk_1"));
  CHECK(fs::is_directory(store.dir() / "chk_2"));

  // A native savepoint leaves no local copy.
  SnapshotLocation sp;
  sp.dir = tmp / "sp";
  sp.savepoint = true;
  fs::create_directories(sp.dir);
  b->native_snapshot(3, false, true)->persist(sp);
  CHECK_FALSE(fs::exists(store.dir() / "chk_3"));

  discard_job_local_state(cfg, kJob);
  CHECK_FALSE(fs::exists(store.dir()));
}

TEST_CASE("local state: restore prefers a copy whose files match the handle, else falls back") {
  TempDir tmp;
  LocalRecoveryConfig cfg{true, {tmp / "r0"}};
  const std::string vertex = "0da08f51eaa85fc298e176a139b3649a";  // the counter's operator id
  TaskLocalStateStore store(cfg, kJob, vertex, 0);
  auto b = counter_backend(tmp.path(), false, &store);
  SnapshotLocation loc;
  loc.dir = tmp / "ck" / kJob / "chk-4";
  loc.memory_threshold = 1 << 20;  // everything inline: the remote copy needs no files
  fs::create_directories(loc.dir);
  NativeKeyedResult r = b->native_snapshot(4, false, false)->persist(loc);
  flink::IncrementalHandle handle;
  handle.backend_id = r.backend_id;

  auto plan_for = [&](int64_t id) {
    RestorePlan plan;
    plan.snapshot.id = id;
    plan.snapshot.dir = loc.dir;
    plan.max_parallelism = kMaxParallelism;
    plan.keyed.resize(1);
    NativePiece piece{nullptr, testsupport::native_db_files(r, loc, "test"), flink::KeyGroupRange{0, kMaxParallelism}};
    piece.files.subtask = 0;
    piece.files.handle = &handle;
    plan.keyed[0].counter_native.push_back(piece);
    return plan;
  };

  RestorePlan plan = plan_for(4);
  LocalRecoveryOutcome o = prefer_local_state(plan, cfg, "ffffffffffffffffffffffffffffffff");
  CHECK(o.local == 1);
  CHECK(o.remote == 0);
  for (const auto& f : plan.keyed[0].counter_native[0].files.files) {
    CHECK(f.source == rocks::FileSource::kFile);
    CHECK(f.path.string().find(store.dir().string()) == 0);
  }

  // Another checkpoint id: no copy.
  plan = plan_for(5);
  o = prefer_local_state(plan, cfg, kJob);
  CHECK(o.local == 0);
  CHECK(o.remote == 1);
  REQUIRE(o.fallbacks.size() == 1);
  CHECK(o.fallbacks[0].find("no local copy") != std::string::npos);

  // A file of another size.
  fs::path backend_dir = fs::directory_iterator(store.dir() / "chk_4")->path();
  std::ofstream(backend_dir / "CURRENT", std::ios::app) << "x";
  plan = plan_for(4);
  o = prefer_local_state(plan, cfg, kJob);
  CHECK(o.remote == 1);
  REQUIRE(o.fallbacks.size() == 1);
  CHECK(o.fallbacks[0].find("CURRENT") != std::string::npos);
  CHECK(plan.keyed[0].counter_native[0].files.files[0].path.empty());  // still the checkpoint's
}

TEST_CASE("native savepoint: every file in the savepoint directory, relative; nothing reused") {
  TempDir tmp;
  auto b = counter_backend(tmp.path(), true);
  SnapshotLocation loc;
  loc.dir = tmp / "job" / "chk-1";
  fs::create_directories(loc.dir);
  fs::create_directories(tmp / "job" / "shared");
  b->native_snapshot(1, false, false)->persist(loc);
  b->notify_checkpoint_complete(1);

  SnapshotLocation sp;
  sp.dir = tmp / "savepoint-012345-000000000000";
  sp.savepoint = true;
  fs::create_directories(sp.dir);
  NativeKeyedResult r = b->native_snapshot(2, false, true)->persist(sp);
  CHECK_FALSE(r.shared.empty());  // incremental: table files in the shared list, as Flink
  for (const auto* list : {&r.shared, &r.private_files}) {
    for (const auto& [name, st] : *list) {
      CHECK(st.kind == PersistedStream::Kind::kFile);
      CHECK(fs::exists(sp.dir / st.name));
    }
  }
  CHECK(r.checkpointed_size > 0);

  // The next checkpoint still reuses checkpoint 1's table files (the savepoint is no base).
  loc.dir = tmp / "job" / "chk-3";
  fs::create_directories(loc.dir);
  NativeKeyedResult r3 = b->native_snapshot(3, false, false)->persist(loc);
  for (const auto& [name, st] : r3.shared) CHECK(st.kind == PersistedStream::Kind::kAbsoluteFile);
  CHECK(r3.checkpointed_size < r.checkpointed_size);

  // Not incremental (Flink's native full strategy): every file private, in the savepoint directory.
  auto full = counter_backend(tmp.path(), false);
  sp.dir = tmp / "savepoint-012345-000000000001";
  fs::create_directories(sp.dir);
  NativeKeyedResult rf = full->native_snapshot(1, false, true)->persist(sp);
  CHECK(rf.shared.empty());
  CHECK_FALSE(rf.private_files.empty());
  for (const auto& [name, st] : rf.private_files) CHECK(st.kind == PersistedStream::Kind::kFile);
}

TEST_CASE("pipeline config: local recovery and the savepoint format") {
  RawConfig raw;
  apply_override(raw, "state.backend.type=rocksdb");
  apply_override(raw, "execution.state-recovery.from-local=true");
  apply_override(raw, "taskmanager.state.local.root-dirs=/a, /b:/c");
  apply_override(raw, "kubernetes.operator.savepoint.format.type=NATIVE");
  ResolvedConfig rc = resolve_config(raw);
  CHECK(rc.config.local_recovery);
  CHECK(rc.config.local_root_dirs == std::vector<std::string>{"/a", "/b", "/c"});
  CHECK(rc.config.native_savepoints);
  CHECK(rc.warnings.empty());
  CHECK(local_recovery_config(rc.config).enabled);

  raw.erase("state.backend.type");
  rc = resolve_config(raw);
  CHECK_FALSE(local_recovery_config(rc.config).enabled);
  REQUIRE(rc.warnings.size() == 1);
  CHECK(rc.warnings[0].find("hashmap") != std::string::npos);
  apply_override(raw, "kubernetes.operator.savepoint.format.type=binary");
  CHECK_THROWS_AS(resolve_config(raw), ConfigError);
}
