// ops/convert: relocation, version change, the §11.3 relative-handle rule, self-contained
// directories (on synthetic snapshots made with the writer and on every real fixture).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <set>

#include "codec/json.h"
#include "codec/proto_codec.h"
#include "fixtures.h"
#include "flink/builder.h"
#include "flink/checkpoint_properties.h"
#include "flink/handles.h"
#include "flink/key_groups.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "io/mutf8.h"
#include "ops/convert.h"
#include "ops/inspect.h"
#include "ops/published_output.h"
#include "ops/snapshot_input.h"
#include "ops/validate.h"
#include "snapshot/discovery.h"
#include "snapshot/file_refs.h"
#include "support/snapshot_on_disk.h"
#include "support/synthetic.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;
using testsupport::TempDir;

namespace {

std::vector<std::string> paths_of(const flink::Metadata& md) {
  std::vector<std::string> out;
  for (const auto& f : snapshot::file_refs(md, "/nowhere")) out.push_back(f.path);
  return out;
}

// A V4 checkpoint using file merging: a tag-17 operator handle and a key-groups handle whose
// delegates are segments of one physical file in taskowned/, plus an empty segment.
flink::Metadata file_merging_checkpoint(const fs::path& job_dir) {
  flink::Metadata md;
  md.version = 4;
  md.checkpoint_id = 7;
  flink::Builder b(md);
  std::string phys = "file:" + (job_dir / "taskowned/job_x_tm_y/3b2f0a9e-1c7d-4e55-9a0b-2d7c1f8e6a41").string();
  auto seg = [&](int64_t start, int64_t size) {
    flink::StreamHandle h;
    h.tag = flink::stream_tag::kSegment;
    h.name = b.str(phys);
    h.start = start;
    h.size = size;
    h.scope = 0;
    h.logical_id = b.str(fmt::format("logical-{}", start));
    return h;
  };
  flink::OperatorState op;
  op.id = flink::operator_id_from_uid("merging");
  op.parallelism = 2;
  op.max_parallelism = 128;
  for (int s = 0; s < 2; ++s) {
    flink::SubtaskState st;
    st.index = s;
    std::vector<int64_t> offs{0};
    st.managed_operator = b.operator_handle(
        {b.operator_state_entry("list", flink::DistributionMode::kSplitDistribute, offs)}, seg(1000 * s, 300));
    st.managed_operator.tag = flink::operator_tag::kFileMerging;
    st.managed_operator.task_owned_dir = b.str("file:" + (job_dir / "taskowned/job_x_tm_y").string());
    st.managed_operator.shared_dir = b.str("file:" + (job_dir / "shared/job_x_op_y_0_2").string());
    st.managed_operator_flag = 1;
    auto range = flink::range_of_subtask(128, 2, s);
    std::vector<int64_t> kg(static_cast<std::size_t>(range.count), 0);
    flink::StreamHandle delegate = seg(1000 * s + 400, 500);
    if (s == 1) {
      delegate = flink::StreamHandle{};
      delegate.tag = flink::stream_tag::kEmptySegment;
    }
    st.managed_keyed = b.key_groups(range, kg, delegate, fmt::format("kg-{}", s));
    op.subtasks.push_back(std::move(st));
  }
  md.operators.push_back(std::move(op));
  md.properties = flink::checkpoint_properties(flink::Retention::kRetainOnCancellation);
  md.trailer = md.intern(flink::encode_properties_trailer(md.properties));
  md.trailer_state = flink::TrailerState::kParsed;
  return md;
}

}  // namespace

TEST_CASE("relocate_path: prefixes, component boundaries, local forms, longest match") {
  std::vector<ops::Relocation> r{*ops::parse_relocation("s3://old/ckpt=s3://new/ckpt"),
                                 *ops::parse_relocation("s3://old/ckpt/job1=hdfs://nn/j1/"),
                                 *ops::parse_relocation("/mnt/a=/mnt/b")};
  CHECK(r[1].to == "hdfs://nn/j1");
  CHECK(ops::relocate_path("s3://old/ckpt/x/shared/y", r) == "s3://new/ckpt/x/shared/y");
  CHECK(ops::relocate_path("s3://old/ckpt/job1/shared/deep/er/f", r) == "hdfs://nn/j1/shared/deep/er/f");
  CHECK_FALSE(ops::relocate_path("s3://old/ckpt2/x", r));
  CHECK(ops::relocate_path("file:/mnt/a/j/shared/f", r) == "file:/mnt/b/j/shared/f");
  CHECK(ops::relocate_path("file:///mnt/a/f", r) == "file:///mnt/b/f");
  CHECK(ops::relocate_path("/mnt/a", r) == "/mnt/b");
  CHECK_FALSE(ops::relocate_path("/mnt/ab/f", r));
  CHECK_FALSE(ops::parse_relocation("nothing"));
  CHECK_FALSE(ops::parse_relocation("=x"));
}

TEST_CASE("relocate rewrites every absolute path, shared/ included, and nothing else") {
  flink::Metadata md = testsupport::synthetic_incremental(3, 4, 5, 3, "/mnt/flink/checkpoints");
  flink::Metadata orig = md;
  auto st = ops::relocate(md, {*ops::parse_relocation("/mnt/flink=s3://bucket/flink")});
  CHECK(st.handles == 3 * 4 * 8);
  CHECK(st.untouched == 0);
  for (const auto& p : paths_of(md)) {
    if (p.find("shared/") != std::string::npos) CHECK(p.starts_with("file:s3://") == false);
  }
  int s3 = 0;
  for (const auto& p : paths_of(md)) s3 += p.starts_with("s3://bucket/flink/checkpoints/") ? 1 : 0;
  CHECK(s3 == 3 * 4 * 8);
  // Relocating back gives the original bytes.
  ops::relocate(md, {*ops::parse_relocation("s3://bucket/flink=file:/mnt/flink")});
  CHECK(flink::write_metadata(md) == flink::write_metadata(orig));
}

TEST_CASE("anchor_relative keeps tag 6 only where the file is beside the output (FLINK-39964)") {
  flink::Metadata md = testsupport::synthetic_incremental(1, 2, 1, 1);
  flink::Metadata same = md;
  auto st = ops::anchor_relative(same, "/data/job/chk-1000", "/data/job/chk-1000", {});
  CHECK(st.made_absolute == 0);
  CHECK(st.kept_relative == 2);
  CHECK(flink::write_metadata(same) == flink::write_metadata(md));
  flink::Metadata moved = md;
  st = ops::anchor_relative(moved, "/data/job/chk-1000", "/elsewhere", {});
  CHECK(st.made_absolute == 2);
  for (const auto& f : snapshot::file_refs(moved, "/elsewhere")) {
    if (f.ref.role == flink::Role::kIncrementalMeta) {
      CHECK(f.form == snapshot::PathForm::kAbsolute);
      CHECK(f.resolved.local.string().starts_with("/data/job/chk-1000/"));
    }
  }
  flink::Metadata relocated = md;
  st = ops::anchor_relative(relocated, "/data/job/chk-1000", "/new/job/chk-1000",
                            {*ops::parse_relocation("/data=/new")});
  CHECK(st.kept_relative == 2);
}

TEST_CASE("change_version: lossless changes pass, losses are refused with the reason") {
  flink::Metadata md = testsupport::synthetic_incremental(2, 2, 1, 1);
  flink::Metadata v5 = md;
  CHECK_NOTHROW(ops::change_version(v5, 5, ops::PropertiesChoice::kFromDirectory, std::nullopt));
  CHECK(v5.version == 5);
  flink::Metadata back = v5;
  ops::change_version(back, 4, ops::PropertiesChoice::kFromDirectory, std::nullopt);
  CHECK(flink::write_metadata(back) == flink::write_metadata(md));

  v5.operators[1].uid = v5.intern("my-uid");
  try {
    ops::change_version(v5, 4, ops::PropertiesChoice::kFromDirectory, std::nullopt);
    FAIL("expected a refusal");
  } catch (const ops::ConvertError& e) {
    CHECK(std::string(e.what()).find("uid my-uid") != std::string::npos);
    CHECK(std::string(e.what()).find("version 5+") != std::string::npos);
  }
  flink::Metadata v3 = md;
  CHECK_THROWS_AS(ops::change_version(v3, 3, ops::PropertiesChoice::kFromDirectory, std::nullopt), ops::ConvertError);
  CHECK_THROWS_AS(ops::change_version(v3, 9, ops::PropertiesChoice::kFromDirectory, std::nullopt), ops::ConvertError);
}

TEST_CASE("change_version: V3 to V4 synthesizes the trailer from the directory, or refuses") {
  flink::Metadata md = testsupport::synthetic_incremental(1, 1, 1, 1);
  md.version = 3;
  md.trailer = {};
  md.trailer_state = flink::TrailerState::kAbsent;
  flink::Metadata a = md;
  CHECK_THROWS_AS(ops::change_version(a, 4, ops::PropertiesChoice::kFromDirectory, snapshot::DirKind::kOther),
                  ops::ConvertError);
  auto vc = ops::change_version(a, 4, ops::PropertiesChoice::kFromDirectory, snapshot::DirKind::kCheckpoint);
  CHECK(a.properties.kind == flink::CheckpointProperties::Kind::kCheckpoint);
  REQUIRE(vc.notes.size() == 1);
  CHECK(vc.notes[0].find("synthesized") != std::string::npos);
  flink::Metadata s = md;
  ops::change_version(s, 4, ops::PropertiesChoice::kFromDirectory, snapshot::DirKind::kSavepoint);
  CHECK(s.properties.kind == flink::CheckpointProperties::Kind::kSavepoint);
  CHECK(s.properties.format == flink::CheckpointProperties::Format::kNative);  // tag 11 handles
  flink::Metadata parsed = flink::parse_metadata(flink::write_metadata(s), "s");
  CHECK(parsed.trailer_state == flink::TrailerState::kParsed);
}

TEST_CASE("self-contained: incremental checkpoint with nested shared/ files becomes a movable savepoint") {
  TempDir t;
  fs::path job = t / "ckpts/7a3f8e2d9c1b4a5f6e7d8c9b0a1f2e3d";
  flink::Metadata md = testsupport::synthetic_incremental(2, 2, 3, 3, (t / "ckpts").string());
  // Make the shared files small and nest one level deeper, as file-merging / custom layouts do.
  ops::relocate(
      md, {*ops::parse_relocation("file:" + (job / "shared").string() + "=file:" + (job / "shared/sub/dir").string())});
  flink::visit_streams(
      md, [](const flink::StreamRef& r) { const_cast<flink::StreamHandle&>(*r.handle).size = 1000 + r.subtask_index; });
  fs::path chk = job / "chk-1000";
  testsupport::write_snapshot_on_disk(md, chk);
  snapshot::Location loc = snapshot::locate(chk / "_metadata");

  ops::SelfContainedPlan plan = ops::plan_self_contained(md, loc, {});
  CHECK(plan.files.size() == 2 * 2 * 7);
  CHECK(plan.absolute_before == 2 * 2 * 6);
  CHECK(plan.md.properties.kind == flink::CheckpointProperties::Kind::kSavepoint);
  CHECK(plan.md.properties.format == flink::CheckpointProperties::Format::kNative);

  // Refusals: inside the input, existing output.
  CHECK_THROWS_AS(ops::write_self_contained(plan, chk / "out", false, false), io::IoError);
  CHECK_THROWS_AS(ops::write_self_contained(plan, job, false, false), io::IoError);
  fs::create_directories(t / "exists");
  CHECK_THROWS_AS(ops::write_self_contained(plan, t / "exists", false, false), io::IoError);
  CHECK_THROWS_AS(ops::write_self_contained(plan, t / "exists", true, false), io::IoError);  // not a snapshot

  auto ws = ops::write_self_contained(plan, t / "sp", false, false);
  CHECK(ws.linked == 28);
  CHECK(ops::check_self_contained(t / "sp").empty());
  fs::rename(t / "sp", t / "moved");
  CHECK(ops::check_self_contained(t / "moved").empty());

  // Local names kept, every handle relative, same sizes per operator.
  flink::Metadata out = flink::read_metadata_file(t / "moved/_metadata");
  std::set<std::string> locals_in, locals_out;
  for (const auto& f : snapshot::file_refs(md, chk)) locals_in.insert(io::mutf8_to_utf8(f.ref.local_path));
  for (const auto& f : snapshot::file_refs(out, t / "moved")) {
    CHECK(f.form == snapshot::PathForm::kRelative);
    locals_out.insert(io::mutf8_to_utf8(f.ref.local_path));
  }
  CHECK(locals_in == locals_out);
  auto a = ops::inspect(md, loc, {}), b = ops::inspect(out, snapshot::locate(t / "moved/_metadata"), {});
  CHECK(a.summary().bytes().total() == b.summary().bytes().total());

  // --force replaces a previous output atomically; copies when asked.
  auto ws2 = ops::write_self_contained(plan, t / "moved", true, true);
  CHECK(ws2.copied == 28);
  CHECK(ops::check_self_contained(t / "moved").empty());
  // The input is untouched.
  CHECK(io::read_file_bytes(chk / "_metadata") == flink::write_metadata(md));
}

TEST_CASE("self-contained: file-merging segments are cut into their own files") {
  TempDir t;
  fs::path job = t / "job";
  flink::Metadata md = file_merging_checkpoint(job);
  fs::path chk = job / "chk-7";
  testsupport::write_snapshot_on_disk(md, chk);
  std::string phys = io::read_file_bytes(job / "taskowned/job_x_tm_y/3b2f0a9e-1c7d-4e55-9a0b-2d7c1f8e6a41");
  snapshot::Location loc = snapshot::locate(chk / "_metadata");
  ops::SelfContainedPlan plan = ops::plan_self_contained(md, loc, {});
  CHECK(plan.segments_before == 3);
  CHECK(plan.files.size() == 3);
  auto ws = ops::write_self_contained(plan, t / "out", false, false);
  CHECK(ws.cut == 3);
  flink::Metadata out = flink::read_metadata_file(t / "out/_metadata");
  const auto& s0 = out.operators[0].subtasks[0];
  CHECK(s0.managed_operator.tag == flink::operator_tag::kStream);
  CHECK(s0.managed_operator.delegate.tag == flink::stream_tag::kRelativeFile);
  CHECK(io::read_file_bytes(t / "out" / std::string(io::mutf8_to_utf8(s0.managed_operator.delegate.name))) ==
        phys.substr(0, 300));
  const auto& kg = std::get<flink::KeyGroupsHandle>(out.operators[0].subtasks[0].managed_keyed.body);
  CHECK(io::read_file_bytes(t / "out" / io::mutf8_to_utf8(kg.delegate.name)) == phys.substr(400, 500));
  const auto& kg1 = std::get<flink::KeyGroupsHandle>(out.operators[0].subtasks[1].managed_keyed.body);
  CHECK(kg1.delegate.tag == flink::stream_tag::kByteStream);
  CHECK(ops::check_self_contained(t / "out").empty());
}

TEST_CASE("self-contained: missing, resized and remote files are refused with every reason") {
  TempDir t;
  flink::Metadata md = testsupport::synthetic_incremental(1, 1, 2, 0, (t / "c").string());
  flink::visit_streams(md, [](const flink::StreamRef& r) { const_cast<flink::StreamHandle&>(*r.handle).size = 10; });
  fs::path chk = t / "c/7a3f8e2d9c1b4a5f6e7d8c9b0a1f2e3d/chk-1000";
  testsupport::write_snapshot_on_disk(md, chk);
  auto refs = snapshot::file_refs(md, chk);
  fs::remove(refs[1].resolved.local);
  fs::resize_file(refs[2].resolved.local, 3);
  try {
    ops::plan_self_contained(md, snapshot::locate(chk / "_metadata"), {});
    FAIL("expected a refusal");
  } catch (const ops::ConvertError& e) {
    std::string w = e.what();
    CHECK(w.find("No such file") != std::string::npos);
    CHECK(w.find("has 3 bytes, the handle records 10") != std::string::npos);
  }
  flink::Metadata remote = md;
  ops::relocate(remote, {*ops::parse_relocation("file:" + t.path().string() + "=s3://b")});
  CHECK_THROWS_WITH_AS(ops::plan_self_contained(remote, snapshot::locate(chk / "_metadata"), {}),
                       doctest::Contains("--map"), ops::ConvertError);
}

TEST_SUITE("fixtures") {
  TEST_CASE("flink -> json -> flink is byte-identical on every fixture (through the convert input path)") {
    snapshot::Discovery d = snapshot::discover(fixtures::root());
    REQUIRE(d.snapshots.size() > 290);
    TempDir t;
    int n = 0;
    for (const auto& loc : d.snapshots) {
      CAPTURE(loc.metadata.string());
      std::string orig = io::read_file_bytes(loc.metadata);
      ops::SnapshotInput in;
      try {
        in = ops::load_snapshot_input(loc.metadata);
      } catch (const ops::InputError& e) {
        CHECK(std::string(e.what()).find("format version 0") != std::string::npos);  // Flink 1.1
        continue;
      }
      ckpt::Metadata pb;
      codec::to_proto(in.md, pb);
      io::write_file_atomically(t / "x.json", json::to_json(pb, n % 2 == 0));
      ops::SnapshotInput back = ops::load_snapshot_input(t / "x.json");
      CHECK(back.form == ops::InputForm::kJson);
      CHECK(flink::write_metadata(back.md) == orig);
      ++n;
    }
    CHECK(n > 290);
  }

  TEST_CASE("self-contained on every fixture: passes the check, and again after moving") {
    snapshot::Discovery d = snapshot::discover(fixtures::root());
    TempDir t;
    int done = 0, refused = 0, validated = 0;
    for (const auto& loc : d.snapshots) {
      CAPTURE(loc.metadata.string());
      flink::Metadata md;
      try {
        md = flink::read_metadata_file(loc.metadata);
      } catch (const flink::MetadataError&) {
        continue;
      }
      ops::SelfContainedPlan plan;
      try {
        plan = ops::plan_self_contained(md, loc, {});
      } catch (const ops::ConvertError& e) {
        // Only snapshots whose files are absent (absolute paths of the machine that wrote them).
        CHECK(std::string(e.what()).find("No such file") != std::string::npos);
        ++refused;
        continue;
      } catch (const io::OutsideScopeError& e) {
        // Absolute paths of the machine that wrote them lie outside the fixture's root too: the
        // confinement refuses them before looking (snapshot/read_scope.h).
        CHECK(std::string(e.what()).find("resolves outside the snapshot's root") != std::string::npos);
        ++refused;
        continue;
      }
      fs::path out = t / fmt::format("sp{}", done);
      ops::write_self_contained(plan, out, false, /*copy=*/true);  // copies: fixtures stay untouched
      CHECK(ops::check_self_contained(out).empty());
      fs::rename(out, t / "moved");
      CHECK(ops::check_self_contained(t / "moved").empty());
      flink::Metadata again = flink::read_metadata_file(t / "moved/_metadata");
      CHECK(again.operators.size() == md.operators.size());
      auto a = ops::inspect(md, loc, {}), b = ops::inspect(again, snapshot::locate(t / "moved/_metadata"), {});
      CHECK(a.summary().bytes().total() == b.summary().bytes().total());
      if (md.version >= 4) CHECK(again.properties.kind == flink::CheckpointProperties::Kind::kSavepoint);
      // ckpt validate passes on the moved output whenever it passes on the input.
      auto vin = ops::validate_metadata(md, loc, {});
      auto vout = ops::validate_snapshot(snapshot::locate(t / "moved/_metadata"), {});
      if (vin.status == ops::SnapshotValidation::Status::kValid) {
        for (const auto& f : vout.findings) CAPTURE(f.message);
        CHECK(vout.status == ops::SnapshotValidation::Status::kValid);
        ++validated;
      }
      fs::remove_all(t / "moved");
      ++done;
    }
    CHECK(done > 250);
    CHECK(validated > 250);
    MESSAGE(done << " fixtures made self-contained (" << validated << " validated), " << refused
                 << " refused (files absent)");
  }
}

TEST_CASE("published output: only a self-contained _metadata is uploaded, and errors name the URI") {
  TempDir t;
  flink::Metadata md = testsupport::synthetic_incremental(1, 2, 2, 2, (t / "ckpts").string());
  // Absolute handles (into t/ckpts): once uploaded they would name this host's files.
  {
    ops::PublishedOutput out((t / "target").string(), {}, false);
    const fs::path local = out.local_dir();
    testsupport::write_snapshot_on_disk(md, local);
    try {
      out.publish();
      FAIL("a _metadata with absolute handles was published");
    } catch (const util::Error& e) {
      CHECK(e.kind() == util::ErrorKind::kRefused);
      std::string what = e.what();
      CHECK(what.starts_with((t / "target").string() + ": not published: its _metadata is not self-contained ("));
      CHECK(what.find(local.string()) == std::string::npos);
    }
    CHECK(!fs::exists(t / "target/_metadata"));
    CHECK(out.name_uri("at " + (local / "x").string() + ", " + local.string()) ==
          "at " + (t / "target/x").string() + ", " + (t / "target").string());
  }
  // The same snapshot made self-contained: uploaded, `_metadata` with it.
  fs::path chk = t / "ckpts/chk-3";
  testsupport::write_snapshot_on_disk(md, chk);
  ops::SelfContainedPlan plan = ops::plan_self_contained(md, snapshot::locate(chk / "_metadata"), {});
  ops::PublishedOutput out((t / "target").string(), {}, false);
  ops::write_self_contained(plan, out.local_dir(), false, false);
  CHECK(out.publish() == plan.files.size() + 1);
  CHECK(ops::check_self_contained(t / "target").empty());
  // A prefix that holds objects is refused.
  CHECK_THROWS_AS(ops::PublishedOutput((t / "target").string(), {}, false), util::Error);
}
