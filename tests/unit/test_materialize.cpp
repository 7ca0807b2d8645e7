// ops/materialize: one subtask's RocksDB files as a database directory, on a synthetic incremental
// checkpoint over real databases (shared files, inline files, --map) and on every fixture subtask
// with an incremental / native RocksDB handle (opened with RocksDB, every column family read).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <functional>

#include "fixtures.h"
#include "flink/builder.h"
#include "flink/key_groups.h"
#include "flink/metadata_reader.h"
#include "flink/operator_id.h"
#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "ops/materialize.h"
#include "rocks/compact_db.h"
#include "rocks/flink_db.h"
#include "snapshot/discovery.h"
#include "support/rocks_snapshot.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;
using testsupport::TempDir;

namespace {

ops::OperatorSelector by_uid(const std::string& uid) {
  ops::OperatorSelector s;
  s.uid = uid;
  return s;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool has_temp_sibling(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out.parent_path())) {
    std::string n = e.path().filename().string();
    if (n.starts_with("." + out.filename().string() + ".")) return true;
  }
  return false;
}

struct Synthetic {
  TempDir t;
  testsupport::RocksSnapshot snap;
  flink::Metadata md;
  snapshot::Location loc;
  explicit Synthetic(uint64_t inline_threshold = 64) {
    testsupport::RocksSnapshotSpec spec;
    spec.subtasks = 2;
    spec.inline_threshold = inline_threshold;
    snap = testsupport::write_rocks_snapshot(t.path(), spec);
    loc = snapshot::locate(snap.snapshot_dir / "_metadata");
    md = flink::read_metadata_file(loc.metadata);
  }
};

}  // namespace

TEST_CASE("materialize: the subtask's database under original names, equal to what Flink uploaded") {
  Synthetic s;
  auto before = testsupport::tree_fingerprint(s.snap.job_dir);
  for (int sub = 0; sub < 2; ++sub) {
    CAPTURE(sub);
    ops::MaterializePlan plan = ops::plan_materialize(s.md, s.loc, by_uid("rocks"), sub, {});
    CHECK(plan.operator_id == flink::to_hex(flink::operator_id_from_uid("rocks")));
    CHECK(plan.tag == 11);
    CHECK(plan.range.start == flink::range_of_subtask(128, 2, sub).start);
    fs::path out = s.t / fmt::format("db{}", sub);
    ops::MaterializeResult r = ops::write_materialized(plan, out, false, false);
    CHECK(r.placed.inlined == 1);  // CURRENT
    CHECK(r.placed.linked >= 6);
    CHECK(r.column_families ==
          std::vector<std::string>{"default", "value-state", "list-state", "_timer_state/event_user-timers"});
    CHECK(fs::exists(out / "CURRENT"));
    CHECK(testsupport::read_db_contents(out) == testsupport::read_db_contents(s.snap.checkpoints[sub]));
    CHECK_FALSE(has_temp_sibling(out));
  }
  // Using the database for writing (here: a full compaction in place) never reaches the snapshot.
  rocks::compact_db(s.t / "db0", s.t / "db0-export");
  CHECK(testsupport::tree_fingerprint(s.snap.job_dir) == before);
}

TEST_CASE("materialize: by operator id, with --map after the job directory moved, and --copy") {
  Synthetic s;
  fs::path old_job = s.snap.job_dir;
  fs::rename(old_job, s.t / "moved");
  snapshot::Location loc = snapshot::locate(s.t / "moved" / s.snap.snapshot_dir.filename() / "_metadata");
  ops::OperatorSelector sel;
  sel.operator_id = flink::to_hex(flink::operator_id_from_uid("rocks"));
  std::string err = error_of([&] { ops::plan_materialize(s.md, loc, sel, 1, {}); });
  CHECK(err.find("No such file") != std::string::npos);
  std::vector<snapshot::PathMapping> maps = {{"file:" + old_job.string(), s.t / "moved"}};
  ops::MaterializePlan plan = ops::plan_materialize(s.md, loc, sel, 1, maps);
  ops::MaterializeResult r = ops::write_materialized(plan, s.t / "db", false, /*copy=*/true);
  CHECK(r.placed.linked == 0);
  CHECK(testsupport::read_db_contents(s.t / "db") == testsupport::read_db_contents(s.snap.checkpoints[1]));
}

TEST_CASE("materialize: refusals say what is wrong, and nothing is written") {
  Synthetic s;
  auto refused = [&](const ops::OperatorSelector& sel, int sub) {
    return error_of([&] { ops::plan_materialize(s.md, s.loc, sel, sub, {}); });
  };
  CHECK(refused(by_uid("nope"), 0).find("no operator with uid \"nope\"") != std::string::npos);
  CHECK(refused(by_uid("nope"), 0).find(flink::to_hex(flink::operator_id_from_uid("rocks"))) != std::string::npos);
  ops::OperatorSelector bad_id;
  bad_id.operator_id = "xyz";
  CHECK(refused(bad_id, 0).find("expected 32 hex digits") != std::string::npos);
  CHECK(refused(by_uid("rocks"), 2).find("no such subtask (parallelism 2)") != std::string::npos);
  CHECK(refused(by_uid("source"), 0).find("has no keyed state") != std::string::npos);

  // A key-grouped full snapshot is not a database.
  flink::Metadata full = s.md;
  flink::Builder b(full);
  std::vector<int64_t> offs(64, 0);
  full.operators[1].subtasks[0].managed_keyed = b.key_groups(
      flink::range_of_subtask(128, 2, 0), offs, b.relative_file("x", 10), "id", flink::keyed_tag::kSavepointKeyGroups);
  std::string err = error_of([&] { ops::plan_materialize(full, s.loc, by_uid("rocks"), 0, {}); });
  CHECK(err.find("cannot be materialized") != std::string::npos);
  CHECK(err.find("canonical savepoint (keyed tag 7)") != std::string::npos);

  // Outputs: inside the snapshot, non-empty, not a database even with --force.
  ops::MaterializePlan plan = ops::plan_materialize(s.md, s.loc, by_uid("rocks"), 0, {});
  CHECK_THROWS_AS(ops::check_materialize_output(plan, s.snap.snapshot_dir / "db", true), ops::MaterializeError);
  CHECK_THROWS_AS(ops::check_materialize_output(plan, s.snap.job_dir, true), ops::MaterializeError);
  fs::create_directories(s.t / "full");
  io::write_file_atomically(s.t / "full/notes.txt", "mine");
  err = error_of([&] { ops::write_materialized(plan, s.t / "full", false, false); });
  CHECK(err.find("is not empty (use --force") != std::string::npos);
  err = error_of([&] { ops::write_materialized(plan, s.t / "full", true, false); });
  CHECK(err.find("holds no RocksDB database") != std::string::npos);
  CHECK(io::read_file_bytes(s.t / "full/notes.txt") == "mine");

  // An empty directory is filled; an earlier database is replaced with --force only.
  fs::create_directories(s.t / "empty");
  ops::write_materialized(plan, s.t / "empty", false, false);
  CHECK(fs::exists(s.t / "empty/CURRENT"));
  CHECK_THROWS_AS(ops::write_materialized(plan, s.t / "empty", false, false), ops::MaterializeError);
  ops::MaterializePlan plan1 = ops::plan_materialize(s.md, s.loc, by_uid("rocks"), 1, {});
  ops::write_materialized(plan1, s.t / "empty", true, false);
  CHECK(testsupport::read_db_contents(s.t / "empty") == testsupport::read_db_contents(s.snap.checkpoints[1]));
  CHECK_FALSE(has_temp_sibling(s.t / "empty"));
}

TEST_CASE("materialize: a damaged MANIFEST fails the check and publishes nothing") {
  Synthetic s(0);
  ops::MaterializePlan plan = ops::plan_materialize(s.md, s.loc, by_uid("rocks"), 0, {});
  for (const auto& f : plan.db.files) {
    if (f.name.starts_with("MANIFEST-")) {
      fs::remove(f.path);
      io::write_file_atomically(f.path, std::string(f.size, 'x'));
    }
  }
  CHECK_THROWS_AS(ops::write_materialized(plan, s.t / "out", false, false), ops::MaterializeCheckFailed);
  CHECK_FALSE(fs::exists(s.t / "out"));
  CHECK_FALSE(has_temp_sibling(s.t / "out"));
  ops::write_materialized(plan, s.t / "out", false, false, /*check=*/false);
  CHECK(fs::exists(s.t / "out/CURRENT"));
}

TEST_SUITE("fixtures") {
  TEST_CASE("materialize every fixture subtask with a RocksDB handle; RocksDB opens it and reads every CF") {
    auto snaps = testsupport::snapshots_with_rocks_handles(fixtures::root());
    REQUIRE(snaps.size() >= 30);
    TempDir t;
    int subtasks = 0, fixtures_done = 0;
    std::size_t entries = 0, cfs = 0;
    for (const auto& loc : snaps) {
      CAPTURE(loc.metadata.string());
      flink::Metadata md = flink::read_metadata_file(loc.metadata);
      auto before = testsupport::tree_fingerprint(loc.directory);
      for (const auto& op : md.operators) {
        for (const auto& st : op.subtasks) {
          if (!std::holds_alternative<flink::IncrementalHandle>(st.managed_keyed.body)) continue;
          ops::OperatorSelector sel;
          sel.operator_id = flink::to_hex(op.id);
          ops::MaterializePlan plan = ops::plan_materialize(md, loc, sel, st.index, {});
          fs::path out = t / "db";
          // Copies: the fixtures stay untouched (not even their link counts change).
          ops::MaterializeResult r = ops::write_materialized(plan, out, false, /*copy=*/true);
          CHECK(r.placed.copied == static_cast<int>(plan.db.files.size()));
          // Independent of lib/rocks: RocksDB's ListColumnFamilies + OpenForReadOnly + iterators.
          testsupport::DbContents c = testsupport::read_db_contents(out);
          CHECK(c.size() == r.column_families.size());
          CHECK(c.count("default") == 1);
          auto counted = rocks::count_entries(out);
          for (const auto& cf : counted) CHECK(cf.entries == c[cf.name].size());
          cfs += c.size();
          for (const auto& [name, m] : c) entries += m.size();
          fs::remove_all(out);
          ++subtasks;
        }
      }
      CHECK(testsupport::tree_fingerprint(loc.directory) == before);
      ++fixtures_done;
    }
    CHECK(subtasks >= 300);
    CHECK(entries > 0);
    MESSAGE(subtasks << " subtasks of " << fixtures_done << " fixtures materialized: " << cfs << " column families, "
                     << entries << " entries read");
  }

  TEST_CASE("materialize refuses canonical savepoints and heap state with the reason") {
    fs::path canonical = fixtures::root() / "new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint";
    REQUIRE(fs::exists(canonical / "_metadata"));
    auto loc = snapshot::locate(canonical / "_metadata");
    flink::Metadata md = flink::read_metadata_file(loc.metadata);
    int refused = 0;
    for (const auto& op : md.operators) {
      for (const auto& st : op.subtasks) {
        if (st.managed_keyed.is_null()) continue;
        ops::OperatorSelector sel;
        sel.operator_id = flink::to_hex(op.id);
        std::string err = error_of([&] { ops::plan_materialize(md, loc, sel, st.index, {}); });
        CHECK(err.find("canonical savepoint (keyed tag 7)") != std::string::npos);
        ++refused;
      }
    }
    CHECK(refused > 0);
  }
}
