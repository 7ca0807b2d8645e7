// ops/compact: RocksDB subtasks rebuilt, fully compacted, verified and written as a new
// self-contained savepoint, on a synthetic incremental checkpoint over real databases with many
// table files, and on every fixture with incremental / native RocksDB handles.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "fixtures.h"
#include "flink/handles.h"
#include "flink/metadata_reader.h"
#include "flink/operator_id.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "ops/compact.h"
#include "ops/convert.h"
#include "ops/inspect.h"
#include "ops/materialize.h"
#include "ops/validate.h"
#include "rocks/db_files.h"
#include "snapshot/discovery.h"
#include "snapshot/read_scope.h"
#include "support/rocks_snapshot.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;
using testsupport::TempDir;

namespace {

// The logical contents of every RocksDB subtask of a snapshot, materialized (copies) and read
// with RocksDB directly: "<operator hex>/<subtask>" -> contents.
std::map<std::string, testsupport::DbContents> rocks_contents(const snapshot::Location& loc, const fs::path& scratch) {
  flink::Metadata md = flink::read_metadata_file(loc.metadata);
  std::map<std::string, testsupport::DbContents> out;
  for (const auto& op : md.operators) {
    for (const auto& st : op.subtasks) {
      if (!std::holds_alternative<flink::IncrementalHandle>(st.managed_keyed.body)) continue;
      ops::OperatorSelector sel;
      sel.operator_id = flink::to_hex(op.id);
      auto plan = ops::plan_materialize(md, loc, sel, st.index, {});
      fs::remove_all(scratch);
      ops::write_materialized(plan, scratch, false, /*copy=*/true);
      out[fmt::format("{}/{}", flink::to_hex(op.id), st.index)] = testsupport::read_db_contents(scratch);
    }
  }
  fs::remove_all(scratch);
  return out;
}

void check_valid(const fs::path& dir) {
  ops::ValidateOptions vo;
  vo.files.deep = true;
  auto v = ops::validate_snapshot(snapshot::locate(dir / "_metadata"), vo);
  for (const auto& f : v.findings) CAPTURE(f.message);
  CHECK(v.status == ops::SnapshotValidation::Status::kValid);
  CHECK(v.errors == 0);
}

ops::CompactRunOptions run_options(bool replace, bool copy) {
  ops::CompactRunOptions o;
  o.replace = replace;
  o.copy = copy;
  return o;
}

bool leftovers_beside(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out.parent_path())) {
    if (e.path().filename().string().starts_with("." + out.filename().string() + ".")) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("compact: many small tables become one per column family; same entries; a valid savepoint") {
  TempDir t;
  testsupport::RocksSnapshotSpec spec;
  spec.subtasks = 3;
  spec.db.flushes = 12;
  spec.inline_threshold = 64;
  auto snap = testsupport::write_rocks_snapshot(t.path(), spec);
  auto loc = snapshot::locate(snap.snapshot_dir / "_metadata");
  flink::Metadata md = flink::read_metadata_file(loc.metadata);
  auto input_before = testsupport::tree_fingerprint(snap.job_dir);
  auto contents_before = rocks_contents(loc, t / "scratch");

  ops::CompactPlan plan = ops::plan_compact(md, loc, {});
  REQUIRE(plan.subtasks.size() == 3);
  CHECK(plan.files_before == static_cast<int>(snap.rocks_files));
  CHECK(plan.bytes_before == snap.rocks_bytes);
  CHECK(plan.carried_files == 4);  // the source's operator state and three meta files
  for (const auto& sp : plan.subtasks) CHECK(sp.sst_before == 36);

  fs::path out = t / "compacted";
  ops::CompactResult r = ops::run_compact(plan, out, run_options(false, false));
  REQUIRE(r.subtasks.size() == 3);
  uint64_t bytes_after = 0;
  for (const auto& cs : r.subtasks) {
    CHECK(cs.sst_after == 3);
    CHECK(cs.files_after == 6);
    CHECK(cs.column_families.size() == 4);
    bytes_after += cs.bytes_after;
    for (const auto& f : cs.files) CHECK(fs::file_size(out / f.output_name) == f.size);
  }
  CHECK(bytes_after < plan.bytes_before);
  CHECK_FALSE(leftovers_beside(out));

  // Self-contained, valid (deep), a native savepoint; inspect agrees on the sizes.
  CHECK(ops::check_self_contained(out).empty());
  check_valid(out);
  flink::Metadata after = flink::read_metadata_file(out / "_metadata");
  CHECK(after.properties.kind == flink::CheckpointProperties::Kind::kSavepoint);
  CHECK(after.properties.format == flink::CheckpointProperties::Format::kNative);
  auto rep = ops::inspect(after, snapshot::locate(out / "_metadata"), {});
  CHECK(rep.summary().bytes().keyed() > 0);
  for (std::size_t s = 0; s < 3; ++s) {
    const auto& hb = std::get<flink::IncrementalHandle>(md.operators[1].subtasks[s].managed_keyed.body);
    const auto& ha = std::get<flink::IncrementalHandle>(after.operators[1].subtasks[s].managed_keyed.body);
    CHECK(ha.backend_id == hb.backend_id);
    CHECK(ha.checkpoint_id == hb.checkpoint_id);
    CHECK(ha.range.start == hb.range.start);
    CHECK(ha.handle_id != hb.handle_id);
    CHECK(ha.shared.size() == 3);
    CHECK(ha.private_files.size() == 3);
    CHECK(ha.checkpointed_size == flink::keyed_state_size(after.operators[1].subtasks[s].managed_keyed));
  }
  // Same entries, read independently of the command.
  CHECK(rocks_contents(snapshot::locate(out / "_metadata"), t / "scratch") == contents_before);
  // The input is untouched; the output can be moved.
  CHECK(testsupport::tree_fingerprint(snap.job_dir) == input_before);
  fs::rename(out, t / "moved");
  CHECK(ops::check_self_contained(t / "moved").empty());

  // Compacting the compacted savepoint again changes nothing in the entries.
  auto again_loc = snapshot::locate(t / "moved/_metadata");
  ops::CompactPlan again = ops::plan_compact(flink::read_metadata_file(again_loc.metadata), again_loc, {});
  ops::run_compact(again, t / "twice", run_options(false, true));
  CHECK(rocks_contents(snapshot::locate(t / "twice/_metadata"), t / "scratch") == contents_before);
}

TEST_CASE("compact: refusals, failures and reruns") {
  TempDir t;
  testsupport::RocksSnapshotSpec spec;
  auto snap = testsupport::write_rocks_snapshot(t.path(), spec);
  auto loc = snapshot::locate(snap.snapshot_dir / "_metadata");
  flink::Metadata md = flink::read_metadata_file(loc.metadata);

  SUBCASE("nothing to compact") {
    flink::Metadata no_rocks = md;
    no_rocks.operators.pop_back();
    CHECK_THROWS_WITH_AS(ops::plan_compact(no_rocks, loc, {}), doctest::Contains("nothing to compact"),
                         ops::CompactRefused);
  }
  SUBCASE("outputs that would touch the input or replace other data") {
    ops::CompactPlan plan = ops::plan_compact(md, loc, {});
    CHECK_THROWS_AS(ops::check_compact_output(plan, snap.snapshot_dir / "out", true), ops::CompactRefused);
    CHECK_THROWS_AS(ops::check_compact_output(plan, snap.job_dir / "shared", true), ops::CompactRefused);
    CHECK_THROWS_AS(ops::check_compact_output(plan, t.path(), true), ops::CompactRefused);
    fs::create_directories(t / "other");
    CHECK_THROWS_WITH_AS(ops::check_compact_output(plan, t / "other", false), doctest::Contains("--force"),
                         ops::CompactRefused);
    CHECK_THROWS_WITH_AS(ops::run_compact(plan, t / "other", run_options(true, false)),
                         doctest::Contains("not a snapshot directory"), ops::CompactRefused);
    CHECK(fs::is_empty(t / "other"));
  }
  SUBCASE("a file vanishing mid-run leaves no output and no work directory; a rerun succeeds") {
    ops::CompactPlan plan = ops::plan_compact(md, loc, {});
    const rocks::DbFile& victim = plan.subtasks[1].db.files.front();
    fs::path saved = t / "saved";
    fs::rename(victim.path, saved);
    CHECK_THROWS(ops::run_compact(plan, t / "out", run_options(false, false)));
    CHECK_FALSE(fs::exists(t / "out"));
    CHECK_FALSE(leftovers_beside(t / "out"));
    fs::rename(saved, victim.path);
    ops::run_compact(plan, t / "out", run_options(false, false));
    check_valid(t / "out");
    // --force replaces an earlier output.
    ops::run_compact(plan, t / "out", run_options(true, true));
    check_valid(t / "out");
  }
  SUBCASE("missing files are refused at planning, every one named") {
    auto dbs = rocks::db_files_of(md, loc.directory, {}, snapshot::read_scope(loc, {}, {}));
    fs::remove(dbs[0].files.front().path);
    fs::remove(dbs[1].files.back().path);
    try {
      ops::plan_compact(md, loc, {});
      FAIL("not refused");
    } catch (const ops::CompactRefused& e) {
      std::string what = e.what();
      CHECK(what.find("cannot compact") != std::string::npos);
      CHECK(what.find(dbs[0].files.front().path.string()) != std::string::npos);
      CHECK(what.find(dbs[1].files.back().path.string()) != std::string::npos);
    }
  }
}

TEST_SUITE("fixtures") {
  TEST_CASE("compact every fixture with RocksDB handles: valid, inspectable, the same entries") {
    auto snaps = testsupport::snapshots_with_rocks_handles(fixtures::root());
    REQUIRE(snaps.size() >= 30);
    TempDir t;
    int done = 0, subtasks = 0;
    for (const auto& loc : snaps) {
      CAPTURE(loc.metadata.string());
      auto before = testsupport::tree_fingerprint(loc.directory);
      flink::Metadata md = flink::read_metadata_file(loc.metadata);
      ops::CompactPlan plan = ops::plan_compact(md, loc, {});
      fs::path out = t / fmt::format("c{}", done);
      ops::CompactResult r = ops::run_compact(plan, out, run_options(false, true));  // copies: fixtures untouched
      subtasks += static_cast<int>(r.subtasks.size());
      check_valid(out);
      flink::Metadata after = flink::read_metadata_file(out / "_metadata");
      CHECK(after.operators.size() == md.operators.size());
      auto a = ops::inspect(md, loc, {});
      auto b = ops::inspect(after, snapshot::locate(out / "_metadata"), {});
      CHECK(a.summary().bytes().operator_() == b.summary().bytes().operator_());
      CHECK(rocks_contents(snapshot::locate(out / "_metadata"), t / "scratch") == rocks_contents(loc, t / "scratch"));
      CHECK(testsupport::tree_fingerprint(loc.directory) == before);
      fs::remove_all(out);
      ++done;
    }
    CHECK(subtasks >= 300);
    MESSAGE(done << " fixtures compacted (" << subtasks << " RocksDB subtasks), validated --deep and compared");
  }
}
