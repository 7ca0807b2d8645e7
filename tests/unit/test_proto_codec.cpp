// The schema (formats/checkpoint.proto), the codec model <-> proto (lib/codec/proto_codec.h) and
// the JSON emitter (lib/codec/json.h): model -> proto -> JSON -> proto -> model -> _metadata must
// reproduce the original bytes, for every real fixture and for a synthetic model holding every
// handle kind; and bad input is refused with the path of the offending field.
#include <doctest/doctest.h>
#include <google/protobuf/arena.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <initializer_list>
#include <limits>
#include <memory>
#include <string>

#include "codec/json.h"
#include "codec/proto_codec.h"
#include "fixtures.h"
#include "flink/checkpoint_properties.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/byte_writer.h"
#include "io/file_bytes.h"

using namespace ckpt;
using google::protobuf::util::MessageDifferencer;

namespace {

bool contains(const std::string& s, std::string_view needle) { return s.find(needle) != std::string::npos; }

std::string diff(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  std::string report;
  MessageDifferencer d;
  d.ReportDifferencesToString(&report);
  d.Compare(a, b);
  return report.substr(0, 2000);
}

// protobuf's own parser reads the emitter's output back to the same message.
void check_json_parses_back(const ckpt::Metadata& pb, bool pretty) {
  std::string j = json::to_json(pb, pretty);
  ckpt::Metadata back;
  auto st = google::protobuf::util::JsonStringToMessage(j, &back);
  REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
  CHECK_MESSAGE(MessageDifferencer::Equals(pb, back), diff(pb, back));
}

// The full round trip of the brief plus the binary form: model -> proto -> JSON -> proto -> model
// -> bytes, and model -> proto -> binary -> proto -> model -> bytes.
void check_codec_round_trip(const flink::Metadata& md, const std::string& bytes) {
  ckpt::Metadata p1;
  REQUIRE_NOTHROW(codec::to_proto(md, p1));
  for (bool pretty : {false, true}) {
    CAPTURE(pretty);
    std::string j = json::to_json(p1, pretty);
    ckpt::Metadata p2;
    REQUIRE_NOTHROW(json::from_json(j, p2));
    CHECK_MESSAGE(MessageDifferencer::Equals(p1, p2), diff(p1, p2));
    flink::Metadata md2;
    REQUIRE_NOTHROW(md2 = codec::from_proto(p2));
    CHECK(flink::write_metadata(md2) == bytes);
  }
  std::string bin;
  REQUIRE(p1.SerializeToString(&bin));
  ckpt::Metadata p3;
  REQUIRE(p3.ParseFromString(bin));
  flink::Metadata md3 = codec::from_proto(p3);
  CHECK(flink::write_metadata(md3) == bytes);
  // proto -> model -> proto is a fixed point.
  ckpt::Metadata p4;
  codec::to_proto(md3, p4);
  CHECK_MESSAGE(MessageDifferencer::Equals(p1, p4), diff(p1, p4));
  // Without the derivable trailer bytes the codec re-encodes them from the properties.
  ckpt::Metadata p5;
  codec::to_proto(md, p5, {.lossless = true, .omit_derivable_trailer = true});
  if (md.trailer_state == flink::TrailerState::kParsed || md.trailer_state == flink::TrailerState::kNull) {
    CHECK(p5.trailer().empty());
  }
  ckpt::Metadata p6;
  json::from_json(json::to_json(p5, false), p6);
  CHECK(flink::write_metadata(codec::from_proto(p6)) == bytes);
}

// ---- building synthetic models ---------------------------------------------------------------

class Make {
 public:
  explicit Make(flink::Metadata& md) : md_(md) {}

  flink::Bytes s(std::string_view raw) { return raw.empty() ? flink::Bytes{} : md_.intern(std::string(raw)); }
  flink::I64Array offs(std::initializer_list<int64_t> v) {
    std::string raw;
    io::ByteWriter w(raw);
    for (int64_t x : v) w.i64(x);
    return flink::I64Array(s(raw));
  }
  flink::I64Array offs_n(int n, int64_t first) {
    std::string raw;
    io::ByteWriter w(raw);
    for (int i = 0; i < n; ++i) w.i64(first + 10 * i);
    return flink::I64Array(s(raw));
  }

  flink::StreamHandle inline_bytes(std::string_view name, std::string_view data) {
    flink::StreamHandle h;
    h.tag = flink::stream_tag::kByteStream;
    h.name = s(name);
    h.data = s(data);
    return h;
  }
  flink::StreamHandle file(std::string_view path, int64_t size) {
    flink::StreamHandle h;
    h.tag = flink::stream_tag::kFile;
    h.name = s(path);
    h.size = size;
    return h;
  }
  flink::StreamHandle relative(std::string_view path, int64_t size) {
    flink::StreamHandle h = file(path, size);
    h.tag = flink::stream_tag::kRelativeFile;
    return h;
  }
  flink::StreamHandle segment(std::string_view path, int64_t start, int64_t size, int32_t scope) {
    flink::StreamHandle h;
    h.tag = flink::stream_tag::kSegment;
    h.name = s(path);
    h.start = start;
    h.size = size;
    h.scope = scope;
    h.logical_id = s("6f2c3f8e-0000-4000-8000-00000000abcd");
    return h;
  }
  flink::StreamHandle empty_segment() {
    flink::StreamHandle h;
    h.tag = flink::stream_tag::kEmptySegment;
    return h;
  }
  flink::KeyGroupsHandle kg(int32_t start, int32_t count, flink::StreamHandle delegate, std::string_view id = "") {
    flink::KeyGroupsHandle k;
    k.range = {start, count};
    k.offsets = offs_n(count, 100);
    k.delegate = std::move(delegate);
    k.handle_id = s(id);
    return k;
  }
  flink::StreamHandle kg_stream(int32_t start, int32_t count) {
    flink::StreamHandle h;
    h.tag = flink::stream_tag::kKeyGroups;
    h.key_groups = flink::Box<flink::KeyGroupsHandle>(kg(start, count, relative("kg-nested", 999)));
    return h;
  }
  flink::KeyedHandle keyed(int8_t tag, auto body) {
    flink::KeyedHandle h;
    h.tag = tag;
    h.body = std::move(body);
    return h;
  }
  flink::IncrementalHandle incremental(bool v2) {
    flink::IncrementalHandle k;
    k.checkpoint_id = 41;
    k.backend_id = s("0b5a1e3c-1111-4222-8333-444455556666");
    k.range = {0, 64};
    k.checkpointed_size = v2 ? 12345 : 0;
    k.meta = file("file:/ckpt/job/chk-42/meta", 505);
    k.shared.push_back({s("000042.sst"), relative("sst-42", 10113)});
    k.shared.push_back({s("000043.sst"), segment("file:/ckpt/job/shared/merged-1", 128, 982, 1)});
    k.shared.push_back({s("000044.sst"), empty_segment()});
    k.private_files.push_back({s("MANIFEST-000004"), file("file:/ckpt/job/chk-42/manifest", 16)});
    k.private_files.push_back({s("OPTIONS-000009"), kg_stream(0, 2)});
    k.private_files.push_back({s("CURRENT"), {}});
    k.handle_id = v2 ? s("9a9a9a9a-1111-4222-8333-444455556666") : flink::Bytes{};
    return k;
  }
  flink::OperatorHandle op_handle(int8_t tag) {
    flink::OperatorHandle h;
    h.tag = tag;
    h.states.push_back({s("list-state"), 0, offs({10, 20, 30})});
    h.states.push_back({s("union-state"), 1, offs({40})});
    h.states.push_back({s("broadcast-st\xC3\xA4te"), 2, offs({50})});
    h.states.push_back({s("empty-list"), 0, {}});
    if (tag == flink::operator_tag::kFileMerging) {
      h.task_owned_dir = s("file:/ckpt/taskowned/tm-1");
      h.shared_dir = s("file:/ckpt/job/shared/subtask-0");
      h.is_empty = 1;
      h.delegate = segment("file:/ckpt/job/shared/merged-2", 0, 77, 0);
    } else {
      h.delegate = relative("op-state-file", 88);
    }
    return h;
  }
  flink::ChannelHandle channel(uint8_t type, int32_t subtask) {
    flink::ChannelHandle h;
    h.type = type;
    h.subtask_index = subtask;
    h.delegate = relative("channel-state", 4096);
    if (h.merged()) {
      h.channels.push_back({0, 1, 100, offs({4, 50})});
      h.channels.push_back({1, 0, 200, offs({150})});
      h.state_size = 300;
      h.delegate = inline_bytes("f3a1c2d4-inline-channel", std::string("\0\0\0\0abc", 7));
    } else {
      h.channels.push_back({2, 3, 64, offs({4})});
      h.state_size = 64;
    }
    return h;
  }

 private:
  flink::Metadata& md_;
};

flink::OperatorId op_id(uint8_t seed) {
  flink::OperatorId id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed * 17 + i * 29);
  return id;
}

// A V6 or V7 model holding every handle kind ckpt models (except the V1/V3-only layouts).
flink::Metadata every_handle_kind(int32_t version) {
  namespace kt = flink::keyed_tag;
  namespace ct = flink::channel_type;
  flink::Metadata md;
  Make m(md);
  md.version = version;
  md.checkpoint_id = 42;
  md.masters.push_back({3, m.s("master-hook \xC3\xB6"), m.s(std::string("\x00\x01\xFF payload", 11))});

  // Operator 0: names with non-ASCII characters (2-byte, a surrogate pair, NUL as C0 80),
  // coordinator state, operator handles of both tags, key-groups handles, every channel type.
  flink::OperatorState op0;
  op0.name = m.s("Source: K\xC3\xB6ln \xED\xA0\xBD\xED\xB8\x80 \xC0\x80 end");
  op0.uid = m.s("source-uid");
  op0.id = op_id(1);
  op0.parallelism = 2;
  op0.max_parallelism = 128;
  op0.coordinator = m.inline_bytes("coordinator-name", std::string("\x00\x00\x00\x02xy", 6));
  {
    flink::SubtaskState s;
    s.index = 0;
    s.managed_operator_flag = 1;
    s.managed_operator = m.op_handle(flink::operator_tag::kStream);
    s.raw_operator_flag = 1;
    s.raw_operator = m.op_handle(flink::operator_tag::kFileMerging);
    s.managed_keyed = m.keyed(
        kt::kKeyGroupsV2, m.kg(0, 4, m.file("file:/ckpt/job/chk-42/kg", 1000), "11111111-2222-4333-8444-555555555555"));
    s.raw_keyed = m.keyed(kt::kSavepointKeyGroups, m.kg(0, 4, m.inline_bytes("raw-kg", "raw keyed bytes")));
    s.input_channels.push_back(m.channel(ct::kInput, 0));
    s.input_channels.push_back(m.channel(ct::kMergedInput, 1));
    s.output_channels.push_back(m.channel(ct::kOutput, 0));
    s.output_channels.push_back(m.channel(ct::kMergedOutput, 0));
    s.ref_marker = version >= 7 ? 1 : 0;
    s.ref_checkpoint_id = version >= 7 ? 41 : 0;
    op0.subtasks.push_back(std::move(s));
    flink::SubtaskState fin;
    fin.index = 1;
    fin.finished = true;
    op0.subtasks.push_back(std::move(fin));
  }
  md.operators.push_back(std::move(op0));

  // Operator 1: incremental and changelog handles, unusual presence flags, a sparse subtask.
  flink::OperatorState op1;
  op1.uid = m.s("stateful-map");
  op1.id = op_id(2);
  op1.parallelism = 6;
  op1.max_parallelism = 256;
  {
    flink::SubtaskState s;
    s.index = 0;
    s.managed_operator_flag = 7;  // non-zero other than 1: legal on read
    s.managed_operator = m.op_handle(flink::operator_tag::kStream);
    s.raw_operator_flag = 1;  // a flag with a null handle after it
    s.managed_keyed = m.keyed(kt::kIncrementalV2, m.incremental(true));
    s.raw_keyed = m.keyed(kt::kIncrementalV1, m.incremental(false));
    if (version >= 7) s.ref_marker = 2;  // "none", but not 0
    op1.subtasks.push_back(std::move(s));
  }
  {
    flink::SubtaskState s;
    s.index = 1;
    flink::ChangelogHandle cl;
    cl.range = {64, 64};
    cl.checkpointed_size = 777;
    cl.materialized.push_back(m.keyed(kt::kKeyGroupsV2, m.kg(64, 3, m.relative("mat-kg", 300), "mat-id")));
    cl.materialized.push_back(flink::KeyedHandle{});  // a null entry
    cl.materialized.push_back(m.keyed(kt::kIncrementalV2, m.incremental(true)));
    flink::ChangelogBytesHandle bytes;
    bytes.range = {64, 64};
    bytes.from_sequence = 5;
    bytes.to_sequence = 9;
    bytes.changes.push_back({-1, m.s("meta change")});
    bytes.changes.push_back({70, m.s(std::string("\x00\x01", 2))});
    bytes.changes.push_back({71, {}});
    bytes.handle_id = m.s("bytes-id");
    cl.non_materialized.push_back(m.keyed(kt::kChangelogBytes, std::move(bytes)));
    flink::ChangelogFilesHandle files;
    files.range = {64, 64};
    files.handles.push_back({0, m.file("file:/dstl/a", 500)});
    files.handles.push_back({250, m.inline_bytes("dstl-inline", "zz")});
    files.state_size = 502;
    files.checkpointed_size = 2;
    files.handle_id = m.s("files-id");
    files.storage_id = m.s("filesystem");
    cl.non_materialized.push_back(m.keyed(kt::kChangelogFilesV2, files));
    files.storage_id = {};
    cl.non_materialized.push_back(m.keyed(kt::kChangelogFilesV1, files));
    cl.materialization_id = 3;
    cl.checkpoint_id = 42;
    cl.handle_id = m.s("changelog-id");
    s.managed_keyed = m.keyed(kt::kChangelogV2, cl);
    cl.checkpoint_id = 0;
    cl.materialized.resize(1);
    cl.materialized[0] = m.keyed(kt::kKeyGroups, m.kg(64, 2, m.relative("legacy-kg", 10)));
    s.raw_keyed = m.keyed(kt::kChangelogV1, std::move(cl));
    op1.subtasks.push_back(std::move(s));
  }
  {
    flink::SubtaskState s;  // sparse: entries for subtasks 0, 1 and 5 only
    s.index = 5;
    op1.subtasks.push_back(std::move(s));
  }
  md.operators.push_back(std::move(op1));

  // Operators 2 and 3: fully finished, with Flink's marker and with another negative one.
  flink::OperatorState op2;
  op2.id = op_id(3);
  op2.parallelism = 1;
  op2.max_parallelism = 1;
  op2.finished_marker = -1;
  md.operators.push_back(std::move(op2));
  flink::OperatorState op3;
  op3.name = m.s("sink");
  op3.id = op_id(4);
  op3.parallelism = 3;
  op3.max_parallelism = 128;
  op3.finished_marker = -5;
  md.operators.push_back(std::move(op3));

  md.trailer = m.s(flink::encode_properties_trailer(flink::savepoint_properties(
      flink::CheckpointProperties::Format::kNative, flink::CheckpointProperties::Action::kTerminate, true)));
  md.trailer_state = flink::parse_properties_trailer(md.trailer, md.properties);
  REQUIRE(md.trailer_state == flink::TrailerState::kParsed);
  return md;
}

// Writes `md`, parses it back (so that the model is exactly what the reader makes) and checks the
// writer's and the codec's round trips on it.
void check_synthetic(const flink::Metadata& md, const flink::ReadOptions& options = {}) {
  std::string bytes;
  REQUIRE_NOTHROW(bytes = flink::write_metadata(md));
  flink::Metadata parsed;
  REQUIRE_NOTHROW(parsed = flink::parse_metadata(bytes, "synthetic/_metadata", options));
  REQUIRE(flink::write_metadata(parsed) == bytes);
  check_codec_round_trip(parsed, bytes);
  check_codec_round_trip(md, bytes);  // the hand-built model converts the same way
  for (bool pretty : {false, true}) {
    ckpt::Metadata pb;
    codec::to_proto(parsed, pb);
    check_json_parses_back(pb, pretty);
  }
}

ckpt::Metadata proto_of(const flink::Metadata& md) {
  ckpt::Metadata pb;
  codec::to_proto(md, pb);
  return pb;
}

std::string from_proto_error(const ckpt::Metadata& pb) {
  try {
    codec::from_proto(pb);
  } catch (const codec::CodecError& e) {
    return e.what();
  }
  return "";
}

std::string to_proto_error(const flink::Metadata& md, bool lossless = true) {
  try {
    ckpt::Metadata pb;
    codec::to_proto(md, pb, {.lossless = lossless});
  } catch (const codec::CodecError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_SUITE("fixtures") {
  TEST_CASE("every fixture: model -> proto -> JSON -> proto -> model -> _metadata is byte-identical") {
    auto files = fixtures::all_metadata();
    REQUIRE(files.size() > 250);
    int checked = 0;
    int emitter_checked = 0;
    for (const auto& f : files) {
      CAPTURE(f.string());
      std::string bytes = io::read_file_bytes(f);
      flink::Metadata md;
      try {
        md = flink::parse_metadata(bytes, f.string());
      } catch (const flink::MetadataError&) {
        continue;  // refused files (version 0) are the reader's business
      }
      check_codec_round_trip(md, bytes);
      ++checked;
      // The emitter's output parses back to an equal message, and agrees with protobuf's own
      // printer (both parse to the same message).
      ckpt::Metadata pb = proto_of(md);
      check_json_parses_back(pb, false);
      check_json_parses_back(pb, true);
      std::string theirs;
      REQUIRE(google::protobuf::util::MessageToJsonString(pb, &theirs).ok());
      ckpt::Metadata a;
      ckpt::Metadata b;
      json::from_json(theirs, a);
      json::from_json(json::to_json(pb, false), b);
      CHECK(MessageDifferencer::Equals(a, b));
      ++emitter_checked;
    }
    MESSAGE("codec round trip on " << checked << " fixtures, emitter checked on " << emitter_checked);
    CHECK(checked > 250);
  }

  TEST_CASE("JSON of the worked example (spec §20)") {
    auto file = fixtures::root() / "type-serializer-snapshot-migration-itcase-flink1.16-hashmap-checkpoint/_metadata";
    flink::Metadata md = flink::read_metadata_file(file);
    std::string j = json::to_json(proto_of(md), false);
    CHECK(contains(j, R"("version":4,"checkpointId":2,"trailerState":"PARSED")"));
    CHECK(contains(j, R"("properties":{"kind":"CHECKPOINT","forced":false,"unclaimed":false,"discardCancelled":true)"));
    CHECK(contains(j,
                   R"("id":"20ba6b65f97481d5570070de90e4e791","name":"","uid":"","parallelism":1,"maxParallelism":1)"));
    CHECK(contains(j, R"("managedKeyed":{"tag":12,"keyGroups":{"range":{"start":0,"count":1},"offsets":[531])"));
    CHECK(contains(j, R"("delegate":{"relativeFile":{"path":"bb49315e-93ba-4924-9743-236feee8a484","size":609}})"));
    CHECK(contains(j, R"("name":"source-state","mode":"SPLIT_DISTRIBUTE","offsets":[198,215,237,263])"));
    CHECK(contains(j, R"("trailer":"rO0ABXNy)"));
    ckpt::Metadata brief;
    codec::to_proto(md, brief, {.omit_derivable_trailer = true});
    CHECK(contains(json::to_json(brief, false), R"("trailer":"",)"));  // every field is printed
  }
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("synthetic V6 and V7 models with every handle kind round-trip") {
  for (int32_t version : {6, 7}) {
    CAPTURE(version);
    check_synthetic(every_handle_kind(version));
  }
}

TEST_CASE("bytes after the last structure (Metadata::trailing) survive proto and JSON") {
  for (int32_t version : {6, 7}) {
    CAPTURE(version);
    flink::Metadata md = every_handle_kind(version);
    md.trailing = md.intern(std::string("\x00trailing\xFF", 10));
    check_synthetic(md);
    ckpt::Metadata pb;
    codec::to_proto(md, pb);
    CHECK(pb.trailing() == std::string("\x00trailing\xFF", 10));
    CHECK(contains(json::to_json(pb, false), "\"trailing\":\"AHRyYWlsaW5n/w==\""));
  }
}

TEST_CASE("synthetic legacy layouts round-trip: V1, V2, V3 of Flink 1.11, V4 unparsed, V5 null trailer") {
  namespace kt = flink::keyed_tag;
  SUBCASE("version 1: per-chain lists, chain length, duration") {
    flink::Metadata md;
    Make m(md);
    md.version = 1;
    md.checkpoint_id = 7;
    flink::OperatorState op;
    op.id = op_id(9);
    op.parallelism = 1;
    op.max_parallelism = 128;
    op.legacy_chain_length = 2;
    flink::SubtaskState s;
    s.legacy_duration = 1234;
    s.legacy_operator_states.push_back(m.inline_bytes("legacy", "bytes"));
    s.legacy_operator_states.push_back({});
    s.legacy_managed_chain.push_back(m.op_handle(flink::operator_tag::kStream));
    s.legacy_managed_chain.push_back({});
    s.legacy_raw_chain.push_back({});
    s.legacy_raw_chain.push_back(m.op_handle(flink::operator_tag::kStream));
    s.managed_keyed = m.keyed(kt::kKeyGroups, m.kg(0, 128, m.file("file:/old/kg", 5000)));
    op.subtasks.push_back(std::move(s));
    md.operators.push_back(std::move(op));
    check_synthetic(md);
  }
  SUBCASE("version 2: legacy fields as Flink writes them and otherwise") {
    flink::Metadata md;
    Make m(md);
    md.version = 2;
    md.checkpoint_id = 8;
    for (int i = 0; i < 2; ++i) {
      flink::OperatorState op;
      op.id = op_id(static_cast<uint8_t>(10 + i));
      op.parallelism = 1;
      op.max_parallelism = 128;
      op.legacy_chain_length = i == 0 ? 1 : 3;
      flink::SubtaskState s;
      s.legacy_duration = i == 0 ? -1 : 77;
      s.managed_keyed = m.keyed(kt::kIncrementalV1, m.incremental(false));
      op.subtasks.push_back(std::move(s));
      md.operators.push_back(std::move(op));
    }
    check_synthetic(md);
  }
  SUBCASE("version 3 written by Flink 1.11: channel handles without subtask index") {
    flink::Metadata md;
    Make m(md);
    md.version = 3;
    md.checkpoint_id = 9;
    flink::OperatorState op;
    op.id = op_id(12);
    op.parallelism = 1;
    op.max_parallelism = 128;
    flink::SubtaskState s;
    for (uint8_t t : {flink::channel_type::kUntypedInput, flink::channel_type::kUntypedOutput}) {
      flink::ChannelHandle h = m.channel(flink::channel_type::kInput, 0);
      h.type = t;
      h.has_subtask_index = false;
      (t == flink::channel_type::kUntypedInput ? s.input_channels : s.output_channels).push_back(h);
    }
    op.subtasks.push_back(std::move(s));
    md.operators.push_back(std::move(op));
    flink::ReadOptions options;
    options.channel_layout = flink::ReadOptions::ChannelLayout::kFlink111;
    check_synthetic(md, options);
    ckpt::Metadata pb = proto_of(md);
    CHECK(pb.operators(0).subtasks(0).input_channels(0).without_subtask_index());
    CHECK(pb.operators(0).subtasks(0).output_channels(0).type() == ckpt::ChannelHandle::UNTYPED_OUTPUT);
  }
  SUBCASE("version 4 with an unparsed trailer, version 5 with a null trailer") {
    for (int32_t version : {4, 5}) {
      CAPTURE(version);
      flink::Metadata md;
      Make m(md);
      md.version = version;
      md.checkpoint_id = 10;
      flink::OperatorState op;
      op.id = op_id(13);
      op.name = m.s(version == 5 ? "named" : "");
      op.parallelism = 1;
      op.max_parallelism = 1;
      op.coordinator = m.inline_bytes("0d0d", "coordinator");
      op.subtasks.emplace_back();
      md.operators.push_back(std::move(op));
      if (version == 4) {
        md.trailer =
            m.s(std::string("\xAC\xED\x00\x05\x74\x00\x03"
                            "abc",
                            10));  // TC_STRING "abc"
        md.trailer_state = flink::TrailerState::kUnparsed;
      } else {
        md.trailer = m.s(flink::encode_null_trailer());
        md.trailer_state = flink::TrailerState::kNull;
      }
      check_synthetic(md);
      ckpt::Metadata brief;
      codec::to_proto(md, brief, {.omit_derivable_trailer = true});
      CHECK(brief.trailer().empty() == (version == 5));
    }
  }
}

TEST_CASE("to_proto: the mapping of the conventions") {
  flink::Metadata md = every_handle_kind(7);
  ckpt::Metadata pb = proto_of(md);
  const ckpt::Subtask& s0 = pb.operators(0).subtasks(0);
  CHECK(s0.has_index());
  CHECK(s0.index() == 0);
  CHECK(!s0.has_managed_operator_flag());  // 1 with a handle: Flink's convention
  CHECK(!s0.has_legacy_duration());
  CHECK(s0.managed_operator().states(0).has_mode());
  CHECK(s0.ref_marker() == 1);
  CHECK(s0.ref_checkpoint_id() == 41);
  const ckpt::Subtask& s1 = pb.operators(1).subtasks(0);
  CHECK(s1.managed_operator_flag() == 7);
  CHECK(s1.has_raw_operator_flag());
  CHECK(s1.raw_operator_flag() == 1);
  CHECK(!s1.has_raw_operator());
  CHECK(s1.managed_keyed().tag() == 11);
  CHECK(s1.managed_keyed().incremental().shared_files(1).handle().segment().scope() == ckpt::SegmentHandle::SHARED);
  CHECK(s1.managed_keyed().incremental().shared_files(2).handle().has_empty_segment());
  CHECK(!s1.managed_keyed().incremental().private_files(2).has_handle());
  CHECK(pb.operators(1).subtasks(1).managed_keyed().changelog().materialized(1).tag() == 0);
  CHECK(pb.operators(2).fully_finished());
  CHECK(!pb.operators(2).has_finished_marker());
  CHECK(pb.operators(3).finished_marker() == -5);
  CHECK(pb.operators(0).name() == "Source: K\xC3\xB6ln \xF0\x9F\x98\x80 " + std::string(1, '\0') + " end");
  CHECK(pb.operators(0).id().size() == 32);
  CHECK(pb.properties().kind() == ckpt::Properties::SAVEPOINT);
  CHECK(pb.properties().format() == ckpt::Properties::NATIVE);
  CHECK(pb.properties().post_checkpoint_action() == ckpt::Properties::TERMINATE);
  CHECK(pb.properties().type_name() == "Terminate Savepoint");

  std::string j = json::to_json(pb, false);
  CHECK(contains(j, R"("index":0)"));
  CHECK(contains(j, R"("name":"Source: Köln 😀 \u0000 end")"));
  CHECK(contains(j, R"("type":"MERGED_INPUT")"));
  CHECK(contains(j, R"("keyGroup":-1,"data":"bWV0YSBjaGFuZ2U=")"));
  CHECK(contains(j, R"("fullyFinished":true,"finishedMarker":-5)"));
}

TEST_CASE("to_proto: strings UTF-8 cannot carry exactly") {
  auto with_name = [](std::string raw) {
    flink::Metadata md;
    md.version = 5;
    flink::OperatorState op;
    op.name = md.intern(std::move(raw));
    md.operators.push_back(std::move(op));
    return md;
  };
  SUBCASE("raw 0x00 byte") {
    std::string e = to_proto_error(with_name(std::string("a\0b", 3)));
    CHECK(contains(e, "operators[0].name: holds a raw 0x00 byte at byte 1, which Java would re-encode as C0 80"));
  }
  SUBCASE("unpaired high surrogate") {
    std::string e = to_proto_error(with_name("x\xED\xA0\xBDy"));
    CHECK(contains(e, "operators[0].name: holds an unpaired surrogate U+D83D at byte 1"));
  }
  SUBCASE("unpaired low surrogate") {
    std::string e = to_proto_error(with_name("\xED\xB8\x80"));
    CHECK(contains(e, "unpaired surrogate U+DE00 at byte 0"));
  }
  SUBCASE("non-shortest form") {
    std::string e = to_proto_error(with_name("\xC1\x81"));
    CHECK(contains(e, "non-shortest encoding of U+0041 at byte 0"));
  }
  SUBCASE("invalid modified UTF-8") {
    std::string e = to_proto_error(with_name("ok\xFF"));
    CHECK(contains(e, "operators[0].name: is not valid modified UTF-8: byte 2"));
  }
  SUBCASE("display mode converts instead") {
    for (std::string raw : {std::string("a\0b", 3), std::string("x\xED\xA0\xBDy"), std::string("ok\xFF\xC3")}) {
      CHECK(to_proto_error(with_name(raw), false).empty());
      ckpt::Metadata pb;
      codec::to_proto(with_name(raw), pb, {.lossless = false});
      check_json_parses_back(pb, false);
    }
    ckpt::Metadata pb;
    codec::to_proto(with_name("x\xED\xA0\xBDy\xFF"), pb, {.lossless = false});
    CHECK(pb.operators(0).name() == "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  }
  SUBCASE("paths name nested fields") {
    flink::Metadata md = every_handle_kind(6);
    auto& inc = std::get<flink::IncrementalHandle>(md.operators[1].subtasks[0].managed_keyed.body);
    inc.shared[1].local_path = md.intern(std::string("\0", 1));
    CHECK(contains(to_proto_error(md), "operators[1].subtasks[0].managedKeyed.incremental.sharedFiles[1].localPath: "));
    inc.shared[1].local_path = md.intern("ok");
    inc.shared[1].handle.name = md.intern("\xED\xA0\x80");
    CHECK(contains(to_proto_error(md),
                   "operators[1].subtasks[0].managedKeyed.incremental.sharedFiles[1].handle.segment.path: "));
  }
}

TEST_CASE("to_proto: inconsistent models are refused") {
  flink::Metadata md = every_handle_kind(6);
  SUBCASE("keyed tag without its body") {
    md.operators[0].subtasks[0].managed_keyed.tag = flink::keyed_tag::kIncrementalV2;
    CHECK(
        contains(to_proto_error(md), "operators[0].subtasks[0].managedKeyed.tag: keyed handle tag 11 does not carry"));
  }
  SUBCASE("unknown tags") {
    md.operators[0].subtasks[0].raw_keyed.tag = 4;
    CHECK(contains(to_proto_error(md), "operators[0].subtasks[0].rawKeyed.tag: 4 is not a keyed state handle tag"));
  }
  SUBCASE("unknown stream tag") {
    md.operators[0].coordinator.tag = 5;
    CHECK(contains(to_proto_error(md), "operators[0].coordinator: stream handle tag 5 is unknown"));
  }
}

TEST_CASE("from_proto: errors name the field path") {
  const ckpt::Metadata good = proto_of(every_handle_kind(6));
  REQUIRE(from_proto_error(good).empty());
  ckpt::Metadata pb = good;
  auto* sub = pb.mutable_operators(0)->mutable_subtasks(0);

  SUBCASE("operator id") {
    pb.mutable_operators(1)->set_id("abc");
    CHECK(from_proto_error(pb) == R"(operators[1].id: "abc" is not an operator id, expected exactly 32 hex digits)");
    pb.mutable_operators(1)->set_id("zz" + std::string(30, '0'));
    CHECK(contains(from_proto_error(pb), "operators[1].id: "));
    pb.mutable_operators(1)->set_id("ABCDEF0123456789ABCDEF0123456789");  // either case is accepted
    CHECK(from_proto_error(pb).empty());
  }
  SUBCASE("unknown keyed tag") {
    sub->mutable_managed_keyed()->set_tag(4);
    CHECK(
        contains(from_proto_error(pb), "operators[0].subtasks[0].managedKeyed.tag: 4 is not a keyed state handle tag"));
  }
  SUBCASE("keyed tag and body disagree") {
    sub->mutable_managed_keyed()->set_tag(11);
    CHECK(from_proto_error(pb) ==
          "operators[0].subtasks[0].managedKeyed.tag: 11 does not go with keyGroups, expected 3, 7 or 12");
  }
  SUBCASE("keyed tag without body, body without tag") {
    sub->mutable_managed_keyed()->clear_key_groups();
    CHECK(from_proto_error(pb) == "operators[0].subtasks[0].managedKeyed.keyGroups: is missing: tag 12 needs it");
    pb = good;
    pb.mutable_operators(0)->mutable_subtasks(0)->mutable_raw_keyed()->set_tag(0);
    CHECK(contains(from_proto_error(pb), "rawKeyed.tag: is missing (0, the null handle) but keyGroups is set"));
  }
  SUBCASE("nested keyed handles") {
    auto* cl = pb.mutable_operators(1)->mutable_subtasks(1)->mutable_managed_keyed()->mutable_changelog();
    cl->mutable_non_materialized(1)->set_tag(99);
    CHECK(contains(from_proto_error(pb), "operators[1].subtasks[1].managedKeyed.changelog.nonMaterialized[1].tag: 99"));
  }
  SUBCASE("operator handle tag") {
    sub->mutable_managed_operator()->set_tag(3);
    CHECK(contains(from_proto_error(pb),
                   "operators[0].subtasks[0].managedOperator.tag: 3 is not an operator state handle tag"));
    pb = good;
    auto* h = pb.mutable_operators(0)->mutable_subtasks(0)->mutable_raw_operator();
    h->set_tag(0);
    CHECK(
        contains(from_proto_error(pb), "rawOperator.tag: is missing (0, the null handle) but the handle has content"));
  }
  SUBCASE("distribution mode") {
    sub->mutable_managed_operator()->mutable_states(2)->set_mode(static_cast<ckpt::OperatorStateEntry::Mode>(5));
    CHECK(contains(from_proto_error(pb), "operators[0].subtasks[0].managedOperator.states[2].mode: 5 is unknown"));
  }
  SUBCASE("offsets per key group") {
    sub->mutable_managed_keyed()->mutable_key_groups()->add_offsets(1);
    CHECK(from_proto_error(pb) ==
          "operators[0].subtasks[0].managedKeyed.keyGroups.offsets: has 5 entries for a "
          "range of 4 key groups, expected one per key group");
  }
  SUBCASE("channel type of the wrong list, single channel with two entries") {
    sub->mutable_input_channels(0)->set_type(ckpt::ChannelHandle::OUTPUT);
    CHECK(from_proto_error(pb) ==
          "operators[0].subtasks[0].inputChannels[0].type: OUTPUT is an output channel type, "
          "but the handle is in inputChannels");
    pb = good;
    auto* c = pb.mutable_operators(0)->mutable_subtasks(0)->mutable_output_channels(0);
    *c->add_channels() = c->channels(0);
    CHECK(contains(from_proto_error(pb), "operators[0].subtasks[0].outputChannels[0].channels: has 2 entries"));
    pb = good;
    pb.mutable_operators(0)->mutable_subtasks(0)->mutable_input_channels(1)->set_type(
        static_cast<ckpt::ChannelHandle::Type>(9));
    CHECK(contains(from_proto_error(pb), "inputChannels[1].type: 9 is unknown"));
  }
  SUBCASE("values wider than the model's fields") {
    sub->set_ref_marker(300);
    CHECK(from_proto_error(pb) == "operators[0].subtasks[0].refMarker: 300 does not fit in one byte, expected 0..255");
    pb = good;
    pb.mutable_operators(0)->mutable_subtasks(0)->mutable_raw_operator()->set_is_empty(256);
    CHECK(contains(from_proto_error(pb), "rawOperator.isEmpty: 256 does not fit in one byte"));
  }
  SUBCASE("fully finished operators") {
    pb.mutable_operators(0)->set_fully_finished(true);
    CHECK(
        contains(from_proto_error(pb), "operators[0].subtasks: has 2 entries, but a fully finished operator has none"));
    pb = good;
    pb.mutable_operators(2)->set_finished_marker(3);
    CHECK(contains(from_proto_error(pb), "operators[2].finishedMarker: 3 contradicts fullyFinished true"));
  }
  SUBCASE("trailer") {
    pb.set_trailer_state(ckpt::Metadata::UNPARSED);
    CHECK(from_proto_error(pb).empty());  // unparsed bytes are kept as they are
    pb.clear_trailer();
    CHECK(contains(from_proto_error(pb), "trailer: is required when trailerState is UNPARSED"));
    pb = good;
    pb.mutable_properties()->set_forced(false);
    CHECK(contains(from_proto_error(pb), "properties: differ from the properties the trailer bytes encode"));
    pb.clear_trailer();  // now the properties are re-encoded
    flink::Metadata md = codec::from_proto(pb);
    flink::CheckpointProperties props;
    REQUIRE(flink::parse_properties_trailer(md.trailer, props) == flink::TrailerState::kParsed);
    CHECK(!props.forced);
    CHECK(props.action == flink::CheckpointProperties::Action::kTerminate);
    CHECK(md.properties.type_name == "Terminate Savepoint");
    pb = good;
    pb.set_trailer("garbage");
    CHECK(contains(from_proto_error(pb), "trailer: is not a Java serialization stream of one object"));
    pb = good;
    pb.set_trailer_state(static_cast<ckpt::Metadata::TrailerState>(7));
    CHECK(contains(from_proto_error(pb), "trailerState: 7 is unknown"));
    pb = good;
    pb.mutable_properties()->set_kind(static_cast<ckpt::Properties::Kind>(9));
    CHECK(contains(from_proto_error(pb), "properties.kind: 9 is unknown"));
  }
  SUBCASE("structural rules of the reader") {
    pb.set_checkpoint_id(-1);
    CHECK(from_proto_error(pb) == "checkpointId: is -1, expected >= 0");
    pb = good;
    pb.mutable_operators(0)->mutable_subtasks(1)->set_index(-2);
    CHECK(from_proto_error(pb) == "operators[0].subtasks[1].index: is -2, expected >= 0");
    pb = good;
    pb.mutable_operators(0)->mutable_coordinator()->mutable_relative_file()->set_path("x");
    CHECK(contains(from_proto_error(pb), "operators[0].coordinator: must be a byteStream handle"));
    pb = good;
    *pb.mutable_operators(2)->mutable_coordinator() = good.operators(0).coordinator();
    CHECK(contains(from_proto_error(pb), "operators[2].coordinator: is set, but a fully finished operator"));
    pb = good;
    pb.mutable_operators(0)
        ->mutable_subtasks(0)
        ->mutable_managed_keyed()
        ->mutable_key_groups()
        ->mutable_range()
        ->set_count(-1);
    CHECK(contains(from_proto_error(pb), "operators[0].subtasks[0].managedKeyed.keyGroups.range.count: is -1"));
    pb = good;
    auto* cl = pb.mutable_operators(1)->mutable_subtasks(1)->mutable_managed_keyed()->mutable_changelog();
    *cl->mutable_non_materialized(0) = cl->materialized(0);
    CHECK(from_proto_error(pb) ==
          "operators[1].subtasks[1].managedKeyed.changelog.nonMaterialized[0].tag: 12 is not a "
          "changelog increment, expected 9, 10 or 13");
    pb = good;
    auto* raw = pb.mutable_operators(0)->mutable_subtasks(0)->mutable_raw_operator();
    raw->mutable_delegate()->mutable_relative_file()->set_path("x");
    CHECK(contains(from_proto_error(pb), "rawOperator.delegate: must be a segment or emptySegment handle"));
  }
  SUBCASE("nesting is bounded") {
    ckpt::KeyedHandle deep;
    deep.set_tag(12);
    deep.mutable_key_groups()->mutable_range()->set_count(0);
    for (int i = 0; i < 40; ++i) {
      ckpt::KeyedHandle outer;
      outer.set_tag(14);
      *outer.mutable_changelog()->add_materialized() = deep;
      deep = outer;
    }
    *sub->mutable_managed_keyed() = deep;
    CHECK(contains(from_proto_error(pb), "handles are nested more than 32 levels deep"));
  }
  SUBCASE("strings that are not UTF-8") {
    pb.mutable_masters(0)->set_name("bad \xFF");
    CHECK(from_proto_error(pb) == "masters[0].name: is not valid UTF-8");
  }
  SUBCASE("absent optional fields take Flink's conventions") {
    sub->clear_index();
    sub->clear_managed_operator_flag();
    sub->mutable_input_channels(0)->clear_type();
    sub->mutable_input_channels(0)->clear_subtask_index();
    pb.set_version(5);  // untyped channels are V3-V5
    pb.mutable_operators(0)->mutable_subtasks(0)->clear_ref_marker();
    flink::Metadata md = codec::from_proto(pb);
    const flink::SubtaskState& s = md.operators[0].subtasks[0];
    CHECK(s.index == 0);
    CHECK(s.managed_operator_flag == 1);
    CHECK(s.legacy_duration == -1);
    CHECK(md.operators[0].legacy_chain_length == 1);
    CHECK(s.input_channels[0].type == flink::channel_type::kUntypedInput);
    CHECK(md.operators[2].finished_marker == -1);
  }
}

TEST_CASE("JSON: the proto3 mapping") {
  ckpt::Metadata pb;
  pb.set_version(4);
  pb.set_checkpoint_id(-9007199254740993LL);
  pb.set_trailer("\x01\x02\x03\x04\x05", 5);
  auto* m = pb.add_masters();
  m->set_name("q\"b\\s/\b\f\n\r\t\x01\x1F\x7F é \xE2\x80\xA8 \xF0\x9F\x98\x80 bad:\xC3");
  m->set_payload(std::string("\xFF\x00", 2));
  pb.add_masters()->set_payload("abc");
  pb.add_masters()->set_payload("abcd");
  auto* op = pb.add_operators();
  op->set_id("00000000000000000000000000000000");
  auto* st = op->add_subtasks();
  st->set_index(0);
  auto* e = st->mutable_managed_operator();
  e->set_tag(4);
  e->add_states()->set_mode(ckpt::OperatorStateEntry::SPLIT_DISTRIBUTE);
  e->add_states()->set_mode(static_cast<ckpt::OperatorStateEntry::Mode>(42));
  e->mutable_states(0)->add_offsets(std::numeric_limits<int64_t>::min());
  e->mutable_states(0)->add_offsets(std::numeric_limits<int64_t>::max());
  st->set_ref_checkpoint_id(0);  // default: printed all the same

  std::string j = json::to_json(pb, false);
  CHECK(contains(
      j, R"({"version":4,"checkpointId":-9007199254740993,"trailerState":"ABSENT","trailer":"AQIDBAU=","masters":[)"));
  CHECK(contains(j, R"("name":"q\"b\\s/\b\f\n\r\t\u0001\u001f)"));
  CHECK(contains(j, "\x7F é \\u2028 \xF0\x9F\x98\x80 bad:\\ufffd\""));
  CHECK(contains(j, R"("payload":"/wA=")"));
  CHECK(contains(j, R"({"version":0,"name":"","payload":"YWJj"},{"version":0,"name":"","payload":"YWJjZA=="})"));
  CHECK(contains(
      j,
      R"("managedOperator":{"tag":4,"states":[{"name":"","mode":"SPLIT_DISTRIBUTE","offsets":[-9223372036854775808,9223372036854775807]},{"name":"","mode":42,"offsets":[]}])"));
  CHECK(contains(j, R"("refCheckpointId":0)"));
  // Parses back; the invalid UTF-8 byte became U+FFFD, so compare after fixing it up.
  ckpt::Metadata back;
  json::from_json(j, back);
  ckpt::Metadata expect = pb;
  std::string name = expect.masters(0).name();
  name.back() = '?';
  name.replace(name.size() - 1, 1, "\xEF\xBF\xBD");
  expect.mutable_masters(0)->set_name(name);
  CHECK_MESSAGE(MessageDifferencer::Equals(expect, back), diff(expect, back));

  std::string pretty = json::to_json(pb, true);
  CHECK(pretty.substr(0, 34) == "{\n  \"version\": 4,\n  \"checkpointId\"");
  CHECK(contains(pretty, "\"offsets\": [-9223372036854775808, 9223372036854775807]"));
  ckpt::Metadata back2;
  json::from_json(pretty, back2);
  CHECK(MessageDifferencer::Equals(back, back2));
  CHECK(json::to_json(ckpt::EmptySegmentHandle(), true) == "{}");
  CHECK(contains(json::to_json(ckpt::Metadata(), false), R"("operators":[],"trailing":"")"));
}

TEST_CASE("JSON: streaming output equals the string output") {
  flink::Metadata md = every_handle_kind(7);
  ckpt::Metadata pb = proto_of(md);
  for (int i = 0; i < 200; ++i) *pb.add_operators() = pb.operators(i % 4);  // > 64 KiB of JSON
  for (bool pretty : {false, true}) {
    std::string whole = json::to_json(pb, pretty);
    REQUIRE(whole.size() > 3 * 64 * 1024);
    std::string streamed;
    int pieces = 0;
    json::write_json(pb, pretty, [&](std::string_view piece) {
      streamed.append(piece);
      ++pieces;
    });
    CHECK(pieces > 2);
    CHECK(streamed == whole);
  }
}

TEST_CASE("JSON: a streamed repeated field prints the bytes of the whole message") {
  flink::Metadata md = every_handle_kind(7);
  ckpt::Metadata pb = proto_of(md);
  for (int i = 0; i < 200; ++i) *pb.add_operators() = pb.operators(i % 4);  // > 64 KiB of JSON
  const auto* r = pb.GetReflection();
  // masters: a field is printed after it; operators: the last field.
  for (const char* name : {"masters", "operators"}) {
    const auto* f = pb.GetDescriptor()->FindFieldByName(name);
    const int total = r->FieldSize(pb, f);
    REQUIRE(total > 0);
    for (bool pretty : {false, true}) {
      for (int n : {0, 1, total}) {
        ckpt::Metadata whole = pb, head = pb;
        while (r->FieldSize(whole, f) > n) r->RemoveLast(&whole, f);
        r->ClearField(&head, f);
        std::string streamed;
        int next = 0;
        json::write_json(
            head, pretty, name,
            [&](google::protobuf::Message& element) {
              if (next == n) return false;
              CHECK(element.ByteSizeLong() == 0);  // handed over cleared
              element.CopyFrom(r->GetRepeatedMessage(pb, f, next++));
              return true;
            },
            [&](std::string_view piece) { streamed.append(piece); });
        CHECK_MESSAGE(streamed == json::to_json(whole, pretty), name, " pretty ", pretty, ", ", n, " elements");
      }
    }
  }
  // The streamed field must be empty in the message.
  CHECK_THROWS(json::write_json(
      pb, false, "operators", [](google::protobuf::Message&) { return false; }, [](std::string_view) {}));
}

TEST_CASE("JSON: parse errors are one line naming the problem") {
  ckpt::Metadata pb;
  auto error = [&](std::string_view text) {
    try {
      json::from_json(text, pb);
    } catch (const json::JsonError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string e = error(R"({"version": 4, "checkpointId": "x"})");
  CHECK(contains(e, "invalid JSON for ckpt.Metadata: "));
  CHECK(contains(e, "checkpoint_id"));
  CHECK(contains(e, R"(invalid value "x")"));
  CHECK(e.find('\n') == std::string::npos);
  CHECK(contains(error(R"({"versions": 4})"), "versions"));
  CHECK(!error("{\"version\": 4,\n").empty());
  CHECK(error(R"({"version": 4, "operators": [{"id": "ab"}]})").empty());
}

TEST_CASE("to_proto on an arena") {
  flink::Metadata md = every_handle_kind(6);
  google::protobuf::Arena arena;
  ckpt::Metadata* pb = codec::to_proto(md, &arena);
  CHECK(pb->GetArena() == &arena);
  CHECK(MessageDifferencer::Equals(*pb, proto_of(md)));
  std::unique_ptr<ckpt::Metadata> heap(codec::to_proto(md, nullptr));
  CHECK(MessageDifferencer::Equals(*heap, *pb));
}
