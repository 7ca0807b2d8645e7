// ops::inspect and its JSON on every real snapshot, in-process.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "codec/proto_codec.h"
#include "io/file_bytes.h"

#include "export/report_json.h"
#include "fixtures.h"
#include "flink/metadata_reader.h"
#include "ops/inspect.h"
#include "snapshot/discovery.h"

using namespace ckpt;

TEST_SUITE("fixtures") {
  TEST_CASE("inspect and inspect --json succeed on every snapshot under the fixtures") {
    snapshot::Discovery d = snapshot::discover(fixtures::root());
    REQUIRE(d.snapshots.size() > 290);
    CHECK(d.incomplete.empty());
    std::FILE* null = std::fopen("/dev/null", "w");
    REQUIRE(null);
    int ok = 0, refused = 0;
    for (const auto& loc : d.snapshots) {
      CAPTURE(loc.metadata.string());
      flink::Metadata md;
      try {
        md = flink::read_metadata_file(loc.metadata);
      } catch (const flink::MetadataError& e) {
        // The only snapshot ckpt refuses is the Flink 1.1 (version 0) savepoint.
        CHECK(std::string(e.what()).find("format version 0") != std::string::npos);
        ++refused;
        continue;
      }
      ops::InspectOptions all;
      all.subtasks = all.files = true;
      ops::InspectResult r = ops::inspect(md, loc, all);
      CHECK(static_cast<std::size_t>(r.summary().operators_size()) == md.operators.size());
      CHECK(r.summary().kind() != ckpt::SnapshotSummary::KIND_UNSPECIFIED);
      for (const auto& f : r.report->files()) CHECK(!f.path().empty());
      CHECK_NOTHROW(report_json::write_inspect_report(md, r, false, null));
      ++ok;
    }
    std::fclose(null);
    CHECK(refused == 1);
    MESSAGE("inspected " << ok << " snapshots");
  }

  TEST_CASE("a snapshot read one operator at a time gives the same operators, summary and JSON") {
    snapshot::Discovery d = snapshot::discover(fixtures::root());
    REQUIRE(d.snapshots.size() > 290);
    auto json_of = [](const std::function<void(std::FILE*)>& write) {
      char* buf = nullptr;
      std::size_t len = 0;
      std::FILE* f = open_memstream(&buf, &len);
      write(f);
      std::fclose(f);
      std::string out(buf, len);
      std::free(buf);
      return out;
    };
    int compared = 0;
    for (const auto& loc : d.snapshots) {
      CAPTURE(loc.metadata.string());
      auto bytes = std::make_shared<const std::string>(io::read_file_bytes(loc.metadata));
      std::string whole_error, stream_error;
      flink::Metadata md;
      try {
        md = flink::parse_metadata(bytes, loc.metadata.string());
      } catch (const flink::MetadataError& e) {
        whole_error = e.what();
      }
      std::optional<flink::OperatorStream> ops;
      try {
        ops.emplace(bytes, loc.metadata.string());
      } catch (const flink::MetadataError& e) {
        stream_error = e.what();
      }
      CHECK(whole_error == stream_error);  // the same check, the same message
      if (!ops) continue;
      CHECK(ops->metadata().version == md.version);
      CHECK(ops->metadata().masters.size() == md.masters.size());
      CHECK(ops->metadata().trailer == md.trailer);
      CHECK(ops->metadata().trailing == md.trailing);
      REQUIRE(ops->operator_count() == md.operators.size());
      flink::OperatorState op;
      std::size_t i = 0;
      for (; ops->next(op); ++i) {
        ckpt::Operator a, b;
        codec::operator_to_proto(op, i, a);
        codec::operator_to_proto(md.operators[i], i, b);
        CHECK(a.SerializeAsString() == b.SerializeAsString());
      }
      CHECK(i == md.operators.size());
      ops::InspectOptions opts;
      opts.subtasks = true;
      ops::InspectResult rs = ops::inspect(*ops, loc, opts);
      ops::InspectResult rm = ops::inspect(md, loc, opts);
      CHECK(rs.report->SerializeAsString() == rm.report->SerializeAsString());
      CHECK(json_of([&](std::FILE* f) { report_json::write_inspect_report(*ops, rs, false, f); }) ==
            json_of([&](std::FILE* f) { report_json::write_inspect_report(md, rm, false, f); }));
      ++compared;
    }
    MESSAGE("compared " << compared << " snapshots read whole and one operator at a time");
  }

  TEST_CASE("a truncated file fails the streamed reading as the whole reading, before any operator") {
    auto path = fixtures::root() / "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint/_metadata";
    std::string bytes = io::read_file_bytes(path);
    for (std::size_t cut : {bytes.size() / 2, bytes.size() - 1}) {
      auto shared = std::make_shared<const std::string>(bytes.substr(0, cut));
      std::string whole, streamed;
      try {
        flink::parse_metadata(shared, "x");
      } catch (const flink::MetadataError& e) {
        whole = e.what();
      }
      try {
        flink::OperatorStream s(shared, "x");
      } catch (const flink::MetadataError& e) {
        streamed = e.what();
      }
      CHECK(!whole.empty());
      CHECK(whole == streamed);
    }
  }

  TEST_CASE("inspect summarises a Flink 1.20 RocksDB checkpoint as Flink does") {
    auto loc =
        snapshot::locate(fixtures::root() / "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint/_metadata");
    flink::Metadata md = flink::read_metadata_file(loc.metadata);
    ops::InspectOptions opts;
    opts.files = true;
    ops::InspectResult r = ops::inspect(md, loc, opts);
    CHECK(r.summary().version() == 4);
    CHECK(r.summary().flink_releases() == "1.16-1.20");
    CHECK(r.summary().kind() == ckpt::SnapshotSummary::CHECKPOINT);
    CHECK(r.summary().backend() == "rocksdb");
    CHECK(r.summary().operators_size() == 8);
    // Every file the metadata names is in the directory, with the recorded size.
    int files = 0;
    for (const auto& f : r.report->files()) {
      CHECK(f.form() == "relative");
      CHECK(std::filesystem::file_size(f.resolved()) == static_cast<uintmax_t>(f.size()));
      ++files;
    }
    CHECK(files > 0);
    CHECK(r.summary().files() == files);  // no file is named twice in this checkpoint
  }

  TEST_CASE("operators are selected by uid, by hashed uid, or by id") {
    auto loc =
        snapshot::locate(fixtures::root() / "new-stateful-udf-migration-itcase-flink1.16-hashmap-savepoint/_metadata");
    flink::Metadata md = flink::read_metadata_file(loc.metadata);
    ops::InspectOptions opts;
    opts.uid = "CheckpointingKeyedStateFlatMap1";  // V4: no uid stored, matched through the hash (spec §15)
    auto r = ops::inspect(md, loc, opts);
    REQUIRE(r.summary().operators_size() == 1);
    CHECK(r.summary().operators(0).id() == "d5c8b168c6cbfe8c507a10f88b325243");
    opts.uid.reset();
    opts.operator_id = "41e91aae0bee218c44306cf7d21940ad";
    r = ops::inspect(md, loc, opts);
    REQUIRE(r.summary().operators_size() == 1);
  }
}
