// ckpt validate (lib/ops/validate.h, lib/validate/*, lib/rocks/*): every intact fixture is
// valid, the RocksDB fixtures pass --deep, and every rule of the catalogue has a test that makes
// it fire (checked at the end: "every rule fired").
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "fixtures.h"
#include "flink/builder.h"
#include "flink/key_groups.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/file_bytes.h"
#include "ops/validate.h"
#include "rocks/misc_files.h"
#include "rocks/sst_writer.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"
#include "support/temp_dir.h"
#include "validate/expect.h"
#include "validate/metadata_rules.h"
#include "validate/rules.h"

using namespace ckpt;
namespace fs = std::filesystem;
using testsupport::TempDir;
using validate::Severity;

namespace {

// Rules seen firing in this test binary, for the "every rule fired" check.
std::set<std::string>& fired() {
  static std::set<std::string> s;
  return s;
}

bool has(const ops::SnapshotValidation& v, std::string_view rule, std::optional<Severity> sev = std::nullopt) {
  bool found = false;
  for (const auto& f : v.findings) {
    if (f.rule == rule && (!sev || f.severity == *sev)) found = true;
  }
  if (found) fired().insert(std::string(rule));
  return found;
}

std::string dump(const ops::SnapshotValidation& v) {
  std::string s;
  for (const auto& f : v.findings) {
    s += fmt::format("{} {} {} {}\n", validate::severity_name(f.severity), f.rule, f.where, f.message);
  }
  return s;
}

fs::path fixture(std::string_view name) { return fixtures::root() / std::string(name); }

snapshot::Location loc_of(const fs::path& dir) { return snapshot::locate(dir / "_metadata"); }

flink::Metadata read(const fs::path& dir) { return flink::read_metadata_file(dir / "_metadata"); }

// A writable copy of a fixture directory.
fs::path copy_fixture(const TempDir& t, std::string_view name, std::string_view as = "") {
  fs::path dst = t.path() / std::string(as.empty() ? name : as);
  fs::create_directories(dst.parent_path());
  fs::copy(fixture(name), dst, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(dst)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  fs::permissions(dst, fs::perms::owner_write, fs::perm_options::add);
  return dst;
}

ops::SnapshotValidation validate_dir(const fs::path& dir, const ops::ValidateOptions& o = {}) {
  return ops::validate_snapshot(loc_of(dir), o);
}

ops::SnapshotValidation validate_bytes(std::string bytes, const fs::path& dir = "/nonexistent/snap") {
  return ops::validate_bytes(std::move(bytes), loc_of(dir), {});
}

std::string metadata_bytes(std::string_view name) { return io::read_file_bytes(fixture(name) / "_metadata"); }

// Fixtures used below.
constexpr std::string_view kHeap16 = "type-serializer-snapshot-migration-itcase-flink1.16-hashmap-checkpoint";
constexpr std::string_view kRocks20 = "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint";
constexpr std::string_view kV5 = "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint";

flink::KeyGroupsHandle* first_key_groups(flink::Metadata& md, int* op_index = nullptr) {
  for (std::size_t i = 0; i < md.operators.size(); ++i) {
    for (auto& s : md.operators[i].subtasks) {
      if (auto* kg = std::get_if<flink::KeyGroupsHandle>(&s.managed_keyed.body)) {
        if (op_index) *op_index = static_cast<int>(i);
        return kg;
      }
    }
  }
  return nullptr;
}

flink::IncrementalHandle* first_incremental(flink::Metadata& md, int* op_index = nullptr) {
  for (std::size_t i = 0; i < md.operators.size(); ++i) {
    for (auto& s : md.operators[i].subtasks) {
      if (auto* inc = std::get_if<flink::IncrementalHandle>(&s.managed_keyed.body)) {
        if (op_index) *op_index = static_cast<int>(i);
        return inc;
      }
    }
  }
  return nullptr;
}

flink::OperatorHandle* first_operator_state(flink::Metadata& md) {
  for (auto& op : md.operators) {
    for (auto& s : op.subtasks) {
      if (!s.managed_operator.is_null() && !s.managed_operator.states.empty()) return &s.managed_operator;
    }
  }
  return nullptr;
}

bool skip_without_fixtures() {
  if (!fixtures::available()) {
    MESSAGE("fixtures not found: skipped");
    doctest::skip();
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("is_within: lexical containment, including the current directory \".\"") {
  using snapshot::is_within;
  CHECK(is_within("chk-1/a", "chk-1"));
  CHECK(is_within("chk-1/./a", "chk-1/"));
  CHECK_FALSE(is_within("chk-1/../a", "chk-1"));
  CHECK_FALSE(is_within("chk-10/a", "chk-1"));
  CHECK(is_within("a", "."));  // `ckpt validate .`: children normalise to bare names
  CHECK(is_within("./x/a", "./"));
  CHECK_FALSE(is_within("../a", "."));
  CHECK_FALSE(is_within("/abs/a", "."));
  CHECK(is_within("/r/j/chk-1/a", "/r/j/chk-1"));
  CHECK_FALSE(is_within("/r/j/shared/a", "/r/j/chk-1"));
}

TEST_SUITE("fixtures") {
  TEST_CASE("validate: every intact fixture is valid; the ones naming another machine's files miss them") {
    if (skip_without_fixtures()) return;
    int n = 0, missing_cases = 0;
    for (const auto& md : fixtures::all_metadata()) {
      ops::SnapshotValidation v = ops::validate_snapshot(snapshot::locate(md), {});
      CAPTURE(md);
      ++n;
      std::string name = md.parent_path().string();
      bool foreign = name.find("real-job-") != std::string::npos || name.find("bravo-") != std::string::npos;
      if (!foreign) {
        INFO(dump(v));
        CHECK(v.status == ops::SnapshotValidation::Status::kValid);
        continue;
      }
      // Absolute file: paths of the machine that wrote them: "missing file" cases (F24).
      for (const auto& f : v.findings) {
        if (f.severity == Severity::kError) CHECK_MESSAGE(f.rule == "F24", dump(v));
      }
      if (has(v, "F24", Severity::kError)) ++missing_cases;
    }
    CHECK(n > 280);
    CHECK(missing_cases >= 1);
  }

  TEST_CASE("validate --deep: RocksDB checkpoints and native savepoints pass, SSTs are really read") {
    if (skip_without_fixtures()) return;
    int rocks = 0;
    for (const auto& e : fs::directory_iterator(fixtures::root())) {
      std::string name = e.path().filename().string();
      if (name.find("rocksdb-checkpoint") == std::string::npos &&
          name.find("rocksdb-savepoint-native") == std::string::npos)
        continue;
      if (!fs::exists(e.path() / "_metadata")) continue;
      ops::ValidateOptions o;
      o.files.deep = true;
      ops::SnapshotValidation v = validate_dir(e.path(), o);
      CAPTURE(name);
      INFO(dump(v));
      CHECK(v.status == ops::SnapshotValidation::Status::kValid);
      CHECK(v.files.bytes_read > 0);
      ++rocks;
    }
    CHECK(rocks >= 20);
  }

  TEST_CASE("validate: structural rules S01-S09 from reader errors") {
    if (skip_without_fixtures()) return;
    const std::string good = metadata_bytes(kHeap16);  // spec §20 worked example
    auto with = [&](std::size_t at, std::string_view b) {
      std::string s = good;
      s.replace(at, b.size(), b);
      return validate_bytes(s);
    };
    CHECK(has(with(0, "\x12\x34"), "S01"));
    CHECK(has(with(4, std::string("\x00\x00\x00\x09", 4)), "S01"));
    CHECK(has(with(8, "\xFF"), "S02"));
    CHECK(has(with(0x10, std::string("\x00\x00\x00\x01", 4)), "S03"));
    auto cut = validate_bytes(good.substr(0, 0x60));
    CHECK_MESSAGE(has(cut, "S04"), dump(cut));
    CHECK(has(with(0x30, "\x05"), "S05"));
    CHECK(has(with(0xE8, "\x07"), "S06"));
    CHECK(has(with(0xDC, "\xFF"), "S07"));
    auto trailer = with(good.find(std::string_view("\xAC\xED\x00\x05", 4)), "\x01");
    CHECK_MESSAGE(has(trailer, "S08"), dump(trailer));
    // Bytes after the trailer: Flink ignores them, so only a warning (S12), not S08.
    auto trailing = validate_bytes(good + std::string(8, '\0'));
    CHECK_MESSAGE(has(trailing, "S12", Severity::kWarning), dump(trailing));
    CHECK(!has(trailing, "S08"));
    // S09: a fully finished operator with coordinator state (written by the writer, refused by the reader).
    flink::Metadata md = read(fixture(kHeap16));
    flink::Builder b(md);
    md.operators[0].finished_marker = -1;
    md.operators[0].subtasks.clear();
    md.operators[0].coordinator = b.inline_bytes(flink::to_hex(md.operators[0].id), "x");
    CHECK(has(validate_bytes(flink::write_metadata(md)), "S09"));
    CHECK(validate::structural_rule_of("x: byte 3: truncated: i32 needs 4 bytes, only 1 remain") == "S04");
  }

  TEST_CASE("validate: model rules S06, S10, S11, K12-K22") {
    if (skip_without_fixtures()) return;
    const fs::path heap = fixture(kHeap16);
    auto check = [](const flink::Metadata& md, const snapshot::Location& loc) {
      return ops::validate_metadata(md, loc, {});
    };
    {  // The intact file has no findings at all.
      auto v = check(read(heap), loc_of(heap));
      CHECK_MESSAGE(v.findings.empty(), dump(v));
    }
    {  // S06: broadcast state with two offsets.
      flink::Metadata md = read(heap);
      auto* oh = first_operator_state(md);
      REQUIRE(oh);
      oh->states[0].mode = static_cast<int8_t>(flink::DistributionMode::kBroadcast);
      CHECK(has(check(md, loc_of(heap)), "S06"));
    }
    {  // S10: segment scope; S11: negative size other than -1.
      flink::Metadata md = read(heap);
      auto* kg = first_key_groups(md);
      REQUIRE(kg);
      kg->delegate.tag = flink::stream_tag::kSegment;
      kg->delegate.scope = 3;
      CHECK(has(check(md, loc_of(heap)), "S10"));
      flink::Metadata md2 = read(heap);
      first_key_groups(md2)->delegate.size = -7;
      CHECK(has(check(md2, loc_of(heap)), "S11"));
    }
    {  // K12, K13.
      flink::Metadata md = read(heap);
      md.operators[0].max_parallelism = 40000;
      CHECK(has(check(md, loc_of(heap)), "K12"));
      flink::Metadata md2 = read(heap);
      md2.operators[0].subtasks.push_back(md2.operators[0].subtasks[0]);
      CHECK(has(check(md2, loc_of(heap)), "K13"));
    }
    {  // K14: a range outside [0, maxP), a range that differs from rangeOfSubtask, a gap.
      flink::Metadata md = read(heap);
      int opi = 0;
      auto* kg = first_key_groups(md, &opi);
      REQUIRE(kg);
      kg->range.start = 5;  // maxP 1: key group 5 does not exist
      CHECK(has(check(md, loc_of(heap)), "K14", Severity::kError));
    }
    {  // K14 on a RocksDB checkpoint: widen one subtask's range -> warning + overlap error.
      flink::Metadata md = read(fixture(kRocks20));
      int opi = 0;
      auto* inc = first_incremental(md, &opi);
      REQUIRE(inc);
      auto& op = md.operators[static_cast<std::size_t>(opi)];
      op.max_parallelism = 2 * op.parallelism;
      for (auto& st : op.subtasks) {
        if (auto* h = std::get_if<flink::IncrementalHandle>(&st.managed_keyed.body)) {
          h->range = flink::range_of_subtask(op.max_parallelism, op.parallelism, st.index);
        }
      }
      CHECK_MESSAGE(check(md, loc_of(fixture(kRocks20))).errors == 0, dump(check(md, loc_of(fixture(kRocks20)))));
      inc->range.count = 3;  // [0, 2] overlaps the next subtask's [2, 3]
      auto v = check(md, loc_of(fixture(kRocks20)));
      CHECK(has(v, "K14", Severity::kWarning));
      CHECK(has(v, "K14", Severity::kError));
    }
    {  // K15: changelog composite whose nested handle lies outside its range.
      flink::Metadata md = read(heap);
      auto& sub = md.operators[0].subtasks[0];
      REQUIRE(std::holds_alternative<flink::KeyGroupsHandle>(sub.managed_keyed.body));
      flink::ChangelogHandle cl;
      cl.range = {0, 0};
      cl.materialized.push_back(sub.managed_keyed);
      cl.handle_id = md.intern("id");
      sub.managed_keyed.tag = flink::keyed_tag::kChangelogV2;
      sub.managed_keyed.body = std::move(cl);
      CHECK(has(check(md, loc_of(heap)), "K15"));
    }
    {  // K16: a key-group offset beyond its stream.
      flink::Metadata md = read(heap);
      flink::Builder b(md);
      auto* kg = first_key_groups(md);
      std::vector<int64_t> offs(static_cast<std::size_t>(kg->range.count), kg->delegate.size + 10);
      kg->offsets = b.offsets(offs);
      CHECK(has(check(md, loc_of(heap)), "K16"));
    }
    {  // K17: an operator-state offset beyond its stream.
      flink::Metadata md = read(heap);
      flink::Builder b(md);
      auto* oh = first_operator_state(md);
      std::vector<int64_t> offs{1, oh->delegate.size + 1};
      oh->states[0].offsets = b.offsets(offs);
      CHECK(has(check(md, loc_of(heap)), "K17"));
    }
    {  // K18: channel state whose offset leaves no room for a record header.
      flink::Metadata md = read(heap);
      flink::Builder b(md);
      flink::ChannelHandle c;
      c.type = flink::channel_type::kInput;
      c.subtask_index = -1;
      c.delegate = b.inline_bytes("chan", std::string(8, '\0'));
      flink::ChannelInfo ci;
      std::vector<int64_t> offs{6};
      ci.offsets = b.offsets(offs);
      ci.state_size = 4;
      c.channels.push_back(ci);
      md.operators[0].subtasks[0].input_channels.push_back(c);
      auto v = check(md, loc_of(heap));
      CHECK(has(v, "K18"));
    }
    {  // K19: RocksDB handle from a future checkpoint, duplicate file names, non-UUID backend.
      flink::Metadata md = read(fixture(kRocks20));
      auto* inc = first_incremental(md);
      inc->checkpoint_id = md.checkpoint_id + 5;
      inc->backend_id = md.intern("not-a-uuid");
      REQUIRE(inc->private_files.size() >= 2);
      inc->private_files[1].local_path = inc->private_files[0].local_path;
      auto v = check(md, loc_of(fixture(kRocks20)));
      CHECK(has(v, "K19", Severity::kError));
      CHECK(has(v, "K19", Severity::kWarning));
    }
    {  // K20: a uid whose hash is not the id; K21: coordinator named wrongly.
      flink::Metadata md = read(fixture(kV5));
      flink::Builder b(md);
      md.operators[0].uid = md.intern("renamed-uid");
      md.operators[0].coordinator = b.inline_bytes("wrong-name", "x");
      auto v = check(md, loc_of(fixture(kV5)));
      CHECK(has(v, "K20"));
      CHECK(has(v, "K21"));
    }
    {  // K22: a checkpoint in a savepoint directory; a chk-N whose N is not the id.
      flink::Metadata md = read(heap);
      snapshot::Location loc = loc_of(heap);
      loc.dir_kind = snapshot::DirKind::kSavepoint;
      CHECK(has(check(md, loc), "K22"));
      loc.dir_kind = snapshot::DirKind::kCheckpoint;
      loc.checkpoint_number = md.checkpoint_id + 1;
      CHECK(has(check(md, loc), "K22"));
    }
  }

  TEST_CASE("validate: file rules F23-F32") {
    if (skip_without_fixtures()) return;
    TempDir t;
    {  // F23: a deleted and a truncated relative file; F26: a leftover file.
      fs::path d = copy_fixture(t, kHeap16, "a/chk-2");
      CHECK(validate_dir(d).status == ops::SnapshotValidation::Status::kValid);
      fs::remove(d / "bb49315e-93ba-4924-9743-236feee8a484");
      fs::resize_file(d / "e2869ed3-6898-4be1-8c6b-8ae7c33721a0", 10);
      std::ofstream(d / "leftover") << "x";
      auto v = validate_dir(d);
      CHECK(has(v, "F23"));
      CHECK(has(v, "F26"));
      int f23 = 0;
      for (const auto& f : v.findings) f23 += f.rule == "F23";
      CHECK(f23 == 2);
    }
    {  // F24: absolute files, present with the wrong size, or absent.
      flink::Metadata md = read(fixture(kHeap16));
      flink::Builder b(md);
      fs::path d = copy_fixture(t, kHeap16, "b/chk-2");
      auto* kg = first_key_groups(md);
      kg->delegate = b.file("file:" + (d / "bb49315e-93ba-4924-9743-236feee8a484").string(), 3);
      CHECK(has(ops::validate_metadata(md, loc_of(d), {}), "F24"));

      // The same file in another job's shared/ with the right size: valid, with a note that this
      // checkpoint depends on a directory outside its own job directory.
      fs::path foreign = t.path() / "other-job" / "shared" / "state";
      fs::create_directories(foreign.parent_path());
      fs::copy_file(d / "bb49315e-93ba-4924-9743-236feee8a484", foreign);
      kg->delegate = b.file("file:" + foreign.string(), static_cast<int64_t>(fs::file_size(foreign)));
      auto v = ops::validate_metadata(md, loc_of(d), {});
      CHECK(v.status == ops::SnapshotValidation::Status::kValid);
      CHECK(has(v, "F24", Severity::kInfo));
      // Inside its own job directory: no note.
      fs::path own = d.parent_path() / "shared" / "state";
      fs::create_directories(own.parent_path());
      fs::copy_file(foreign, own);
      kg->delegate = b.file("file:" + own.string(), static_cast<int64_t>(fs::file_size(own)));
      CHECK_FALSE(has(ops::validate_metadata(md, loc_of(d), {}), "F24"));
    }
    {  // F27: a malformed savepoint directory name; F28: chk-007.
      fs::path d = copy_fixture(t, kHeap16, "savepoint-nothex-1");
      CHECK(has(validate_dir(d), "F27"));
      fs::path c = copy_fixture(t, kHeap16, "job/chk-007");
      CHECK(has(validate_dir(c), "F28"));
    }
    {  // F29: a chk-N directory without _metadata.
      fs::create_directories(t.path() / "job2" / "chk-9");
      fs::path c = copy_fixture(t, kHeap16, "job2/chk-2");
      ops::ValidationRun run = ops::validate_path(t.path() / "job2", {});
      REQUIRE(run.snapshots.size() == 2);
      bool found = false;
      for (const auto& v : run.snapshots)
        found |= v.status == ops::SnapshotValidation::Status::kIncomplete && has(v, "F29");
      CHECK(found);
      CHECK(run.invalid == 1);
      CHECK(run.valid == 1);
    }
    {  // F30: a relative path escaping the snapshot; F31: an unmapped remote file, --strict, --map.
      flink::Metadata md = read(fixture(kHeap16));
      flink::Builder b(md);
      auto* kg = first_key_groups(md);
      kg->delegate = b.relative_file("../../etc/passwd", 10);
      CHECK(has(ops::validate_metadata(md, loc_of(fixture(kHeap16)), {}), "F30"));

      fs::path mirror = copy_fixture(t, kHeap16, "mirror/job/chk-2");
      flink::Metadata md2 = read(fixture(kHeap16));
      flink::Builder b2(md2);
      first_key_groups(md2)->delegate =
          b2.file("s3://bucket/flink/job/chk-2/bb49315e-93ba-4924-9743-236feee8a484", 609);
      auto loc = loc_of(fixture(kHeap16));
      auto v = ops::validate_metadata(md2, loc, {});
      CHECK(has(v, "F31", Severity::kInfo));
      CHECK(v.status == ops::SnapshotValidation::Status::kValid);
      CHECK(v.files.not_checked == 1);
      ops::ValidateOptions strict;
      strict.files.strict = true;
      CHECK(has(ops::validate_metadata(md2, loc, strict), "F31", Severity::kError));
      ops::ValidateOptions mapped;
      mapped.files.mappings.push_back(*snapshot::parse_mapping("s3://bucket/flink=" + (t.path() / "mirror").string()));
      auto vm = ops::validate_metadata(md2, loc, mapped);
      CHECK_MESSAGE(vm.status == ops::SnapshotValidation::Status::kValid, dump(vm));
      CHECK(vm.files.not_checked == 0);
    }
    {  // F32: a file outside the snapshot's root (as file:/etc/passwd would be), --allow-outside;
       // a file reached through a directory symlink inside the root.
      fs::create_directories(t.path() / "outside");
      std::ofstream(t.path() / "outside/secret") << "0123456789";
      fs::path chk = copy_fixture(t, kHeap16, "ck/0123456789abcdef0123456789abcdef/chk-2");
      fs::create_directory_symlink(t.path() / "outside", chk.parent_path() / "shared");
      for (fs::path via : {t.path() / "outside/secret", chk.parent_path() / "shared/secret"}) {
        CAPTURE(via);
        flink::Metadata md = read(chk);
        flink::Builder b(md);
        first_key_groups(md)->delegate = b.file("file:" + via.string(), 10);
        auto v = ops::validate_metadata(md, loc_of(chk), {});
        CHECK_MESSAGE(has(v, "F32", Severity::kError), dump(v));
        CHECK(v.status != ops::SnapshotValidation::Status::kValid);
      }
      flink::Metadata md = read(chk);
      flink::Builder b(md);
      first_key_groups(md)->delegate = b.file("file:" + (t.path() / "outside/secret").string(), 10);
      ops::ValidateOptions allowed;
      allowed.files.allow_outside.push_back(t.path() / "outside");
      auto va = ops::validate_metadata(md, loc_of(chk), allowed);
      for (const auto& f : va.findings) CHECK_MESSAGE(f.rule != "F32", dump(va));
    }
  }

  TEST_CASE("validate --deep: rules D01-D07") {
    if (skip_without_fixtures()) return;
    TempDir t;
    ops::ValidateOptions deep;
    deep.files.deep = true;
    deep.files.threads = 2;
    const fs::path rocks = copy_fixture(t, kRocks20, "r/chk-1");
    flink::Metadata md = read(rocks);
    // Map local RocksDB names to their files in the copy.
    std::map<std::string, fs::path> file_of;
    for (const auto& op : md.operators) {
      for (const auto& s : op.subtasks) {
        if (const auto* inc = std::get_if<flink::IncrementalHandle>(&s.managed_keyed.body)) {
          for (const auto* list : {&inc->shared, &inc->private_files}) {
            for (const auto& ns : *list) {
              if (ns.handle.tag == flink::stream_tag::kRelativeFile) {
                file_of[std::string(ns.local_path)] = rocks / std::string(ns.handle.name);
              }
            }
          }
        }
      }
    }
    fs::path sst;
    for (const auto& [name, p] : file_of) {
      if (name.ends_with(".sst")) sst = p;
    }
    REQUIRE(!sst.empty());
    {  // D01: one flipped byte in an SST's first data block.
      std::string bytes = io::read_file_bytes(sst);
      bytes[20] = static_cast<char>(bytes[20] ^ 0x55);
      std::ofstream(sst, std::ios::binary | std::ios::trunc) << bytes;
      auto v = validate_dir(rocks, deep);
      CHECK(has(v, "D01"));
      CHECK_FALSE(has(validate_dir(rocks), "D01"));  // metadata level does not read files
      bytes[20] = static_cast<char>(bytes[20] ^ 0x55);
      std::ofstream(sst, std::ios::binary | std::ios::trunc) << bytes;
      CHECK(validate_dir(rocks, deep).status == ops::SnapshotValidation::Status::kValid);
    }
    {  // D04: a CURRENT that names no MANIFEST of the handle, or is garbage; a MANIFEST with a bad CRC.
      for (const auto& [name, p] : file_of) {
        if (name == "CURRENT") {
          std::string c = io::read_file_bytes(p);
          std::string other = "MANIFEST-999999\n";
          other.resize(c.size(), '\n');
          std::ofstream(p, std::ios::binary | std::ios::trunc) << other;
          CHECK(has(validate_dir(rocks, deep), "D04"));
          std::ofstream(p, std::ios::binary | std::ios::trunc) << c;
        }
      }
      CHECK(rocks::check_current("MANIFEST-000004\n") == std::nullopt);
      CHECK(rocks::check_current("garbage\n").has_value());
      CHECK(rocks::check_options("[Version]\n rocksdb_version=1\n[DBOptions]\n[CFOptions \"default\"]\n") ==
            std::nullopt);
      CHECK(rocks::check_options("hello").has_value());
      for (const auto& [name, p] : file_of) {
        if (name.starts_with("MANIFEST-")) {
          std::string m = io::read_file_bytes(p);
          CHECK(rocks::check_manifest(m) == std::nullopt);
          m[m.size() / 2] = static_cast<char>(m[m.size() / 2] ^ 1);
          CHECK(rocks::check_manifest(m).has_value());
          CHECK(rocks::check_manifest(io::read_file_bytes(p).substr(0, 20)).has_value());
        }
      }
    }
    {  // D02 (a comparator that is not Flink's) and D03 (keys outside the handle's key groups).
      flink::Metadata m2 = read(rocks);
      flink::Builder b(m2);
      int opi = 0;
      auto* inc = first_incremental(m2, &opi);
      inc->range = flink::range_of_subtask(m2.operators[static_cast<std::size_t>(opi)].max_parallelism, 1, 0);
      const int prefix = flink::key_group_prefix_bytes(m2.operators[static_cast<std::size_t>(opi)].max_parallelism);
      auto key = [&](int kg, std::string_view rest) {
        std::string k;
        if (prefix == 2) k += static_cast<char>(kg >> 8);
        k += static_cast<char>(kg & 0xFF);
        return k + std::string(rest);
      };
      inc->range.count = 2;  // key groups [start, start+1]
      const int outside = inc->range.start + 5;
      {
        rocks::SstWriter w(rocks / "outside.sst");
        w.put(key(inc->range.start, "a"), "v");
        w.put(key(outside, "b"), "v");
        uint64_t size = w.finish();
        inc->shared.push_back(b.named("000777.sst", b.relative_file("outside.sst", static_cast<int64_t>(size))));
      }
      {
        rocks::SstWriterOptions o;
        o.reverse_comparator = true;
        rocks::SstWriter w(rocks / "reverse.sst", o);
        w.put(key(inc->range.start, "b"), "v");
        w.put(key(inc->range.start, "a"), "v");
        uint64_t size = w.finish();
        inc->shared.push_back(b.named("000778.sst", b.relative_file("reverse.sst", static_cast<int64_t>(size))));
      }
      auto v = ops::validate_metadata(m2, loc_of(rocks), deep);
      CHECK_MESSAGE(has(v, "D03", Severity::kError), dump(v));
      CHECK_MESSAGE((has(v, "D02") || has(v, "D01")), dump(v));

      // A rescaled instance clipped with DeleteRange: the tombstone sits in a small table file
      // that Flink inlines in `_metadata`. Keys outside the range are then a warning, not an error.
      inc->shared.pop_back();  // the reverse-comparator table
      std::string tombstones;
      {
        rocks::SstWriter w(t.path() / "tombstones.sst");
        w.delete_range(key(inc->range.start + 2, ""), key(inc->range.start + 100, ""));
        w.finish();
        tombstones = io::read_file_bytes(t.path() / "tombstones.sst");
      }
      inc->shared.push_back(b.named("000779.sst", b.inline_bytes("tombstones", tombstones)));
      auto clipped = ops::validate_metadata(m2, loc_of(rocks), deep);
      CHECK_MESSAGE(has(clipped, "D03", Severity::kWarning), dump(clipped));
      CHECK_MESSAGE(!has(clipped, "D03", Severity::kError), dump(clipped));
      // An inline table file is checked like one on disk: a flipped byte is D01.
      std::string broken = tombstones;
      broken[10] = static_cast<char>(broken[10] ^ 0x40);
      inc->shared.back() = b.named("000779.sst", b.inline_bytes("tombstones", broken));
      CHECK_MESSAGE(has(ops::validate_metadata(m2, loc_of(rocks), deep), "D01"), dump(clipped));
      fs::remove(rocks / "outside.sst");
      fs::remove(rocks / "reverse.sst");
    }
    {  // D05: a key-group offset beyond the actual file when the handle records no size.
      fs::path d = copy_fixture(t, kHeap16, "h/chk-2");
      flink::Metadata m3 = read(d);
      flink::Builder b(m3);
      auto* kg = first_key_groups(m3);
      kg->delegate.size = -1;
      std::vector<int64_t> offs(static_cast<std::size_t>(kg->range.count), 100000);
      kg->offsets = b.offsets(offs);
      auto v = ops::validate_metadata(m3, loc_of(d), deep);
      CHECK_MESSAGE(has(v, "D05"), dump(v));
      CHECK_FALSE(has(ops::validate_metadata(m3, loc_of(d), {}), "D05"));
    }
    {  // D06: a file whose length changes while it is read (procfs reports size 0).
      fs::path d = copy_fixture(t, kHeap16, "p/chk-2");
      flink::Metadata m4 = read(d);
      flink::Builder b(m4);
      first_key_groups(m4)->delegate = b.file("file:/proc/self/status", 0);
      std::vector<int64_t> none(static_cast<std::size_t>(first_key_groups(m4)->range.count), 0);
      first_key_groups(m4)->offsets = b.offsets(none);
      auto v = ops::validate_metadata(m4, loc_of(d), deep);
      CHECK_MESSAGE(has(v, "D06"), dump(v));
    }
    {  // D07: a channel offset at a record whose length runs past the file.
      fs::path d = copy_fixture(t, kHeap16, "c/chk-2");
      {
        std::ofstream f(d / "channel-file", std::ios::binary);
        f << std::string("\0\0\0\0\0\0\0\x02xy\0\0\x10\0", 14);
      }
      flink::Metadata m5 = read(d);
      flink::Builder b(m5);
      flink::ChannelHandle c;
      c.type = flink::channel_type::kInput;
      c.delegate = b.relative_file("channel-file", 14);
      flink::ChannelInfo ci;
      std::vector<int64_t> offs{4, 10};
      ci.offsets = b.offsets(offs);
      ci.state_size = 10;
      c.channels.push_back(ci);
      m5.operators[0].subtasks[0].input_channels.push_back(c);
      auto v = ops::validate_metadata(m5, loc_of(d), deep);
      CHECK_MESSAGE(has(v, "D07"), dump(v));
    }
  }

  TEST_CASE("validate --expect: E01-E05 and --expect-from") {
    if (skip_without_fixtures()) return;
    const fs::path d = fixture(kV5);
    flink::Metadata md = read(d);
    std::vector<std::string> uids;
    for (const auto& op : md.operators) {
      if (!op.uid.empty() && validate::has_state(op)) uids.push_back(std::string(op.uid));
    }
    REQUIRE(uids.size() >= 1);
    auto run = [&](std::string_view yaml) {
      ops::ValidateOptions o;
      o.expect = validate::parse_expectation(yaml, "job.yaml");
      return ops::validate_metadata(md, loc_of(d), o);
    };
    {  // The snapshot's own operators: nothing to report but stateless notes.
      ops::ValidateOptions o;
      o.expect = validate::expectation_from(md, "self");
      auto v = ops::validate_metadata(md, loc_of(d), o);
      CHECK_MESSAGE(v.status == ops::SnapshotValidation::Status::kValid, dump(v));
      CHECK_FALSE(has(v, "E01"));
    }
    {  // A job without the first stateful operator: E01, named by uid.
      std::string yaml = "operators:\n  - uid: brand-new  # comment\n    parallelism: 2\n";
      for (std::size_t i = 1; i < uids.size(); ++i) yaml += fmt::format("  - uid: \"{}\"\n", uids[i]);
      auto v = run(yaml);
      CHECK(has(v, "E01"));
      CHECK(has(v, "E04", Severity::kInfo));
      bool named = false;
      for (const auto& f : v.findings) named |= f.rule == "E01" && f.where.find(uids[0]) != std::string::npos;
      CHECK(named);
    }
    {  // E02 max parallelism changed, E03 parallelism above the snapshot's max parallelism, E05 duplicates.
      int32_t maxp = 0;
      for (const auto& op : md.operators) {
        if (std::string(op.uid) == uids[0]) maxp = op.max_parallelism;
      }
      auto v = run(fmt::format("- uid: {}\n  maxParallelism: {}\n- uid: {}\n", uids[0], maxp * 2, uids[0]));
      CHECK(has(v, "E02"));
      CHECK(has(v, "E05"));
      auto v3 = run(fmt::format("[{{\"uid\": \"{}\", \"parallelism\": {}}}]", uids[0], maxp + 1));
      CHECK(has(v3, "E03"));
    }
    {  // Bad expectation files are refused with the line.
      CHECK_THROWS_WITH_AS(validate::parse_expectation("- uid: a\n  colour: red\n", "x.yaml"),
                           doctest::Contains("x.yaml: line 2"), validate::ExpectError);
      CHECK_THROWS_AS(validate::parse_expectation("- name: only\n", "x.yaml"), validate::ExpectError);
      CHECK_THROWS_AS(validate::parse_expectation("- id: 12\n", "x.yaml"), validate::ExpectError);
      CHECK_THROWS_AS(validate::parse_expectation("{\"operators\": [{\"uid\": 1, \"bogus\": 2}]}", "x.json"),
                      validate::ExpectError);
    }
  }

  TEST_CASE("validate --latest: the newest snapshot that passes") {
    if (skip_without_fixtures()) return;
    TempDir t;
    fs::path good = copy_fixture(t, kHeap16, "job/chk-2");
    fs::path bad = copy_fixture(t, kHeap16, "job/chk-3");
    fs::remove(bad / "bb49315e-93ba-4924-9743-236feee8a484");
    fs::create_directories(t.path() / "job" / "chk-4");
    ops::ValidationRun run = ops::validate_path(t.path() / "job", {}, true);
    REQUIRE(run.latest_valid);
    CHECK(run.snapshots[*run.latest_valid].location.directory == good);
    fs::remove(good / "_metadata");
    run = ops::validate_path(t.path() / "job", {}, true);
    CHECK_FALSE(run.latest_valid);
  }

  TEST_CASE("validate: every rule in the catalogue has a test that makes it fire") {
    // Runs last within this file (doctest orders by file and line): the fixture tests above fill
    // fired(). When they were filtered out (-tc), there is nothing to compare.
    if (skip_without_fixtures() || fired().empty()) return;
    for (const auto& r : validate::all_rules()) CHECK_MESSAGE(fired().count(std::string(r.id)), r.id);
  }
}
