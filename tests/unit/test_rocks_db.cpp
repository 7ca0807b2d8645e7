// lib/rocks: the files of a subtask's database (db_files), laying them out (place_db), reading
// and comparing Flink databases (flink_db, flink_options) and full compaction (compact_db), on
// real RocksDB databases written by tests/support/rocks_snapshot.h and on the real fixtures.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <sys/stat.h>

#include <set>

#include "fixtures.h"
#include "flink/builder.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"
#include "rocks/compact_db.h"
#include "rocks/db_files.h"
#include "rocks/flink_db.h"
#include "rocks/flink_options.h"
#include "rocks/place_db.h"
#include "snapshot/discovery.h"
#include "snapshot/read_scope.h"
#include "support/rocks_snapshot.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;
using testsupport::TempDir;

namespace {

uint64_t links(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_nlink;
}

}  // namespace

// What the commands read a snapshot directory's files through (snapshot/read_scope.h).
io::ReadScope scope_of(const fs::path& snapshot_dir, const std::vector<snapshot::PathMapping>& mappings = {}) {
  return snapshot::read_scope(snapshot::locate(snapshot_dir / "_metadata"), mappings, {});
}

TEST_CASE("file names: sst suffix and plain local names") {
  CHECK(rocks::is_sst("000012.sst"));
  CHECK_FALSE(rocks::is_sst(".sst"));
  CHECK_FALSE(rocks::is_sst("MANIFEST-000004"));
  CHECK(rocks::plain_local_name("CURRENT"));
  for (const char* bad : {"", ".", "..", "a/b", "../x"}) CHECK_FALSE(rocks::plain_local_name(bad));
}

TEST_CASE("db_files_of: shared and private lists, inline files, every problem reported") {
  TempDir t;
  testsupport::RocksSnapshotSpec spec;
  spec.inline_threshold = 64;  // CURRENT (16 bytes) is inlined, as Flink's 20 KiB threshold would
  auto snap = testsupport::write_rocks_snapshot(t.path(), spec);
  flink::Metadata md = flink::read_metadata_file(snap.snapshot_dir / "_metadata");
  auto dbs = rocks::db_files_of(md, snap.snapshot_dir, {}, scope_of(snap.snapshot_dir));
  REQUIRE(dbs.size() == 2);
  for (const auto& db : dbs) {
    CAPTURE(db.where);
    CHECK(db.ok());
    CHECK(db.where.find("subtask") != std::string::npos);
    std::set<std::string> names;
    int inlined = 0;
    for (const auto& f : db.files) {
      names.insert(f.name);
      CHECK(f.shared == rocks::is_sst(f.name));
      if (f.source == rocks::FileSource::kInline) {
        ++inlined;
        CHECK(f.size == f.bytes.size());
      } else {
        CHECK(f.path.parent_path() == snap.job_dir / "shared");
        CHECK(fs::file_size(f.path) == f.size);
      }
    }
    CHECK(inlined == 1);
    CHECK(names.count("CURRENT") == 1);
    CHECK(std::count_if(names.begin(), names.end(), [](auto& n) { return n.starts_with("MANIFEST-"); }) == 1);
  }

  SUBCASE("missing, resized, remote, duplicated, escaping and incomplete handles") {
    flink::Metadata bad = md;
    flink::Builder b(bad);
    auto& h0 = std::get<flink::IncrementalHandle>(bad.operators[1].subtasks[0].managed_keyed.body);
    fs::remove(fs::path(std::string(h0.shared[0].handle.name.substr(5))));  // strip "file:"
    h0.shared[1].handle.size += 1;
    h0.private_files.push_back(b.named("extra", b.file("s3://bucket/x/y", 10)));
    h0.private_files.push_back(b.named(h0.shared[2].local_path, b.relative_file("../outside", 3)));
    h0.private_files.push_back(b.named("up", b.relative_file("../outside", 3)));
    h0.private_files.push_back(b.named("a/b", b.relative_file("x", 3)));
    auto& h1 = std::get<flink::IncrementalHandle>(bad.operators[1].subtasks[1].managed_keyed.body);
    std::erase_if(h1.private_files, [](const auto& ns) { return ns.local_path == "CURRENT"; });
    auto got = rocks::db_files_of(bad, snap.snapshot_dir, {}, scope_of(snap.snapshot_dir));
    std::string p0, p1;
    for (const auto& p : got[0].problems) p0 += p + "\n";
    for (const auto& p : got[1].problems) p1 += p + "\n";
    CAPTURE(p0);
    CHECK(got[0].problems.size() == 6);
    CHECK(p0.find("No such file") != std::string::npos);
    CHECK(p0.find("the handle records") != std::string::npos);
    CHECK(p0.find("remote file; mirror it locally and pass --map") != std::string::npos);
    CHECK(p0.find("listed twice") != std::string::npos);
    CHECK(p0.find("resolves outside the snapshot directory") != std::string::npos);
    CHECK(p0.find("\"a/b\" is not a plain file name") != std::string::npos);
    CHECK(p1.find("no CURRENT file") != std::string::npos);

    // A mapping makes the remote file local.
    fs::create_directories(t / "mirror/x");
    io::write_file_atomically(t / "mirror/x/y", std::string(10, 'y'));
    auto mapped = rocks::db_files_of(bad, snap.snapshot_dir, {{"s3://bucket", t / "mirror"}},
                                     scope_of(snap.snapshot_dir, {{"s3://bucket", t / "mirror"}}));
    CHECK(mapped[0].problems.size() == 5);
  }
}

TEST_CASE("place_db_files: original names, table files linked, the rest copied, the database opens") {
  TempDir t;
  testsupport::RocksSnapshotSpec spec;
  spec.subtasks = 1;
  spec.inline_threshold = 64;
  auto snap = testsupport::write_rocks_snapshot(t.path(), spec);
  flink::Metadata md = flink::read_metadata_file(snap.snapshot_dir / "_metadata");
  auto dbs = rocks::db_files_of(md, snap.snapshot_dir, {}, scope_of(snap.snapshot_dir));
  REQUIRE(dbs.size() == 1);
  fs::create_directory(t / "db");
  auto st = rocks::place_db_files(dbs[0], t / "db", true);
  CHECK(st.how.size() == dbs[0].files.size());
  CHECK(st.inlined == 1);
  CHECK(st.linked == static_cast<int>(std::count_if(dbs[0].files.begin(), dbs[0].files.end(),
                                                    [](const auto& f) { return rocks::is_sst(f.name); })));
  CHECK(st.linked >= 6);
  CHECK(st.copied + st.linked + st.inlined == static_cast<int>(dbs[0].files.size()));
  for (std::size_t i = 0; i < dbs[0].files.size(); ++i) {
    const auto& f = dbs[0].files[i];
    CHECK(fs::file_size(t / "db" / f.name) == f.size);
    CHECK(links(t / "db" / f.name) == (st.how[i] == rocks::PlaceHow::kLink ? 2u : 1u));
  }
  CHECK(testsupport::read_db_contents(t / "db") == testsupport::read_db_contents(snap.checkpoints[0]));

  // A second layout from the first (how compact makes its working copy).
  fs::create_directory(t / "db2");
  auto st2 = rocks::place_db_files(rocks::laid_out_at(dbs[0], t / "db"), t / "db2", true);
  CHECK(st2.inlined == 0);
  CHECK(st2.linked == st.linked);
  CHECK(testsupport::read_db_contents(t / "db2") == testsupport::read_db_contents(snap.checkpoints[0]));

  // Targets are never replaced.
  CHECK_THROWS(rocks::place_db_files(dbs[0], t / "db", true));
}

TEST_CASE("flink_db: column families, entry counts and side-by-side comparison") {
  TempDir t;
  testsupport::FlinkDbSpec spec;
  testsupport::write_flink_db(t / "a", t / "a-cp", spec);
  auto contents = testsupport::read_db_contents(t / "a-cp");
  auto cfs = rocks::list_column_families(t / "a-cp");
  CHECK(cfs.size() == 4);
  CHECK(cfs.front() == "default");
  auto counts = rocks::count_entries(t / "a-cp");
  REQUIRE(counts.size() == 4);
  for (const auto& c : counts) {
    CAPTURE(c.name);
    CHECK(c.entries == contents[c.name].size());
  }
  CHECK(contents["list-state"].size() > 100);
  // Merge operands come back merged with Flink's ',' delimiter.
  bool merged = false;
  for (const auto& [k, v] : contents["list-state"]) merged = merged || v.find(',') != std::string::npos;
  CHECK(merged);

  auto same = rocks::compare_dbs(t / "a-cp", t / "a-cp");
  CHECK(same.equal);
  CHECK(same.column_families.size() == 4);

  spec.seed = 2;
  testsupport::write_flink_db(t / "b", t / "b-cp", spec);
  auto diff = rocks::compare_dbs(t / "a-cp", t / "b-cp");
  CHECK_FALSE(diff.equal);
  CHECK(diff.difference.find("column family") != std::string::npos);

  CHECK_THROWS_AS(rocks::list_column_families(t / "nothing"), rocks::RocksError);
  CHECK_THROWS_AS(rocks::count_entries(t / "nothing"), rocks::RocksError);
}

TEST_CASE("compact_db: one sorted run per column family, the same entries, a clean export") {
  TempDir t;
  testsupport::FlinkDbSpec spec;
  spec.flushes = 10;
  testsupport::write_flink_db(t / "src", t / "cp", spec);
  auto before = testsupport::read_db_contents(t / "cp");
  int sst_before = 0;
  for (const auto& e : fs::directory_iterator(t / "cp")) sst_before += rocks::is_sst(e.path().filename().string());
  CHECK(sst_before == 30);  // 3 column families with data x 10 flushes
  fs::copy(t / "cp", t / "work");
  auto r = rocks::compact_db(t / "work", t / "export");
  CHECK(r.sst_files == 3);
  CHECK(r.files.size() == 6);  // 3 tables, MANIFEST, CURRENT, OPTIONS
  std::set<std::string> kinds;
  for (const auto& f : r.files) {
    kinds.insert(rocks::is_sst(f.name) ? "sst" : f.name.substr(0, f.name.find('-')));
    CHECK(fs::file_size(t / "export" / f.name) == f.size);
  }
  CHECK(kinds == std::set<std::string>{"CURRENT", "MANIFEST", "OPTIONS", "sst"});
  CHECK(testsupport::read_db_contents(t / "export") == before);
  CHECK(rocks::compare_dbs(t / "cp", t / "export").equal);
  CHECK_THROWS_AS(rocks::compact_db(t / "work", t / "export"), rocks::RocksError);  // export exists
}

TEST_SUITE("fixtures") {
  TEST_CASE("flink_db_options: OPTIONS of FRocksDB 6.20 and 8.10 load; machine paths dropped") {
    auto snaps = testsupport::snapshots_with_rocks_handles(fixtures::root());
    REQUIRE(snaps.size() >= 30);
    TempDir t;
    int loaded = 0;
    for (const auto& loc : snaps) {
      CAPTURE(loc.metadata.string());
      flink::Metadata md = flink::read_metadata_file(loc.metadata);
      auto dbs = rocks::db_files_of(md, loc.directory, {}, snapshot::read_scope(loc, {}, {}));
      REQUIRE(!dbs.empty());
      REQUIRE(dbs[0].ok());
      fs::path dir = t / fmt::format("db{}", loaded);
      fs::create_directory(dir);
      rocks::place_db_files(dbs[0], dir, false);  // copies: fixtures stay untouched
      rocks::FlinkDbOptions o = rocks::flink_db_options(dir);
      CHECK(o.notes.empty());
      CHECK(o.db.wal_dir.empty());
      REQUIRE(o.column_families.size() >= 2);
      for (const auto& cf : o.column_families) {
        REQUIRE(cf.options.merge_operator);
        CHECK(std::string(cf.options.merge_operator->Name()) == "StringAppendTESTOperator");
        CHECK(cf.options.compaction_filter_factory == nullptr);
      }
      ++loaded;
    }
    MESSAGE(loaded << " fixtures' OPTIONS loaded");
  }
}
