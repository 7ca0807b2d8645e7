// pipeline/rocksdb_backend: Flink's key layout in the column families, native full and incremental
// checkpoints (what is uploaded, what is reused), restore from native files with and without
// rescaling, and canonical snapshots readable by the hashmap backend.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <rocksdb/metadata.h>

#include "flink/key_groups.h"
#include "io/file_bytes.h"
#include "pipeline/checkpoint_storage.h"
#include "pipeline/rocksdb_backend.h"
#include "rocks/flink_options.h"
#include "support/temp_dir.h"

using namespace ckpt;
using namespace ckpt::pipeline;
namespace fs = std::filesystem;

using ckpt::testsupport::TempDir;

namespace {

constexpr int32_t kMaxP = 128;

std::unique_ptr<KeyedStateBackend> rocks_backend(flink::KeyGroupRange range, const fs::path& tmp, bool incremental) {
  RocksBackendOptions o;
  o.local_dir = tmp;
  o.max_parallelism = kMaxP;
  o.incremental = incremental;
  return make_rocksdb_backend(range, o);
}

// `b` with the counter's declarations (state 0 "count", VoidNamespace, and its timers) or, with
// `windows`, the windows operator's.
std::unique_ptr<KeyedStateBackend> declared(std::unique_ptr<KeyedStateBackend> b, bool windows = false) {
  NamespaceKind ns = windows ? NamespaceKind::kTimeWindow : NamespaceKind::kVoid;
  REQUIRE(b->declare_value_state(windows ? "window-contents" : "count", ns) == 0);
  b->declare_timers(windows ? "_timer_state/event_window-timers" : "_timer_state/event_user-timers", ns);
  return b;
}

int32_t kg_of(const std::string& key) { return flink::key_group_for_hash(flink::java_hash_string(key), kMaxP); }

void put(KeyedStateBackend& b, const std::string& key, int64_t v) {
  b.set_current_key(key, kg_of(key));
  b.update(0, Namespace{}, v);
}

std::optional<int64_t> get(KeyedStateBackend& b, const std::string& key) {
  b.set_current_key(key, kg_of(key));
  return b.value(0, Namespace{});
}

// A checkpoint location <job>/chk-<id> with <job>/shared beside it.
SnapshotLocation location(const fs::path& job, int64_t id, int64_t threshold) {
  SnapshotLocation loc;
  loc.dir = job / fmt::format("chk-{}", id);
  fs::create_directories(loc.dir);
  fs::create_directories(job / "shared");
  loc.memory_threshold = threshold;
  return loc;
}

// Lays the files of a native result out under their RocksDB names (what restore does through
// rocks::place_db_files) and describes them as the DbFiles of a restore piece.
rocks::DbFiles lay_out(const NativeKeyedResult& r, const SnapshotLocation& loc, const fs::path& dir) {
  fs::create_directories(dir);
  rocks::DbFiles db;
  db.where = "test";
  db.scope.allow(dir);
  for (const auto* list : {&r.shared, &r.private_files}) {
    for (const auto& [name, st] : *list) {
      std::string bytes;
      if (st.kind == PersistedStream::Kind::kInline) bytes = st.data;
      else if (st.kind == PersistedStream::Kind::kFile) bytes = io::read_file_bytes(loc.dir / st.name);
      else bytes = io::read_file_bytes(st.name.substr(5));  // "file:" + absolute path
      std::ofstream(dir / name, std::ios::binary) << bytes;
      rocks::DbFile f;
      f.name = name;
      f.path = dir / name;
      f.size = bytes.size();
      db.files.push_back(f);
    }
  }
  return db;
}

}  // namespace

TEST_CASE("pipeline rocksdb: native full checkpoint holds every file privately, keys in Flink's layout") {
  TempDir tmp;
  flink::KeyGroupRange all{0, kMaxP};
  auto b = declared(rocks_backend(all, tmp.path(), /*incremental=*/false));
  put(*b, "hello", 7);
  b->register_event_timer(Namespace{}, 1000);
  CHECK(get(*b, "hello") == 7);
  CHECK_FALSE(get(*b, "absent"));

  auto snap = b->native_snapshot(1, false, false);
  REQUIRE(snap);
  SnapshotLocation loc = location(tmp.path() / "job", 1, 0);
  NativeKeyedResult r = snap->persist(loc);
  CHECK(r.shared.empty());
  bool manifest = false, current = false, options = false, sst = false;
  int64_t total = r.meta.size;
  for (const auto& [name, st] : r.private_files) {
    manifest |= name.rfind("MANIFEST-", 0) == 0;
    options |= name.rfind("OPTIONS-", 0) == 0;
    current |= name == "CURRENT";
    sst |= name.size() > 4 && name.substr(name.size() - 4) == ".sst";
    CHECK(st.kind == PersistedStream::Kind::kFile);  // threshold 0: files in chk-1/
    total += st.size;
  }
  CHECK((manifest && current && options && sst));
  CHECK(r.checkpointed_size == total);
  CHECK(snap->timers.entries == 1);

  // The column family "count" holds [kg 35][StringValue "hello"][VoidNamespace 0] -> Long 7.
  fs::path db = tmp.path() / "laid-out";
  lay_out(r, loc, db);
  rocks::OpenDb open(db, rocks::OpenDb::Mode::kReadOnly);
  rocksdb::ColumnFamilyHandle* count = nullptr;
  for (auto* h : open.handles()) {
    if (h->GetName() == "count") count = h;
  }
  REQUIRE(count);
  std::string value;
  REQUIRE(open.db()->Get(rocksdb::ReadOptions(), count, std::string("\x23\x06hello\x00", 8), &value).ok());
  CHECK(value == std::string("\0\0\0\0\0\0\0\x07", 8));
}

TEST_CASE("pipeline rocksdb: an incremental checkpoint after changing 1% of 1M keys uploads <= 5% of the state") {
  TempDir tmp;
  flink::KeyGroupRange all{0, kMaxP};
  auto b = declared(rocks_backend(all, tmp.path(), /*incremental=*/true));
  constexpr int kKeys = 1'000'000;
  for (int i = 0; i < kKeys; ++i) put(*b, fmt::format("key-{}", i), i);
  fs::path job = tmp.path() / "job";
  SnapshotLocation loc1 = location(job, 1, 20 * 1024);
  NativeKeyedResult r1 = b->native_snapshot(1, false, false)->persist(loc1);
  b->notify_checkpoint_complete(1);
  std::mt19937 rng(42);
  for (int i = 0; i < kKeys / 100; ++i) put(*b, fmt::format("key-{}", rng() % kKeys), -1);
  SnapshotLocation loc2 = location(job, 2, 20 * 1024);
  NativeKeyedResult r2 = b->native_snapshot(2, false, false)->persist(loc2);

  int64_t full = r1.checkpointed_size;
  MESSAGE("full " << full << " bytes, incremental " << r2.checkpointed_size << " bytes");
  CHECK(full > 10 * 1000 * 1000);
  CHECK(r2.checkpointed_size * 20 <= full);
  // The first checkpoint's table files are listed again with the same (absolute) handles.
  int reused = 0;
  for (const auto& [name, st] : r2.shared) {
    for (const auto& [name1, st1] : r1.shared) {
      if (name == name1 && st.name == st1.name) ++reused;
    }
  }
  CHECK(reused == static_cast<int>(r1.shared.size()));
  CHECK(r2.shared.size() > r1.shared.size());
  for (const auto& [name, st] : r1.shared) {
    CHECK(st.kind == PersistedStream::Kind::kAbsoluteFile);
    CHECK(st.name.find(fs::absolute(job / "shared").string()) != std::string::npos);
  }

  // Checkpoint 2 never completes: checkpoint 3 cannot know whether checkpoint 1 is still retained
  // and uploads everything; after 3 completes, 4 reuses 3's files again.
  SnapshotLocation loc3 = location(job, 3, 20 * 1024);
  NativeKeyedResult r3 = b->native_snapshot(3, false, false)->persist(loc3);
  CHECK(r3.checkpointed_size >= full);
  b->notify_checkpoint_complete(3);
  SnapshotLocation loc4 = location(job, 4, 20 * 1024);
  NativeKeyedResult r4 = b->native_snapshot(4, false, false)->persist(loc4);
  CHECK(r4.checkpointed_size * 20 <= full);
}

TEST_CASE("pipeline rocksdb: native files restore as is, and rescaled by key group") {
  TempDir tmp;
  flink::KeyGroupRange all{0, kMaxP};
  auto b = declared(rocks_backend(all, tmp.path(), false));
  for (int i = 0; i < 1000; ++i) put(*b, fmt::format("w{}", i), i);
  SnapshotLocation loc = location(tmp.path() / "job", 1, 1024);
  NativeKeyedResult r = b->native_snapshot(1, false, false)->persist(loc);
  NativePiece piece{nullptr, lay_out(r, loc, tmp.path() / "files"), all};

  auto same = declared(rocks_backend(all, tmp.path(), false));
  same->restore_native(piece);
  CHECK(same->num_entries() == 1000);
  CHECK(get(*same, "w17") == 17);

  int64_t n = 0;
  for (int32_t i = 0; i < 3; ++i) {
    auto part = declared(rocks_backend(flink::range_of_subtask(kMaxP, 3, i), tmp.path(), false));
    part->restore_native(piece);
    n += part->num_entries();
    for (int k = 0; k < 1000; k += 37) {
      std::string key = fmt::format("w{}", k);
      flink::KeyGroupRange rg = part->key_groups();
      if (kg_of(key) >= rg.start && kg_of(key) <= rg.end_inclusive()) CHECK(get(*part, key) == k);
    }
  }
  CHECK(n == 1000);

  // The hashmap backend cannot read native files: a clear error, not a crash.
  auto heap = declared(make_hashmap_backend(all));
  CHECK_THROWS_WITH_AS(heap->restore_native(piece), doctest::Contains("rocksdb"), std::runtime_error);
}

namespace {

// The visible entries of column family `cf` of a native result laid out in `dir` (key -> value),
// and the key groups of the first and last keys of its table files.
struct DbView {
  std::map<std::string, std::string> entries;
  int32_t min_kg = 1 << 30, max_kg = -1;
};
DbView view_of(const NativeKeyedResult& r, const SnapshotLocation& loc, const fs::path& dir, const std::string& cf) {
  lay_out(r, loc, dir);
  rocks::OpenDb open(dir, rocks::OpenDb::Mode::kReadOnly);
  DbView v;
  for (auto* h : open.handles()) {
    if (h->GetName() != cf) continue;
    std::unique_ptr<rocksdb::Iterator> it(open.db()->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) v.entries[it->key().ToString()] = it->value().ToString();
    REQUIRE(it->status().ok());
    std::vector<rocksdb::LiveFileMetaData> files;
    open.db()->GetLiveFilesMetaData(&files);
    for (const auto& f : files) {
      if (f.column_family_name != cf || f.num_entries == f.num_deletions) continue;
      for (const std::string* k : {&f.smallestkey, &f.largestkey}) {
        int32_t kg = k->empty() ? -1 : static_cast<unsigned char>((*k)[0]);
        v.min_kg = std::min(v.min_kg, kg);
        v.max_kg = std::max(v.max_kg, kg);
      }
    }
  }
  return v;
}

}  // namespace

TEST_CASE("pipeline rocksdb: rescaling 2 -> 3 clips the best-overlapping database to exactly the new range") {
  TempDir tmp;
  // Two old subtasks (P = 2) with one entry per key, checkpointed natively.
  std::vector<NativePiece> pieces;
  std::map<std::string, int64_t> all_keys;
  for (int32_t i = 0; i < 2; ++i) {
    flink::KeyGroupRange rg = flink::range_of_subtask(kMaxP, 2, i);
    auto b = declared(rocks_backend(rg, tmp.path(), true));
    for (int k = 0; k < 3000; ++k) {
      std::string key = fmt::format("k{}", k);
      if (kg_of(key) < rg.start || kg_of(key) > rg.end_inclusive()) continue;
      put(*b, key, k);
      all_keys[key] = k;
    }
    SnapshotLocation loc = location(tmp.path() / fmt::format("job{}", i), 1, 0);
    NativeKeyedResult r = b->native_snapshot(1, false, false)->persist(loc);
    pieces.push_back(NativePiece{nullptr, lay_out(r, loc, tmp.path() / fmt::format("old{}", i)), rg});
  }
  REQUIRE(all_keys.size() == 3000);

  int64_t total = 0;
  for (int32_t i = 0; i < 3; ++i) {
    flink::KeyGroupRange rg = flink::range_of_subtask(kMaxP, 3, i);
    auto part = declared(rocks_backend(rg, tmp.path(), true));
    part->restore_native(pieces);
    std::map<std::string, int64_t> expected;
    for (const auto& [key, v] : all_keys) {
      if (kg_of(key) >= rg.start && kg_of(key) <= rg.end_inclusive()) expected[key] = v;
    }
    CHECK(part->num_entries() == static_cast<int64_t>(expected.size()));
    for (const auto& [key, v] : expected) CHECK(get(*part, key) == v);
    total += part->num_entries();

    // The database itself (as its next checkpoint has it): every visible key is in the new range,
    // and so is every key its table files hold (the deleted ranges were compacted away).
    SnapshotLocation loc = location(tmp.path() / fmt::format("new{}", i), 2, 0);
    NativeKeyedResult r = part->native_snapshot(2, false, false)->persist(loc);
    DbView v = view_of(r, loc, tmp.path() / fmt::format("new-db{}", i), "count");
    CHECK(v.entries.size() == expected.size());
    for (const auto& [k, val] : v.entries) {
      auto kg = static_cast<int32_t>(static_cast<unsigned char>(k[0]));
      CHECK(kg >= rg.start);
      CHECK(kg <= rg.end_inclusive());
    }
    CHECK(v.min_kg >= rg.start);
    CHECK(v.max_kg <= rg.end_inclusive());
  }
  CHECK(total == 3000);
}

TEST_CASE("pipeline rocksdb: the write-back cache evicts and checkpoints exactly the state at the barrier") {
  TempDir tmp;
  flink::KeyGroupRange all{0, kMaxP};
  RocksBackendOptions o;
  o.local_dir = tmp.path();
  o.max_parallelism = kMaxP;
  o.cache_entries = 100;  // far fewer than the keys: evictions write back and reload
  auto b = declared(make_rocksdb_backend(all, o), /*windows=*/true);
  std::map<std::pair<std::string, int64_t>, int64_t> model;
  std::mt19937 rng(5);
  for (int i = 0; i < 20000; ++i) {
    uint32_t r = rng() % 700;  // every third key is longer than the cache keeps inline
    std::string key = fmt::format("k{}{}", r, r % 3 == 0 ? std::string(30, 'L') : std::string());
    Namespace w{static_cast<int64_t>(rng() % 3) * 1000, 0};
    w.end = w.start + 1000;
    b->set_current_key(key, kg_of(key));
    auto& m = model[{key, w.start}];
    CHECK(b->value(0, w).value_or(0) == m);
    if (rng() % 10 == 0) {
      b->clear(0, w);
      model.erase({key, w.start});
    } else {
      b->update(0, w, m + 1);
      ++m;
    }
  }
  SnapshotLocation loc = location(tmp.path() / "job", 1, 0);
  NativeKeyedResult r = b->native_snapshot(1, false, false)->persist(loc);
  std::erase_if(model, [](const auto& e) { return e.second == 0; });
  // Changes after the barrier are not in the checkpoint.
  b->set_current_key("k1", kg_of("k1"));
  b->update(0, Namespace{5000, 6000}, 99);

  DbView v = view_of(r, loc, tmp.path() / "db", "window-contents");
  CHECK(v.entries.size() == model.size());
  for (const auto& [kw, n] : model) {
    std::string k;
    k.push_back(static_cast<char>(kg_of(kw.first)));
    write_java_string(k, kw.first);
    write_namespace(k, NamespaceKind::kTimeWindow, Namespace{kw.second, kw.second + 1000});
    std::string be(8, '\0');
    for (int i = 0; i < 8; ++i)
      be[static_cast<std::size_t>(i)] = static_cast<char>((static_cast<uint64_t>(n) >> (56 - 8 * i)) & 0xFF);
    auto it = v.entries.find(k);
    REQUIRE(it != v.entries.end());
    CHECK(it->second == be);
  }
  CHECK(b->num_entries() == static_cast<int64_t>(model.size()) + 1);
}

TEST_CASE("pipeline rocksdb: canonical snapshots (savepoints) restore into the hashmap backend and back") {
  TempDir tmp;
  flink::KeyGroupRange all{0, kMaxP};
  auto b = declared(rocks_backend(all, tmp.path(), false), /*windows=*/true);
  for (int i = 0; i < 500; ++i) {
    std::string key = fmt::format("k{}", i);
    b->set_current_key(key, kg_of(key));
    b->update(0, Namespace{0, 1000}, i);
    b->update(0, Namespace{1000, 2000}, -i);
    b->register_event_timer(Namespace{0, 1000}, 999);
  }
  b->set_current_key("k1", kg_of("k1"));
  b->clear(0, Namespace{1000, 2000});
  KeyedSnapshot s = b->snapshot(true);
  CHECK(s.entries == 999 + 500);
  std::string offsets;
  for (int64_t o : s.offsets) {
    for (int i = 7; i >= 0; --i) offsets.push_back(static_cast<char>((static_cast<uint64_t>(o) >> (8 * i)) & 0xFF));
  }

  auto heap = declared(make_hashmap_backend(all), /*windows=*/true);
  heap->restore(s.payload, s.range, flink::I64Array(offsets));
  CHECK(heap->num_entries() == 999 + 500);

  auto back = declared(rocks_backend(flink::range_of_subtask(kMaxP, 2, 1), tmp.path(), false), /*windows=*/true);
  back->restore(s.payload, s.range, flink::I64Array(offsets));
  Timer t;
  int timers = 0;
  while (back->poll_timer(999, t)) {
    ++timers;
    CHECK(back->value(0, t.ns).has_value());  // poll_timer made the timer's key current
  }
  CHECK(timers > 100);
  CHECK(timers < 400);
}
