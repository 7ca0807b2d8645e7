// ops/pack: round trip, determinism, corruption and hostile archives.
#include <doctest/doctest.h>
#include <zstd.h>

#include <fstream>

#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/atomic_file.h"
#include "io/checksum.h"
#include "io/file_bytes.h"
#include "ops/convert.h"
#include "ops/pack.h"
#include "snapshot/discovery.h"
#include "support/snapshot_on_disk.h"
#include "support/synthetic.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;
using testsupport::TempDir;

namespace {

ops::SelfContainedPlan small_plan(const TempDir& t) {
  flink::Metadata md = testsupport::synthetic_incremental(2, 2, 2, 1, (t / "c").string());
  flink::visit_streams(md, [](const flink::StreamRef& r) {
    const_cast<flink::StreamHandle&>(*r.handle).size = 5000 + 17 * r.subtask_index;
  });
  fs::path chk = t / "c/7a3f8e2d9c1b4a5f6e7d8c9b0a1f2e3d/chk-1000";
  testsupport::write_snapshot_on_disk(md, chk);
  return ops::plan_self_contained(md, snapshot::locate(chk / "_metadata"), {});
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A hand-made archive: header, the given (name, content) records with correct checksums, end
// record; `total` overrides the declared size.
std::string archive(const std::vector<std::pair<std::string, std::string>>& files, int64_t total = -1,
                    std::string extra = {}) {
  std::string s = "CKPTPACK";
  put_le(s, 1, 4);
  put_le(s, 0, 4);
  put_le(s, files.size(), 8);
  uint64_t sum = 0;
  for (const auto& f : files) sum += f.second.size();
  put_le(s, total < 0 ? sum : static_cast<uint64_t>(total), 8);
  put_le(s, 0, 4);
  io::Xxh64 all;
  for (const auto& [name, body] : files) {
    put_le(s, name.size(), 2);
    s += name;
    put_le(s, body.size(), 8);
    s += body;
    std::string d;
    put_le(d, io::xxh64(body), 8);
    s += d;
    all.update(d);
  }
  s += std::string("CKPTEND\0", 8);
  put_le(s, files.size(), 8);
  put_le(s, all.digest(), 8);
  s += extra;
  std::string out(ZSTD_compressBound(s.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), s.data(), s.size(), 3));
  return out;
}

}  // namespace

TEST_CASE("pack then unpack reproduces the self-contained directory; packs are deterministic") {
  TempDir t;
  ops::SelfContainedPlan plan = small_plan(t);
  ops::PackStats st = ops::pack_snapshot(plan, t / "a.ckpt.zst", false, {});
  CHECK(st.files == plan.files.size() + 1);
  CHECK_THROWS_AS(ops::pack_snapshot(plan, t / "a.ckpt.zst", false, {}), ops::PackError);
  ops::PackOptions one;
  one.threads = 1;
  ops::pack_snapshot(plan, t / "b.ckpt.zst", false, one);
  CHECK(io::read_file_bytes(t / "a.ckpt.zst") == io::read_file_bytes(t / "b.ckpt.zst"));

  ops::UnpackStats us = ops::unpack_archive(t / "a.ckpt.zst", t / "out", false);
  CHECK(us.entries.size() == st.files);
  CHECK(ops::check_self_contained(t / "out").empty());
  CHECK(io::read_file_bytes(t / "out/_metadata") == plan.metadata);
  for (const auto& f : plan.files) {
    CHECK(io::read_file_bytes(t / "out" / f.name) == io::read_file_bytes(f.source));
  }
  CHECK_THROWS_AS(ops::unpack_archive(t / "a.ckpt.zst", t / "out", false), ops::PackError);
  CHECK_NOTHROW(ops::unpack_archive(t / "a.ckpt.zst", t / "out", true));
  CHECK(ops::unpack_archive(t / "a.ckpt.zst", t / "nothing", false, true).entries.size() == st.files);
  CHECK_FALSE(fs::exists(t / "nothing"));
}

TEST_CASE("unpack refuses damaged and hostile archives and leaves nothing behind") {
  TempDir t;
  ops::SelfContainedPlan plan = small_plan(t);
  ops::pack_snapshot(plan, t / "good.zst", false, {});
  std::string good = io::read_file_bytes(t / "good.zst");

  auto refused = [&](const std::string& bytes, const char* why) {
    CAPTURE(why);
    io::write_file_atomically(t / "bad.zst", bytes);
    CHECK_THROWS_WITH_AS(ops::unpack_archive(t / "bad.zst", t / "x", false), doctest::Contains(why), ops::PackError);
    CHECK_FALSE(fs::exists(t / "x"));
    int leftovers = 0;
    for (const auto& e : fs::directory_iterator(t.path()))
      leftovers += e.path().filename().string().starts_with(".x.") ? 1 : 0;
    CHECK(leftovers == 0);
  };
  refused(good.substr(0, good.size() / 2), "truncated");
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x01;
  io::write_file_atomically(t / "bad.zst", flipped);
  CHECK_THROWS_AS(ops::unpack_archive(t / "bad.zst", t / "x", false), ops::PackError);
  CHECK_FALSE(fs::exists(t / "x"));
  refused("", "truncated");
  refused("not zstd at all", "not a valid zstd stream");
  std::string md = plan.metadata;
  refused(archive({{"_metadata", md}, {"../evil", "x"}}), "not a plain file name");
  refused(archive({{"_metadata", md}, {"/etc/passwd", "x"}}), "not a plain file name");
  refused(archive({{"_metadata", md}, {"a/b", "x"}}), "not a plain file name");
  refused(archive({{"_metadata", md}, {".hidden", "x"}}), "not a plain file name");
  refused(archive({{"_metadata", md}, {"_metadata", md}}), "appears twice");
  refused(archive({{"_metadata", md}}, 3), "exceeds");
  refused(archive({{"_metadata", md}}, -1, "junk"), "data after the end record");
  refused(archive({{"f", "x"}}), "no _metadata");
  // A well-formed archive whose metadata names files it does not hold.
  refused(archive({{"_metadata", md}}), "not self-contained");
  refused(archive({{"_metadata", md}}, static_cast<int64_t>(1) << 60), "bytes free");
}
