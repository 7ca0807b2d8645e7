// lib/state (serializer snapshots, proxies, values, layouts, Snappy) and ops::dump_state /
// ops::state_breakdown: on hand-made bytes, and on every payload of every real fixture.
#include <doctest/doctest.h>
#include <snappy.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "fixtures.h"
#include "flink/key_groups.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/atomic_file.h"
#include "io/byte_reader.h"
#include "io/checksum.h"
#include "ops/state_breakdown.h"
#include "ops/state_dump.h"
#include "snapshot/discovery.h"
#include "state/key_codec.h"
#include "state/raw_timers.h"
#include "state/serializer_snapshot.h"
#include "state/snappy_framed.h"
#include "state/strings.h"
#include "state/value_codec.h"
#include "support/rocks_snapshot.h"

using namespace ckpt;

namespace {

std::string utf(std::string_view s) {
  std::string out;
  out += static_cast<char>(s.size() >> 8);
  out += static_cast<char>(s.size() & 0xFF);
  out += s;
  return out;
}

std::string be32(int32_t v) {
  std::string out;
  for (int i = 3; i >= 0; --i) out += static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xFF);
  return out;
}

std::string be64(int64_t v) {
  std::string out;
  for (int i = 7; i >= 0; --i) out += static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xFF);
  return out;
}

std::string simple_snapshot(std::string_view cls) { return utf(cls) + be32(3); }

std::string json_of(std::string_view bytes, const state::Type& t) {
  std::string out;
  io::ByteReader r(bytes);
  state::decode_value(r, t, out);
  CHECK(r.at_end());
  return out;
}

}  // namespace

TEST_CASE("StringValue strings decode as Flink writes them, surrogates paired") {
  io::ByteReader r(std::string_view("\x01\x02\x61\x02\xE9\x01\x00\x03\xBD\xB0\x03\x80\xBC\x03", 14));
  CHECK(state::read_string_value(r, "s") == std::string());
  CHECK(state::read_string_value(r, "s") == std::string("a"));
  CHECK(state::read_string_value(r, "s") == std::string("\xC3\xA9"));  // é
  CHECK(!state::read_string_value(r, "s").has_value());                // null
  // U+1F600 as the surrogates D83D DE00, each a varint unit.
  CHECK(state::read_string_value(r, "s") == std::string("\xF0\x9F\x98\x80"));
  CHECK(r.at_end());
  io::ByteReader huge(std::string_view("\xFF\xFF\xFF\xFF\x0F", 5));
  CHECK_THROWS_AS(state::read_string_value(huge, "s"), io::DecodeError);  // a length the bytes cannot hold
}

TEST_CASE("a composite snapshot (Tuple2<Long, String>) is read into its type, its values decode") {
  std::string snap =
      be32(2) + utf("org.apache.flink.api.java.typeutils.runtime.TupleSerializerSnapshot") + be32(3) + be32(911108) +
      be32(2) + utf("org.apache.flink.api.java.tuple.Tuple2") + be32(1333245) + be32(1) + be32(2) +
      simple_snapshot("org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot") +
      simple_snapshot("org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot");
  io::ByteReader r(snap);
  state::Type t = state::read_top_level_snapshot(r);
  CHECK(r.at_end());
  CHECK(state::type_name(t) == "Tuple2<Long, String>");
  CHECK(state::fixed_length(t) == -1);
  CHECK(json_of(be64(-7) + std::string("\x03hi", 3), t) == R"([-7,"hi"])");
}

TEST_CASE("an unknown snapshot class stops the read with its name, not a guess") {
  std::string snap = be32(2) + utf("com.acme.MySerializerSnapshot") + be32(1) + "????";
  io::ByteReader r(snap);
  try {
    state::read_top_level_snapshot(r);
    FAIL("expected an error");
  } catch (const io::DecodeError& e) {
    CHECK(std::string(e.what()).find("com.acme.MySerializerSnapshot") != std::string::npos);
    CHECK(e.offset() == 4);
  }
}

TEST_CASE("values: maps with String keys are objects, windows and timers objects, opaque values refused") {
  state::Type map;
  map.kind = state::Kind::kMap;
  map.children = {state::basic(state::Kind::kString), state::basic(state::Kind::kLong)};
  CHECK(json_of(be32(2) +
                    std::string("\x02"
                                "a",
                                2) +
                    '\0' + be64(1) +
                    std::string("\x02"
                                "b",
                                2) +
                    '\1',
                map) == R"({"a":1,"b":null})");
  state::Type timer;
  timer.kind = state::Kind::kTimer;
  timer.children = {state::basic(state::Kind::kLong), state::basic(state::Kind::kTimeWindow)};
  CHECK(json_of(be64(static_cast<int64_t>(0x8000000000000000ULL ^ 1000)) + be64(5) + be64(0) + be64(10), timer) ==
        R"({"timestamp":1000,"key":5,"namespace":{"start":0,"end":10}})");
  state::Type opaque;
  opaque.snapshot_class = "com.acme.Snapshot";
  std::string bytes = "abc";
  io::ByteReader r(bytes);
  std::string out;
  CHECK_THROWS_AS(state::decode_value(r, opaque, out), state::UndecodableValue);
  // Delimited: shown as bytes, named, and not a problem.
  std::string problem;
  CHECK(state::decode_delimited(bytes, 0, opaque, out, &problem));
  CHECK(out == R"({"opaque":"com.acme.Snapshot","base64":"YWJj"})");
  CHECK(problem.empty());
  // A mismatch (a long of 3 bytes) is a problem, and the bytes are still shown.
  out.clear();
  CHECK(!state::decode_delimited(bytes, 100, state::basic(state::Kind::kLong), out, &problem));
  CHECK(problem.find("byte 100") != std::string::npos);
}

TEST_CASE("Snappy framed streams decompress chunk by chunk; a bad checksum is named") {
  std::string data(200000, 'x');
  for (std::size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>('a' + i % 26);
  std::string framed = std::string("\xFF\x06\x00\x00sNaPpY", 10);
  for (std::size_t at = 0; at < data.size(); at += 65536) {
    std::string chunk = data.substr(at, 65536);
    std::string compressed;
    snappy::Compress(chunk.data(), chunk.size(), &compressed);
    uint32_t crc = io::crc32c_mask(io::crc32c(chunk));
    std::string body;
    for (int i = 0; i < 4; ++i) body += static_cast<char>((crc >> (8 * i)) & 0xFF);
    body += compressed;
    framed += '\0';
    for (int i = 0; i < 3; ++i) framed += static_cast<char>((body.size() >> (8 * i)) & 0xFF);
    framed += body;
  }
  state::ChunkBoundaries chunks;
  CHECK(state::decompress_framed(framed, 0, &chunks) == data);
  CHECK(chunks.size() == 5);                      // the identifier and four data chunks
  CHECK(io::crc32c("123456789") == 0xE3069283u);  // the CRC-32C check value
  std::string bad = framed;
  bad[15] ^= 1;  // inside the first checksum
  CHECK_THROWS_AS(state::decompress_framed(bad, 0), io::DecodeError);
}

TEST_CASE("--key: keys serialize as Flink's serializers write them, with Java's hashCode") {
  std::string why;
  auto k = state::encode_key(state::basic(state::Kind::kLong), "42", why);
  REQUIRE(k);
  CHECK(k->bytes == be64(42));
  CHECK(k->java_hash == 42);
  CHECK(flink::key_group_for_hash(k->java_hash, 128) == 29);  // the spec's test vector for 42
  auto s = state::encode_key(state::basic(state::Kind::kString), "\"ab\"", why);
  REQUIRE(s);
  CHECK(s->bytes == std::string("\x03"
                                "ab",
                                3));
  CHECK(s->java_hash == 97 * 31 + 98);
  state::Type tuple;
  tuple.kind = state::Kind::kTuple;
  tuple.type_class = "org.apache.flink.api.java.tuple.Tuple2";
  tuple.children = {state::basic(state::Kind::kInt), state::basic(state::Kind::kString)};
  auto t = state::encode_key(tuple, R"([3, "x"])", why);
  REQUIRE(t);
  CHECK(t->java_hash == 3 * 31 + 'x');
  CHECK(!state::encode_key(tuple, "[1]", why));
  CHECK(why.find("2 fields") != std::string::npos);
  state::Type pojo;
  pojo.kind = state::Kind::kPojo;
  CHECK(!state::encode_key(pojo, "1", why));
}

TEST_SUITE("fixtures") {
  TEST_CASE("every state payload of every fixture decodes exactly, and inspect --states sizes every state") {
    snapshot::Discovery d = snapshot::discover(fixtures::root());
    REQUIRE(d.snapshots.size() > 290);
    int snapshots = 0, lines_total = 0;
    std::vector<std::string> problems;
    std::map<std::string, int> kinds;
    for (const auto& loc : d.snapshots) {
      flink::Metadata md;
      try {
        md = flink::read_metadata_file(loc.metadata);
      } catch (const std::exception&) {
        continue;  // the Flink 1.1 savepoint (version 0): no handles to read
      }
      ++snapshots;
      ops::DumpRequest req;
      ops::DumpResult r = ops::dump_state(md, loc, {}, req, [&](std::string_view line) {
        ++lines_total;
        auto k = line.find("\"kind\":\"");
        if (k != std::string_view::npos) {
          auto e = line.find('"', k + 8);
          ++kinds[std::string(line.substr(k + 8, e - k - 8))];
        }
      });
      for (const std::string& p : r.problems) {
        // The bravo fixture references 6 files by absolute paths of the machine that wrote it.
        if (loc.metadata.string().find("bravo") != std::string::npos &&
            p.find("outside the snapshot") != std::string::npos)
          continue;
        problems.push_back(loc.metadata.string() + ": " + p);
      }
      ckpt::StatesReport b = ops::state_breakdown(md, loc, {}, {});
      for (const std::string& p : b.problems()) {
        if (loc.metadata.string().find("bravo") != std::string::npos &&
            p.find("outside the snapshot") != std::string::npos)
          continue;
        problems.push_back(loc.metadata.string() + ": breakdown: " + p);
      }
    }
    // The first problem of each snapshot, and how many it has.
    std::map<std::string, std::pair<int, std::string>> by_snapshot;
    for (const std::string& p : problems) {
      auto& e = by_snapshot[p.substr(0, p.find("_metadata"))];
      if (e.first++ == 0) e.second = p;
    }
    for (const auto& [snap, e] : by_snapshot) MESSAGE(e.first << " problems, first: " << e.second);
    CHECK(problems.empty());
    MESSAGE("decoded " << snapshots << " snapshots, " << lines_total << " entries");
    for (const auto& [k, n] : kinds) MESSAGE(k << ": " << n);
    CHECK(snapshots > 290);
  }
}

TEST_SUITE("fixtures") {
  TEST_CASE("raw keyed timers (proxy versions 0, 1, 2) hold the timers Flink's migration ITCase registered") {
    // StatefulJobSavepointMigrationITCase's TimelyStatefulOperator, for each of its 4 keys
    // Tuple1(k), k = 0..3: registerEventTimeTimer(k, currentWatermark() + 10) (the watermark is
    // Long.MIN_VALUE: no watermark yet) and registerProcessingTimeTimer(k, now + 30 s).
    const char* names[] = {
        "stateful-udf-migration-itcase-flink1.3-savepoint",              // version 0
        "stateful-udf-migration-itcase-flink1.4-rocksdb-savepoint",      // version 0
        "new-stateful-udf-migration-itcase-flink1.4-savepoint",          // version 1 (written by a 1.5 build)
        "new-stateful-udf-migration-itcase-flink1.7-rocksdb-savepoint",  // version 1
        "new-stateful-udf-migration-itcase-flink1.8-rocksdb-savepoint",  // version 2
    };
    for (const char* name : names) {
      CAPTURE(name);
      snapshot::Location loc = snapshot::locate(fixtures::root() / name / "_metadata");
      flink::Metadata md = flink::read_metadata_file(loc.metadata);
      std::vector<std::string> lines;
      ops::DumpRequest req;
      ops::DumpResult r = ops::dump_state(md, loc, {}, req, [&](std::string_view l) { lines.emplace_back(l); });
      CHECK(r.problems.empty());
      // (operator, state) -> the "key":...,"namespace":...,"value":... part of its lines
      std::map<std::pair<std::string, std::string>, std::set<std::string>> timers;
      for (const std::string& l : lines) {
        if (l.find("\"kind\":\"TIMERS\"") == std::string::npos) continue;
        auto field = [&](const char* f) {
          auto at = l.find(std::string("\"") + f + "\":\"") + std::strlen(f) + 4;
          return l.substr(at, l.find('"', at) - at);
        };
        timers[{field("operator"), field("state")}].insert(l.substr(l.find("\"key\":")));
      }
      REQUIRE(!timers.empty());
      for (const auto& [where, set] : timers) {
        CAPTURE(where.first);
        CAPTURE(where.second);
        REQUIRE(set.size() == 4);
        int k = 0;
        for (const std::string& t : set) {
          std::string head = "\"key\":[" + std::to_string(k) + "],\"namespace\":" + std::to_string(k) + ",\"value\":";
          CHECK(t.starts_with(head));
          int64_t ts = std::stoll(t.substr(head.size()));
          if (where.second == "_timer_state/event_timer") {
            CHECK(ts == INT64_MIN + 10);
          } else {
            CHECK(where.second == "_timer_state/processing_timer");
            CHECK(ts > 1'490'000'000'000);  // a wall-clock time of 2017 or later
          }
          ++k;
        }
      }
      // --key reads one key group and returns exactly the full dump's lines of that key.
      std::vector<std::string> keyed;
      req.key = "[2]";
      CHECK(ops::dump_state(md, loc, {}, req, [&](std::string_view l) { keyed.emplace_back(l); }).problems.empty());
      std::vector<std::string> filtered;
      for (const std::string& l : lines) {
        if (l.find("\"key\":[2],") != std::string::npos) filtered.push_back(l);
      }
      CHECK(!keyed.empty());
      CHECK(keyed == filtered);
      // inspect --states counts the same timers, as raw keyed timers.
      ckpt::StatesReport b = ops::state_breakdown(md, loc, {}, {});
      int rows = 0;
      for (const auto& row : b.states()) {
        if (row.source() != ckpt::RAW_KEYED_TIMERS) continue;
        ++rows;
        CHECK(row.kind() == ckpt::TIMERS);
        CHECK(row.entries() == 4);
        CHECK(row.key_type() == "Tuple1<Long>");
        CHECK(row.namespace_type() == "Long");
      }
      CHECK(rows == static_cast<int>(timers.size()));
    }
  }
}

TEST_SUITE("fixtures") {
  TEST_CASE("a cut or damaged raw keyed key group is one problem with its offset; the others are read") {
    flink::Metadata md = flink::read_metadata_file(
        fixtures::root() / "new-stateful-udf-migration-itcase-flink1.8-rocksdb-savepoint/_metadata");
    std::string payload;
    for (const auto& op : md.operators) {
      for (const auto& s : op.subtasks) {
        const auto* kg = std::get_if<flink::KeyGroupsHandle>(&s.raw_keyed.body);
        if (kg && kg->delegate.data.size() > 100) payload = std::string(kg->delegate.data);
      }
    }
    REQUIRE(payload.size() > 100);
    // Two key groups (5 and 7; 6 not written): the payload twice, the first copy cut or damaged.
    auto walk = [](const std::string& first, const std::string& second) {
      std::string bytes = first + second;
      state::KeyedPayload p;
      p.bytes = bytes;
      p.key_group_start = 5;
      p.offsets = {0, -1, static_cast<int64_t>(first.size())};
      std::map<int32_t, int> timers;
      std::vector<state::KeyedProblem> problems;
      state::RawTimerVisitor v;
      v.timer = [&](const state::RawTimer& t) { ++timers[t.key_group]; };
      v.problem = [&](const state::KeyedProblem& e) { problems.push_back(e); };
      state::walk_raw_timers(p, v);
      return std::make_pair(timers, problems);
    };
    auto [whole, none] = walk(payload, payload);
    CHECK(none.empty());
    REQUIRE(whole[5] > 0);
    CHECK(whole[7] == whole[5]);
    auto [timers, problems] = walk(payload.substr(0, payload.size() - 5), payload);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].key_group == 5);
    CHECK(problems[0].offset <= payload.size() - 5);
    CHECK(problems[0].message.find("truncated") != std::string::npos);
    CHECK(timers[7] == whole[7]);  // key group 7 was read all the same
    std::string bad = payload;
    bad[7] = 9;  // version 9
    auto [t2, p2] = walk(bad, payload);
    REQUIRE(p2.size() == 1);
    CHECK(p2[0].offset == 4);
    CHECK(p2[0].message == "timer service proxy version 9, expected 1 or 2");
  }
}

TEST_SUITE("fixtures") {
  TEST_CASE("Flink 1.3's legacy Checkpointed state holds what the migration ITCase's functions checkpointed") {
    // StatefulJobSavepointMigrationITCase (1.3): LegacyCheckpointedSource checkpoints the String
    // "Here be dragons!", LegacyCheckpointedFlatMap (and its variants) the Tuple2 ("hello", 42L);
    // the custom operator writes writeUTF("Oh my, that's nice!") after its function's state.
    for (const char* name : {"stateful-udf-migration-itcase-flink1.3-savepoint",
                             "stateful-udf-migration-itcase-flink1.3-rocksdb-savepoint"}) {
      CAPTURE(name);
      snapshot::Location loc = snapshot::locate(fixtures::root() / name / "_metadata");
      flink::Metadata md = flink::read_metadata_file(loc.metadata);
      std::map<std::string, int> values;
      ops::DumpRequest req;
      req.state = "Checkpointed";
      ops::DumpResult r = ops::dump_state(md, loc, {}, req, [&](std::string_view l) {
        CHECK(l.find("\"kind\":\"LEGACY_FUNCTION\"") != std::string_view::npos);
        auto v = l.find(",\"value\":", l.find("\"function\":"));
        auto b = l.find("\"operatorBytes\":");
        ++values[std::string(l.substr(v, l.find('}', v) - v)) + " " + std::string(l.substr(b, l.find('}', b) - b))];
      });
      CHECK(r.problems.empty());
      std::string oh_my = "\"operatorBytes\":\"ABNPaCBteSwgdGhhdCdzIG5pY2Uh\"";  // u16 19, "Oh my, that's nice!"
      CHECK(values[",\"value\":\"Here be dragons!\" \"operatorBytes\":null"] == 1);
      CHECK(values[",\"value\":[\"hello\",42] \"operatorBytes\":null"] == 8);
      CHECK(values[",\"value\":[\"hello\",42] " + oh_my] == 4);
      CHECK(values.size() == 3);
      ckpt::StatesReport b = ops::state_breakdown(md, loc, {}, {});
      uint64_t entries = 0;
      for (const auto& row : b.states()) {
        if (row.kind() == ckpt::LEGACY_FUNCTION) entries += row.entries();
      }
      CHECK(entries == 13);
    }
  }
}

TEST_CASE("ckpt state: a RocksDB database inside a changelog handle is read (its materialized part)") {
  // A native RocksDB snapshot with Flink's meta files, then the same with each subtask's handle
  // wrapped as the materialized part of a changelog handle (tag 14, no changes since): the dump
  // and the breakdown must give the same entries.
  std::filesystem::path root = std::filesystem::temp_directory_path() / "ckpt_test_changelog_rocks";
  std::filesystem::remove_all(root);
  testsupport::RocksSnapshotSpec spec;
  spec.db.flushes = 2;
  spec.db.keys_per_flush = 40;
  testsupport::RocksSnapshot snap = testsupport::write_rocks_snapshot(root, spec);
  auto dump = [](const std::filesystem::path& dir, std::vector<std::string>& lines) {
    snapshot::Location loc = snapshot::locate(dir / "_metadata");
    flink::Metadata md = flink::read_metadata_file(loc.metadata);
    ops::DumpResult r =
        ops::dump_state(md, loc, {}, ops::DumpRequest{}, [&](std::string_view l) { lines.emplace_back(l); });
    ckpt::StatesReport b = ops::state_breakdown(md, loc, {}, {});
    std::vector<std::string> problems = r.problems;
    problems.insert(problems.end(), b.problems().begin(), b.problems().end());
    int64_t entries = 0;
    for (const auto& row : b.states()) entries += row.entries();
    return std::make_pair(problems, entries);
  };
  std::vector<std::string> plain, wrapped;
  auto [plain_problems, plain_entries] = dump(snap.snapshot_dir, plain);
  CHECK(plain_problems.empty());
  REQUIRE(plain.size() > 100);

  flink::Metadata md = flink::read_metadata_file(snap.snapshot_dir / "_metadata");
  int wrapped_handles = 0;
  for (auto& op : md.operators) {
    for (auto& s : op.subtasks) {
      auto* inc = std::get_if<flink::IncrementalHandle>(&s.managed_keyed.body);
      if (!inc) continue;
      flink::ChangelogHandle cl;
      cl.range = inc->range;
      cl.checkpointed_size = inc->checkpointed_size;
      cl.materialization_id = 1;
      cl.checkpoint_id = md.checkpoint_id;
      cl.handle_id = md.intern("changelog-handle-" + std::to_string(s.index));
      cl.materialized.push_back(std::move(s.managed_keyed));
      s.managed_keyed = flink::KeyedHandle{};
      s.managed_keyed.tag = flink::keyed_tag::kChangelogV2;
      s.managed_keyed.body = std::move(cl);
      ++wrapped_handles;
    }
  }
  REQUIRE(wrapped_handles == spec.subtasks);
  io::write_file_atomically(snap.snapshot_dir / "_metadata", flink::write_metadata(md));
  auto [wrapped_problems, wrapped_entries] = dump(snap.snapshot_dir, wrapped);
  for (const auto& p : wrapped_problems) MESSAGE(p);
  CHECK(wrapped_problems.empty());
  CHECK(wrapped_entries == plain_entries);
  std::sort(plain.begin(), plain.end());
  std::sort(wrapped.begin(), wrapped.end());
  CHECK(wrapped == plain);
  std::filesystem::remove_all(root);
}
