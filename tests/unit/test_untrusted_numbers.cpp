// Sizes, counts and offsets read from a snapshot are untrusted: a `_metadata` whose sizes are
// INT64_MAX (written by the library's writer, as a corrupt or crafted file would hold them) must
// give saturated figures, never a signed overflow. The CI runs this under UBSan, which catches a
// regression in any sum below.
#include <doctest/doctest.h>

#include <cstdint>

#include "flink/builder.h"
#include "flink/handles.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "ops/convert.h"
#include "ops/diff.h"
#include "ops/inspect.h"
#include "ops/snapshot_input.h"
#include "snapshot/discovery.h"
#include "snapshot/file_refs.h"
#include "support/synthetic.h"

using namespace ckpt;

namespace {

// Every file-backed handle of a synthetic incremental snapshot recording `size` bytes, with
// file-merging segment starts at `size` as well; through the writer and reader, as from disk.
flink::Metadata with_sizes(int64_t size) {
  flink::Metadata md = testsupport::synthetic_incremental(2, 2, 3, 2);
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    auto& h = const_cast<flink::StreamHandle&>(*r.handle);
    if (flink::is_file_backed(h)) h.size = size;
  });
  for (auto& op : md.operators) {
    for (auto& s : op.subtasks) {
      if (auto* inc = std::get_if<flink::IncrementalHandle>(&s.managed_keyed.body)) inc->checkpointed_size = size;
    }
  }
  return flink::parse_metadata(flink::write_metadata(md), "test");
}

}  // namespace

TEST_CASE("INT64_MAX sizes: inspect totals saturate") {
  flink::Metadata md = with_sizes(INT64_MAX);
  ops::InspectOptions all;
  all.subtasks = all.files = true;
  ops::InspectResult r = ops::inspect(md, snapshot::locate("/nowhere/chk-1/_metadata"), all);
  CHECK(r.summary().bytes().keyed() == INT64_MAX);
  CHECK(r.summary().bytes().total() == INT64_MAX);
  for (const auto& o : r.summary().operators()) CHECK(o.bytes().total() == INT64_MAX);
}

TEST_CASE("INT64_MAX sizes: diff's file sums and totals saturate") {
  auto a = testsupport::input_named(with_sizes(INT64_MAX), "chk-1");
  auto same = ops::diff(a, a);
  CHECK(same.equal());
  CHECK(same.files().shared_bytes() == INT64_MAX);
  CHECK(same.total_a().total() == INT64_MAX);

  // Against a snapshot of small sizes with other paths: every file dropped and added.
  flink::Metadata small = testsupport::synthetic_incremental(2, 2, 3, 2, "/elsewhere");
  auto b = testsupport::input_named(std::move(small), "chk-2");
  auto r = ops::diff(a, b);
  CHECK_FALSE(r.equal());
  CHECK(r.files().dropped_bytes() == INT64_MAX);
  CHECK(r.files().added_bytes() > 0);
  auto back = ops::diff(b, a);
  CHECK(back.files().added_bytes() == INT64_MAX);
}

TEST_CASE("extreme sizes and segment offsets: file_refs, relocation and version changes do not overflow") {
  for (int64_t size : {INT64_MAX, INT64_MIN, int64_t{-1}}) {
    CAPTURE(size);
    flink::Metadata md = testsupport::synthetic_incremental(1, 2, 2, 1);
    flink::visit_streams(md, [&](const flink::StreamRef& r) {
      auto& h = const_cast<flink::StreamHandle&>(*r.handle);
      if (flink::is_file_backed(h)) h.size = size;
    });
    (void)snapshot::file_refs(md, "/nowhere/chk-1");
    ops::relocate(md, {ops::Relocation{"/mnt/flink", "/x"}});
    ops::anchor_relative(md, "/nowhere/chk-1", "/else", {});
    CHECK_NOTHROW((void)ops::savepoint_properties_for(md));
  }
}
