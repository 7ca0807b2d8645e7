// libFuzzer target over the `_metadata` reader and everything that consumes a parsed model: any
// input must either parse (and then write back to the identical bytes, inspect, pass through
// validate's metadata and mapping rules, diff, convert's in-memory transformations and the
// prune/gc planner) or fail with a MetadataError -- never crash, hang, over-allocate or overflow
// (the preset runs under ASan + UBSan: sizes, counts and offsets are the input's).
//
// Stages (CKPT_FUZZ_SKIP, comma-separated, skips some, so that a known open bug in one consumer
// does not stop the fuzzing of the others):
//   roundtrip  write_metadata(parse(x)) == x
//   inspect    ops::inspect with subtasks and files; the streamed reading agrees with the whole one
//   validate   validate's metadata rules, file_refs, expectations
//   diff       ops::diff of the input with itself and with a fixed small snapshot, both ways
//   convert    relocate, anchor_relative, change_version to 3..7, savepoint_properties_for
//   state      ops::dump_state: every inline state payload through the proxies, the heap,
//              canonical and operator layouts and the value decoder (files are not there)
//   plan       the prune/gc planner over a private temp directory holding the input as
//              <root>/<job>/chk-1/_metadata beside a fixed chk-2: the reference graph, the
//              inventory, the refusals and (when none) a prune plan keeping the latest. The
//              plan is never executed; nothing but the temp directory is written.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "flink/builder.h"
#include "flink/checkpoint_properties.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "ops/convert.h"
#include "ops/deletion_plan.h"
#include "ops/diff.h"
#include "ops/inspect.h"
#include "ops/prune_plan.h"
#include "ops/snapshot_input.h"
#include "ops/state_dump.h"
#include "snapshot/file_refs.h"
#include "validate/expect.h"
#include "validate/metadata_rules.h"

namespace fs = std::filesystem;

namespace {

bool skip_roundtrip = false, skip_inspect = false, skip_validate = false, skip_diff = false, skip_convert = false,
     skip_plan = false, skip_state = false;

ckpt::ops::SnapshotInput small_input;  // the fixed other side of diff
fs::path plan_root_dir;                // <tmp>/ck (removed at exit)
fs::path plan_metadata;                // <tmp>/ck/<job>/chk-1/_metadata: the input

// A small valid snapshot: one operator of parallelism 2, subtask 0 with keyed state in a file
// (one key group), subtask 1 with keyed state inline.
ckpt::flink::Metadata small_snapshot() {
  namespace f = ckpt::flink;
  f::Metadata md;
  md.version = 4;
  md.checkpoint_id = 2;
  md.trailer = md.intern(f::encode_null_trailer());
  md.trailer_state = f::TrailerState::kNull;
  f::Builder b(md);
  f::OperatorState op;
  op.id = f::operator_id_from_uid("fuzz-small");
  op.parallelism = 2;
  op.max_parallelism = 2;
  const int64_t offsets[] = {0};
  for (int32_t i = 0; i < 2; ++i) {
    f::SubtaskState s;
    s.index = i;
    f::StreamHandle delegate = i == 0 ? b.file("file:/tmp/fuzz/shared/a", 100) : b.inline_bytes("b", "xyz");
    s.managed_keyed = b.key_groups(f::KeyGroupRange{i, 1}, offsets, delegate, "");
    op.subtasks.push_back(std::move(s));
  }
  md.operators.push_back(std::move(op));
  return md;
}

void remove_plan_dir() {
  std::error_code ec;
  if (!plan_root_dir.empty()) fs::remove_all(plan_root_dir.parent_path(), ec);
}

void set_up_plan_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ckpt-fuzz-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return;
  plan_root_dir = fs::path(tmpl) / "ck";
  const fs::path job = plan_root_dir / "0123456789abcdef0123456789abcdef";
  fs::create_directories(job / "chk-1");
  fs::create_directories(job / "chk-2");
  fs::create_directories(job / "shared");
  ckpt::io::write_file_atomically(job / "chk-2/_metadata", ckpt::flink::write_metadata(small_snapshot()), true);
  plan_metadata = job / "chk-1/_metadata";
  std::atexit(remove_plan_dir);
}

ckpt::ops::SnapshotInput input_of(const ckpt::flink::Metadata& md) {
  ckpt::ops::SnapshotInput in;
  in.md = md;
  in.label = "fuzz";
  in.location = ckpt::snapshot::locate("fuzz/chk-1/_metadata");
  return in;
}

void run_diff(const ckpt::flink::Metadata& md) {
  ckpt::ops::SnapshotInput in = input_of(md);
  (void)ckpt::ops::diff(in, in);
  (void)ckpt::ops::diff(in, small_input);
  (void)ckpt::ops::diff(small_input, in);
}

void run_convert(const ckpt::flink::Metadata& md) {
  {
    ckpt::flink::Metadata m = md;
    (void)ckpt::ops::relocate(
        m, {ckpt::ops::Relocation{"/tmp", "s3://bucket/x"}, ckpt::ops::Relocation{"hdfs://nn", "/mnt"}});
    (void)ckpt::ops::anchor_relative(m, "fuzz/chk-1", "fuzz/out", {});
    (void)ckpt::ops::savepoint_properties_for(m);
    try {
      (void)ckpt::flink::write_metadata(m);
    } catch (const ckpt::flink::WriteError&) {
    }
  }
  for (int32_t to = 3; to <= 7; ++to) {
    ckpt::flink::Metadata m = md;
    try {
      (void)ckpt::ops::change_version(m, to, ckpt::ops::PropertiesChoice::kFromDirectory,
                                      ckpt::snapshot::DirKind::kCheckpoint);
    } catch (const ckpt::ops::ConvertError&) {
    }
  }
}

void run_plan(std::string_view bytes) {
  if (plan_metadata.empty()) return;
  ckpt::io::write_file_atomically(plan_metadata, bytes, true);
  ckpt::ops::PlanRequest req;
  req.root = plan_root_dir;
  req.options.threads = 1;
  req.options.now_ns = 0;
  try {
    ckpt::ops::RetentionPolicy policy;
    policy.last = 1;
    ckpt::ops::PlanRun run = ckpt::ops::plan_root(
        req, [&](const ckpt::snapshot::ReferenceGraph& g) { return ckpt::ops::decide(g, policy); });
    (void)run.plan.bytes_freed;
  } catch (const ckpt::io::IoError&) {
  }
}

// Every entry of every inline payload decoded (and thrown away); errors of a bad payload are
// problems in the result, a refused request a DumpError: neither may crash.
void run_state(const ckpt::flink::Metadata& md, const ckpt::snapshot::Location& loc) {
  ckpt::ops::DumpRequest all;
  all.read_rocksdb = false;  // RocksDB's own reader is not under test (and would write to TMPDIR)
  try {
    (void)ckpt::ops::dump_state(md, loc, {}, all, [](std::string_view) {});
  } catch (const ckpt::util::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* s = std::getenv("CKPT_FUZZ_SKIP")) {
    std::string_view v(s);
    skip_roundtrip = v.find("roundtrip") != std::string_view::npos;
    skip_inspect = v.find("inspect") != std::string_view::npos;
    skip_validate = v.find("validate") != std::string_view::npos;
    skip_diff = v.find("diff") != std::string_view::npos;
    skip_convert = v.find("convert") != std::string_view::npos;
    skip_plan = v.find("plan") != std::string_view::npos;
    skip_state = v.find("state") != std::string_view::npos;
  }
  small_input = input_of(small_snapshot());
  if (!skip_plan) set_up_plan_dir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    ckpt::flink::Metadata md = ckpt::flink::parse_metadata(bytes, "fuzz");
    if (!skip_roundtrip && ckpt::flink::write_metadata(md) != bytes)
      std::abort();  // round trip is part of the contract
    ckpt::snapshot::Location loc;
    loc.metadata = "fuzz/_metadata";
    loc.directory = "fuzz";
    if (!skip_inspect) {
      ckpt::ops::InspectOptions all;
      all.subtasks = all.files = true;
      (void)ckpt::ops::inspect(md, loc, all);
      // The streamed reading (one operator at a time) must agree with the whole one.
      ckpt::flink::OperatorStream stream(std::make_shared<const std::string>(bytes), "fuzz");
      if (stream.operator_count() != md.operators.size()) std::abort();
      ckpt::ops::InspectOptions subtasks;
      subtasks.subtasks = true;
      if (ckpt::ops::inspect(stream, loc, subtasks).report->SerializeAsString() !=
          ckpt::ops::inspect(md, loc, subtasks).report->SerializeAsString())
        std::abort();
    }
    if (!skip_validate) {
      ckpt::validate::Findings out;
      ckpt::validate::check_metadata(md, loc, out);
      (void)ckpt::snapshot::file_refs(md, loc.directory);
      ckpt::validate::check_expectation(md, ckpt::validate::expectation_from(md, "self"), out);
    }
    if (!skip_diff) run_diff(md);
    if (!skip_convert) run_convert(md);
    if (!skip_state) run_state(md, loc);
    if (!skip_plan) run_plan(bytes);
  } catch (const ckpt::flink::MetadataError& e) {
    (void)ckpt::validate::structural_rule_of(e.what());
    if (!skip_inspect) {
      bool streamed = true;  // a file the whole reading refuses, the streamed one refuses too
      try {
        ckpt::flink::OperatorStream stream(std::make_shared<const std::string>(bytes), "fuzz");
      } catch (const ckpt::flink::MetadataError&) {
        streamed = false;
      }
      if (streamed) std::abort();
    }
  }
  return 0;
}
