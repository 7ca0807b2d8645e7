// ops::diff on synthetic snapshot pairs (made with the writer) and on real fixtures.
#include <doctest/doctest.h>

#include "fixtures.h"
#include "flink/builder.h"
#include "flink/metadata_reader.h"
#include "flink/operator_id.h"
#include "ops/diff.h"
#include "ops/snapshot_input.h"
#include "snapshot/discovery.h"
#include "support/synthetic.h"

using namespace ckpt;

TEST_CASE("diff of a snapshot with itself is equal") {
  auto a = testsupport::input_named(testsupport::synthetic_incremental(2, 2, 3, 2), "chk-1");
  auto r = ops::diff(a, a);
  CHECK(r.equal());
  CHECK(r.files().shared_count() == 2 * 2 * 6);
  CHECK(r.files().added_count() == 0);
}

TEST_CASE("diff reports operators, rescaling, sizes, files and sst changes") {
  flink::Metadata ma = testsupport::synthetic_incremental(2, 2, 3, 2);
  flink::Metadata mb = ma;
  mb.checkpoint_id = 1001;
  flink::Builder b(mb);
  // Subtask 0 of operator 0: one .sst replaced by a new upload (compaction).
  auto& inc = std::get<flink::IncrementalHandle>(mb.operators[0].subtasks[0].managed_keyed.body);
  inc.shared[1] = b.named("000099.sst", b.file("file:/mnt/flink/checkpoints/job/shared/new-sst-upload", 1234));
  // Operator 1 rescaled from max 128 to 256 (only the numbers: enough for the report).
  mb.operators[1].max_parallelism = 256;
  // A new operator.
  flink::OperatorState extra;
  extra.id = flink::operator_id_from_uid("new-op");
  extra.parallelism = 1;
  extra.max_parallelism = 128;
  mb.operators.push_back(extra);

  auto r = ops::diff(testsupport::input_named(ma, "a"), testsupport::input_named(mb, "b"));
  CHECK_FALSE(r.equal());
  REQUIRE(r.properties_size() == 1);
  CHECK(r.properties(0).field() == "checkpoint id");
  int added = 0, changed = 0, rescaled = 0;
  for (const auto& o : r.operators()) {
    added += o.change() == ckpt::OperatorDiff::ADDED;
    changed += o.change() == ckpt::OperatorDiff::CHANGED;
    rescaled += o.change() == ckpt::OperatorDiff::CHANGED && o.rescaled();
  }
  CHECK(added == 1);
  CHECK(changed == 2);  // op 0 (sizes), op 1 (rescaled)
  CHECK(rescaled == 1);
  CHECK(r.files().added_count() == 1);
  CHECK(r.files().dropped_count() == 1);
  CHECK(r.files().added_bytes() == 1234);
  REQUIRE(r.sst_size() == 1);
  CHECK(r.sst(0).subtask() == 0);
  REQUIRE(r.sst(0).added_size() == 1);
  CHECK(r.sst(0).added(0).local_name() == "000099.sst");
  REQUIRE(r.sst(0).removed_size() == 1);
  CHECK(r.sst(0).removed(0).local_name() == "000011.sst");
  CHECK(r.sst(0).kept() == 2);
  const auto& op0 = r.operators(0);
  REQUIRE(op0.subtasks_size() == 1);
  CHECK(op0.subtasks(0).index() == 0);
  CHECK(op0.subtasks(0).bytes_b().keyed() - op0.subtasks(0).bytes_a().keyed() == 1234 - (64 * 1024 * 1024 + 1));
}

TEST_CASE("diff sees differences no summary shows") {
  flink::Metadata ma = testsupport::synthetic_incremental(1, 1, 1, 1);
  flink::Metadata mb = ma;
  auto& inc = std::get<flink::IncrementalHandle>(mb.operators[0].subtasks[0].managed_keyed.body);
  inc.backend_id = mb.intern("another-backend");
  auto r = ops::diff(testsupport::input_named(ma, "a"), testsupport::input_named(mb, "b"));
  CHECK(r.other());
  CHECK_FALSE(r.equal());
}

TEST_SUITE("fixtures") {
  TEST_CASE("diff on fixtures: each equals itself; a hashmap and a rocksdb checkpoint differ") {
    snapshot::Discovery d = snapshot::discover(fixtures::root());
    REQUIRE(d.snapshots.size() > 290);
    int n = 0;
    for (const auto& loc : d.snapshots) {
      ops::SnapshotInput in;
      try {
        in = ops::load_snapshot_input(loc.metadata);
      } catch (const ops::InputError&) {
        continue;
      }
      CAPTURE(loc.metadata.string());
      CHECK(ops::diff(in, in).equal());
      ++n;
    }
    CHECK(n > 290);
    auto a =
        ops::load_snapshot_input(fixtures::root() / "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint");
    auto b =
        ops::load_snapshot_input(fixtures::root() / "new-stateful-udf-migration-itcase-flink1.20-hashmap-checkpoint");
    auto r = ops::diff(a, b);
    CHECK_FALSE(r.equal());
    CHECK(r.files().dropped_count() > 0);
    CHECK_FALSE(r.sst().empty());
  }
}
