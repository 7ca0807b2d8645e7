// proto -> model (codec/proto_codec.h: from_proto).
#include "codec/proto_codec.h"

#include <utility>

#include "codec/proto_codec_internal.h"
#include "flink/checkpoint_properties.h"
#include "flink/operator_id.h"
#include "io/byte_writer.h"
#include "io/decode_error.h"
#include "io/mutf8.h"

namespace ckpt::codec {
namespace {

namespace fl = ::ckpt::flink;
namespace pb = ::ckpt;
using detail::at;
using detail::fail;
using detail::Failure;
using detail::same_properties;

class FromProto {
 public:
  explicit FromProto(fl::Metadata& md) : md_(md) {}

  void metadata(const pb::Metadata& in) {
    md_.version = in.version();
    md_.checkpoint_id = in.checkpoint_id();
    if (md_.checkpoint_id < 0) fail("checkpointId", fmt::format("is {}, expected >= 0", md_.checkpoint_id));
    int st = in.trailer_state();
    if (st < 0 || st > 3)
      fail("trailerState", fmt::format("{} is unknown, expected ABSENT, NULL, PARSED or UNPARSED", st));
    md_.trailer_state = static_cast<fl::TrailerState>(st);
    if (in.has_properties()) at("properties", [&] { properties(in.properties(), md_.properties); });
    trailer(in);
    md_.trailing = bytes(in.trailing());
    md_.masters.reserve(static_cast<std::size_t>(in.masters_size()));
    for (int i = 0; i < in.masters_size(); ++i) {
      at("masters", i, [&] {
        const pb::MasterState& m = in.masters(i);
        fl::MasterState& o = md_.masters.emplace_back();
        o.version = m.version();
        o.name = str(m.name(), "name");
        o.payload = bytes(m.payload());
      });
    }
    md_.operators.reserve(static_cast<std::size_t>(in.operators_size()));
    for (int i = 0; i < in.operators_size(); ++i) {
      at("operators", i, [&] { operator_state(in.operators(i), md_.operators.emplace_back()); });
    }
  }

 private:
  // ---- primitives ----
  fl::Bytes str(const std::string& utf8, const char* field) {
    if (utf8.empty()) return {};
    if (io::is_plain_ascii(utf8)) return md_.intern(utf8);
    std::string m = io::utf8_to_mutf8(utf8);
    if (io::mutf8_to_utf8(m) != utf8) fail(field, "is not valid UTF-8");
    return md_.intern(std::move(m));
  }

  fl::Bytes bytes(const std::string& b) { return b.empty() ? fl::Bytes{} : md_.intern(b); }

  fl::I64Array offsets(const google::protobuf::RepeatedField<int64_t>& values) {
    if (values.empty()) return {};
    std::string raw;
    raw.reserve(static_cast<std::size_t>(values.size()) * 8);
    io::ByteWriter w(raw);
    for (int64_t v : values) w.i64(v);
    return fl::I64Array(md_.intern(std::move(raw)));
  }

  static uint8_t u8(uint32_t v, const char* field) {
    if (v > 0xFF) fail(field, fmt::format("{} does not fit in one byte, expected 0..255", v));
    return static_cast<uint8_t>(v);
  }

  static fl::KeyGroupRange range(const pb::KeyGroupRange& r) {
    if (r.count() < 0) fail("range.count", fmt::format("is {}, expected >= 0", r.count()));
    return {r.start(), r.count()};
  }

  // Handles nest through changelog composites and nested key-groups streams; Flink nests at most
  // a few levels. The bound keeps a hostile message from exhausting the stack.
  static constexpr int kMaxDepth = 32;
  struct Nest {
    explicit Nest(int& depth) : d(depth) {
      if (++d > kMaxDepth) {
        --d;
        fail("", fmt::format("handles are nested more than {} levels deep", kMaxDepth));
      }
    }
    ~Nest() { --d; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    int& d;
  };
  int depth_ = 0;

  // ---- trailer ----
  void properties(const pb::Properties& p, fl::CheckpointProperties& out) {
    using P = fl::CheckpointProperties;
    if (p.has_kind()) {
      if (p.kind() < 0 || p.kind() > 2)
        fail("kind", fmt::format("{} is unknown, expected CHECKPOINT, FULL_CHECKPOINT or SAVEPOINT",
                                 static_cast<int>(p.kind())));
      out.kind = static_cast<P::Kind>(p.kind());
    }
    if (p.has_format()) {
      if (p.format() < 0 || p.format() > 1)
        fail("format", fmt::format("{} is unknown, expected CANONICAL or NATIVE", static_cast<int>(p.format())));
      out.format = static_cast<P::Format>(p.format());
    }
    if (p.has_post_checkpoint_action()) {
      int a = p.post_checkpoint_action();
      if (a < 0 || a > 2)
        fail("postCheckpointAction", fmt::format("{} is unknown, expected NONE, SUSPEND or TERMINATE", a));
      out.action = static_cast<P::Action>(a);
    }
    out.forced = p.forced();
    out.unclaimed = p.unclaimed();
    out.discard_cancelled = p.discard_cancelled();
    out.discard_failed = p.discard_failed();
    out.discard_finished = p.discard_finished();
    out.discard_subsumed = p.discard_subsumed();
    out.discard_suspended = p.discard_suspended();
    out.type_name = p.type_name();
    out.sharing_strategy = p.sharing_strategy();
  }

  void trailer(const pb::Metadata& in) {
    const fl::TrailerState st = md_.trailer_state;
    if (!in.trailer().empty()) {
      md_.trailer = bytes(in.trailer());
      if (st == fl::TrailerState::kNull && md_.trailer != fl::encode_null_trailer()) {
        fail("trailer", "is not AC ED 00 05 70, the null trailer that trailerState NULL says it is");
      }
      if (st == fl::TrailerState::kParsed) {
        fl::CheckpointProperties parsed;
        fl::TrailerState got{};
        try {
          got = fl::parse_properties_trailer(md_.trailer, parsed);
        } catch (const io::DecodeError& e) {
          fail("trailer", fmt::format("is not a Java serialization stream of one object (byte {}: {}), but "
                                      "trailerState is PARSED",
                                      e.offset(), e.message()));
        }
        if (got != fl::TrailerState::kParsed) {
          fail("trailerState",
               fmt::format("is PARSED, but ckpt classifies the trailer bytes as {}", fl::describe(got)));
        }
        if (!in.has_properties()) {
          md_.properties = parsed;
        } else if (!same_properties(parsed, md_.properties)) {
          fail("properties",
               "differ from the properties the trailer bytes encode; remove the trailer to re-encode "
               "it from the properties");
        }
      }
      return;
    }
    switch (st) {
      case fl::TrailerState::kAbsent:
        return;
      case fl::TrailerState::kNull:
        md_.trailer = md_.intern(fl::encode_null_trailer());
        return;
      case fl::TrailerState::kUnparsed:
        fail("trailer", "is required when trailerState is UNPARSED: ckpt cannot re-encode a trailer it does not parse");
      case fl::TrailerState::kParsed: {
        std::string encoded;
        try {
          encoded = fl::encode_properties_trailer(md_.properties);
        } catch (const std::exception& e) {
          fail("properties", fmt::format("cannot be encoded as a trailer: {}", e.what()));
        }
        md_.trailer = md_.intern(std::move(encoded));
        // Re-read what was written, so that the output-only fields (typeName) describe the bytes.
        fl::CheckpointProperties reread;
        if (fl::parse_properties_trailer(md_.trailer, reread) != fl::TrailerState::kParsed) {
          fail("properties", "encode to a trailer that ckpt does not parse back");
        }
        md_.properties = reread;
        return;
      }
    }
  }

  // ---- handles ----
  fl::StreamHandle stream(const pb::StreamHandle& in) {
    Nest nest(depth_);
    fl::StreamHandle h;
    switch (in.kind_case()) {
      case pb::StreamHandle::KIND_NOT_SET:
        break;
      case pb::StreamHandle::kByteStream:
        h.tag = fl::stream_tag::kByteStream;
        at("byteStream", [&] {
          h.name = str(in.byte_stream().name(), "name");
          h.data = bytes(in.byte_stream().data());
        });
        break;
      case pb::StreamHandle::kFile:
        h.tag = fl::stream_tag::kFile;
        at("file", [&] { h.name = str(in.file().path(), "path"); });
        h.size = in.file().size();
        break;
      case pb::StreamHandle::kRelativeFile:
        h.tag = fl::stream_tag::kRelativeFile;
        at("relativeFile", [&] { h.name = str(in.relative_file().path(), "path"); });
        h.size = in.relative_file().size();
        break;
      case pb::StreamHandle::kKeyGroups:
        h.tag = fl::stream_tag::kKeyGroups;
        at("keyGroups", [&] { h.key_groups = fl::Box<fl::KeyGroupsHandle>(key_groups(in.key_groups())); });
        break;
      case pb::StreamHandle::kSegment: {
        const pb::SegmentHandle& s = in.segment();
        h.tag = fl::stream_tag::kSegment;
        at("segment", [&] {
          h.name = str(s.path(), "path");
          h.logical_id = str(s.logical_id(), "logicalId");
        });
        h.start = s.start();
        h.size = s.size();
        h.scope = s.scope();
        break;
      }
      case pb::StreamHandle::kEmptySegment:
        h.tag = fl::stream_tag::kEmptySegment;
        break;
    }
    return h;
  }

  fl::StreamHandle optional_stream(bool has, const pb::StreamHandle& in, const char* field) {
    if (!has) return {};
    return at(field, [&] { return stream(in); });
  }

  fl::KeyGroupsHandle key_groups(const pb::KeyGroupsHandle& in) {
    fl::KeyGroupsHandle k;
    k.range = range(in.range());
    int64_t want = std::max<int64_t>(k.range.count, 0);
    if (in.offsets_size() != want) {
      fail("offsets", fmt::format("has {} entries for a range of {} key groups, expected one per key group",
                                  in.offsets_size(), want));
    }
    k.offsets = offsets(in.offsets());
    k.delegate = optional_stream(in.has_delegate(), in.delegate(), "delegate");
    k.handle_id = str(in.handle_id(), "handleId");
    return k;
  }

  std::vector<fl::NamedStream> named_streams(const google::protobuf::RepeatedPtrField<pb::NamedStream>& in,
                                             const char* field) {
    std::vector<fl::NamedStream> out;
    out.reserve(static_cast<std::size_t>(in.size()));
    for (int i = 0; i < in.size(); ++i) {
      at(field, i, [&] {
        fl::NamedStream& ns = out.emplace_back();
        ns.local_path = str(in[i].local_path(), "localPath");
        ns.handle = optional_stream(in[i].has_handle(), in[i].handle(), "handle");
      });
    }
    return out;
  }

  static const char* member_name(pb::KeyedHandle::KindCase c) {
    switch (c) {
      case pb::KeyedHandle::kKeyGroups:
        return "keyGroups";
      case pb::KeyedHandle::kIncremental:
        return "incremental";
      case pb::KeyedHandle::kChangelog:
        return "changelog";
      case pb::KeyedHandle::kChangelogBytes:
        return "changelogBytes";
      case pb::KeyedHandle::kChangelogFiles:
        return "changelogFiles";
      case pb::KeyedHandle::KIND_NOT_SET:
        break;
    }
    return "(none)";
  }

  static const char* tags_of(pb::KeyedHandle::KindCase c) {
    switch (c) {
      case pb::KeyedHandle::kKeyGroups:
        return "3, 7 or 12";
      case pb::KeyedHandle::kIncremental:
        return "5 or 11";
      case pb::KeyedHandle::kChangelog:
        return "8 or 14";
      case pb::KeyedHandle::kChangelogBytes:
        return "9";
      case pb::KeyedHandle::kChangelogFiles:
        return "10 or 13";
      case pb::KeyedHandle::KIND_NOT_SET:
        break;
    }
    return "0";
  }

  fl::KeyedHandle keyed(const pb::KeyedHandle& in) {
    Nest nest(depth_);
    namespace kt = fl::keyed_tag;
    using K = pb::KeyedHandle;
    const int32_t tag = in.tag();
    K::KindCase want;
    switch (tag) {
      case kt::kNull:
        want = K::KIND_NOT_SET;
        break;
      case kt::kKeyGroups:
      case kt::kSavepointKeyGroups:
      case kt::kKeyGroupsV2:
        want = K::kKeyGroups;
        break;
      case kt::kIncrementalV1:
      case kt::kIncrementalV2:
        want = K::kIncremental;
        break;
      case kt::kChangelogV1:
      case kt::kChangelogV2:
        want = K::kChangelog;
        break;
      case kt::kChangelogBytes:
        want = K::kChangelogBytes;
        break;
      case kt::kChangelogFilesV1:
      case kt::kChangelogFilesV2:
        want = K::kChangelogFiles;
        break;
      default:
        fail("tag",
             fmt::format("{} is not a keyed state handle tag, expected 3, 5, 7, 8, 9, 10, 11, 12, 13 or 14", tag));
    }
    if (in.kind_case() != want) {
      if (want == K::KIND_NOT_SET) {
        fail("tag", fmt::format("is missing (0, the null handle) but {} is set, expected {}",
                                member_name(in.kind_case()), tags_of(in.kind_case())));
      }
      if (in.kind_case() == K::KIND_NOT_SET) {
        fail(member_name(want), fmt::format("is missing: tag {} needs it", tag));
      }
      fail("tag", fmt::format("{} does not go with {}, expected {}", tag, member_name(in.kind_case()),
                              tags_of(in.kind_case())));
    }
    fl::KeyedHandle h;
    h.tag = static_cast<int8_t>(tag);
    switch (want) {
      case K::KIND_NOT_SET:
        break;
      case K::kKeyGroups:
        h.body = at("keyGroups", [&] { return key_groups(in.key_groups()); });
        break;
      case K::kIncremental:
        h.body = at("incremental", [&] { return incremental(in.incremental()); });
        break;
      case K::kChangelog:
        h.body = at("changelog", [&] { return changelog(in.changelog()); });
        break;
      case K::kChangelogBytes:
        h.body = at("changelogBytes", [&] { return changelog_bytes(in.changelog_bytes()); });
        break;
      case K::kChangelogFiles:
        h.body = at("changelogFiles", [&] { return changelog_files(in.changelog_files()); });
        break;
    }
    return h;
  }

  fl::IncrementalHandle incremental(const pb::IncrementalHandle& in) {
    fl::IncrementalHandle k;
    k.checkpoint_id = in.checkpoint_id();
    k.backend_id = str(in.backend_id(), "backendId");
    k.range = range(in.range());
    k.checkpointed_size = in.checkpointed_size();
    k.meta = optional_stream(in.has_meta(), in.meta(), "meta");
    k.shared = named_streams(in.shared_files(), "sharedFiles");
    k.private_files = named_streams(in.private_files(), "privateFiles");
    k.handle_id = str(in.handle_id(), "handleId");
    return k;
  }

  fl::ChangelogHandle changelog(const pb::ChangelogHandle& in) {
    fl::ChangelogHandle k;
    k.range = range(in.range());
    k.checkpointed_size = in.checkpointed_size();
    k.materialized.reserve(static_cast<std::size_t>(in.materialized_size()));
    for (int i = 0; i < in.materialized_size(); ++i) {
      k.materialized.push_back(at("materialized", i, [&] { return keyed(in.materialized(i)); }));
    }
    k.non_materialized.reserve(static_cast<std::size_t>(in.non_materialized_size()));
    for (int i = 0; i < in.non_materialized_size(); ++i) {
      k.non_materialized.push_back(at("nonMaterialized", i, [&] {
        fl::KeyedHandle h = keyed(in.non_materialized(i));
        namespace kt = fl::keyed_tag;
        if (h.tag != kt::kChangelogBytes && h.tag != kt::kChangelogFilesV1 && h.tag != kt::kChangelogFilesV2) {
          fail("tag", fmt::format("{} is not a changelog increment, expected 9, 10 or 13", h.tag));
        }
        return h;
      }));
    }
    k.materialization_id = in.materialization_id();
    k.checkpoint_id = in.checkpoint_id();
    k.handle_id = str(in.handle_id(), "handleId");
    return k;
  }

  fl::ChangelogBytesHandle changelog_bytes(const pb::ChangelogBytesHandle& in) {
    fl::ChangelogBytesHandle k;
    k.range = range(in.range());
    k.from_sequence = in.from_sequence();
    k.to_sequence = in.to_sequence();
    k.changes.reserve(static_cast<std::size_t>(in.changes_size()));
    for (const pb::ChangelogChange& c : in.changes()) k.changes.push_back({c.key_group(), bytes(c.data())});
    k.handle_id = str(in.handle_id(), "handleId");
    return k;
  }

  fl::ChangelogFilesHandle changelog_files(const pb::ChangelogFilesHandle& in) {
    fl::ChangelogFilesHandle k;
    k.range = range(in.range());
    k.handles.reserve(static_cast<std::size_t>(in.handles_size()));
    for (int i = 0; i < in.handles_size(); ++i) {
      at("handles", i, [&] {
        const pb::OffsetStream& os = in.handles(i);
        k.handles.push_back({os.offset(), optional_stream(os.has_handle(), os.handle(), "handle")});
      });
    }
    k.state_size = in.state_size();
    k.checkpointed_size = in.checkpointed_size();
    k.handle_id = str(in.handle_id(), "handleId");
    k.storage_id = str(in.storage_id(), "storageId");
    return k;
  }

  fl::OperatorHandle operator_handle(const pb::OperatorHandle& in) {
    fl::OperatorHandle h;
    const int32_t tag = in.tag();
    if (tag == fl::operator_tag::kNull) {
      if (in.states_size() > 0 || in.has_delegate() || !in.task_owned_dir().empty() || !in.shared_dir().empty() ||
          in.is_empty() != 0) {
        fail("tag", "is missing (0, the null handle) but the handle has content, expected 4 or 17");
      }
      return h;
    }
    if (tag != fl::operator_tag::kStream && tag != fl::operator_tag::kFileMerging) {
      fail("tag", fmt::format("{} is not an operator state handle tag, expected 4 or 17", tag));
    }
    h.tag = static_cast<int8_t>(tag);
    h.states.reserve(static_cast<std::size_t>(in.states_size()));
    for (int i = 0; i < in.states_size(); ++i) {
      at("states", i, [&] {
        const pb::OperatorStateEntry& e = in.states(i);
        fl::OperatorStateEntry& o = h.states.emplace_back();
        o.name = str(e.name(), "name");
        int mode = e.mode();
        if (mode < 0 || mode > 2) {
          fail("mode", fmt::format("{} is unknown, expected SPLIT_DISTRIBUTE, UNION or BROADCAST", mode));
        }
        o.mode = static_cast<int8_t>(mode);
        o.offsets = offsets(e.offsets());
      });
    }
    h.delegate = optional_stream(in.has_delegate(), in.delegate(), "delegate");
    if (h.tag == fl::operator_tag::kFileMerging && h.delegate.tag != fl::stream_tag::kSegment &&
        h.delegate.tag != fl::stream_tag::kEmptySegment) {
      fail("delegate", "must be a segment or emptySegment handle in a file-merging (tag 17) operator handle");
    }
    h.task_owned_dir = str(in.task_owned_dir(), "taskOwnedDir");
    h.shared_dir = str(in.shared_dir(), "sharedDir");
    h.is_empty = u8(in.is_empty(), "isEmpty");
    return h;
  }

  fl::ChannelHandle channel(const pb::ChannelHandle& in, bool input) {
    namespace ct = fl::channel_type;
    fl::ChannelHandle h;
    if (in.has_type()) {
      int t = in.type();
      bool known = t == ct::kUntypedInput || t == ct::kInput || t == ct::kOutput || t == ct::kMergedInput ||
                   t == ct::kMergedOutput || t == ct::kUntypedOutput;
      if (!known) {
        fail("type", fmt::format("{} is unknown, expected UNTYPED_INPUT, INPUT, OUTPUT, MERGED_INPUT, MERGED_OUTPUT or "
                                 "UNTYPED_OUTPUT",
                                 t));
      }
      h.type = static_cast<uint8_t>(t);
      if (h.input() != input) {
        fail("type",
             fmt::format("{} is an {} channel type, but the handle is in {}", pb::ChannelHandle::Type_Name(in.type()),
                         input ? "output" : "input", input ? "inputChannels" : "outputChannels"));
      }
    } else {
      h.type = input ? ct::kUntypedInput : ct::kUntypedOutput;
    }
    h.has_subtask_index = !in.without_subtask_index();
    h.subtask_index = in.subtask_index();
    h.state_size = in.state_size();
    h.delegate = optional_stream(in.has_delegate(), in.delegate(), "delegate");
    if (!h.merged() && in.channels_size() != 1) {
      fail("channels", fmt::format("has {} entries, but a single (not merged) channel handle describes exactly one",
                                   in.channels_size()));
    }
    h.channels.reserve(static_cast<std::size_t>(in.channels_size()));
    for (const pb::ChannelInfo& c : in.channels()) {
      h.channels.push_back({c.gate_or_partition(), c.channel_or_subpartition(), c.state_size(), offsets(c.offsets())});
    }
    return h;
  }

  void subtask(const pb::Subtask& in, fl::SubtaskState& s) {
    s.index = in.index();
    if (s.index < 0) fail("index", fmt::format("is {}, expected >= 0", s.index));
    s.finished = in.finished();
    if (in.has_legacy_duration()) s.legacy_duration = in.legacy_duration();
    for (int i = 0; i < in.legacy_operator_states_size(); ++i) {
      s.legacy_operator_states.push_back(
          at("legacyOperatorStates", i, [&] { return stream(in.legacy_operator_states(i)); }));
    }
    for (int i = 0; i < in.legacy_managed_chain_size(); ++i) {
      s.legacy_managed_chain.push_back(
          at("legacyManagedChain", i, [&] { return operator_handle(in.legacy_managed_chain(i)); }));
    }
    for (int i = 0; i < in.legacy_raw_chain_size(); ++i) {
      s.legacy_raw_chain.push_back(at("legacyRawChain", i, [&] { return operator_handle(in.legacy_raw_chain(i)); }));
    }
    if (in.has_managed_operator()) {
      s.managed_operator = at("managedOperator", [&] { return operator_handle(in.managed_operator()); });
    }
    s.managed_operator_flag = in.has_managed_operator_flag() ? in.managed_operator_flag()
                              : in.has_managed_operator()    ? 1
                                                             : 0;
    if (in.has_raw_operator()) s.raw_operator = at("rawOperator", [&] { return operator_handle(in.raw_operator()); });
    s.raw_operator_flag = in.has_raw_operator_flag() ? in.raw_operator_flag() : in.has_raw_operator() ? 1 : 0;
    if (in.has_managed_keyed()) s.managed_keyed = at("managedKeyed", [&] { return keyed(in.managed_keyed()); });
    if (in.has_raw_keyed()) s.raw_keyed = at("rawKeyed", [&] { return keyed(in.raw_keyed()); });
    s.input_channels.reserve(static_cast<std::size_t>(in.input_channels_size()));
    for (int i = 0; i < in.input_channels_size(); ++i) {
      s.input_channels.push_back(at("inputChannels", i, [&] { return channel(in.input_channels(i), true); }));
    }
    s.output_channels.reserve(static_cast<std::size_t>(in.output_channels_size()));
    for (int i = 0; i < in.output_channels_size(); ++i) {
      s.output_channels.push_back(at("outputChannels", i, [&] { return channel(in.output_channels(i), false); }));
    }
    s.ref_marker = u8(in.ref_marker(), "refMarker");
    s.ref_checkpoint_id = in.ref_checkpoint_id();
  }

  void operator_state(const pb::Operator& in, fl::OperatorState& op) {
    auto id = fl::parse_operator_id(in.id());
    if (!id) {
      fail("id", fmt::format("\"{}\" is not an operator id, expected exactly 32 hex digits",
                             in.id().size() > 40 ? in.id().substr(0, 40) + "..." : in.id()));
    }
    op.id = *id;
    op.name = str(in.name(), "name");
    op.uid = str(in.uid(), "uid");
    op.parallelism = in.parallelism();
    op.max_parallelism = in.max_parallelism();
    if (in.has_legacy_chain_length()) op.legacy_chain_length = in.legacy_chain_length();
    op.coordinator = optional_stream(in.has_coordinator(), in.coordinator(), "coordinator");
    if (op.coordinator.tag != fl::stream_tag::kNull && op.coordinator.tag != fl::stream_tag::kByteStream) {
      fail("coordinator", "must be a byteStream handle: coordinator state is always inline");
    }
    op.finished_marker = in.has_finished_marker() ? in.finished_marker() : in.fully_finished() ? -1 : 0;
    if ((op.finished_marker < 0) != in.fully_finished()) {
      fail("finishedMarker", fmt::format("{} contradicts fullyFinished {}: a fully finished operator has a marker < 0",
                                         op.finished_marker, in.fully_finished()));
    }
    if (in.fully_finished() && in.subtasks_size() > 0) {
      fail("subtasks", fmt::format("has {} entries, but a fully finished operator has none", in.subtasks_size()));
    }
    if (in.fully_finished() && in.has_coordinator()) {
      fail("coordinator", "is set, but a fully finished operator has no coordinator state");
    }
    op.subtasks.reserve(static_cast<std::size_t>(in.subtasks_size()));
    for (int i = 0; i < in.subtasks_size(); ++i) {
      at("subtasks", i, [&] { subtask(in.subtasks(i), op.subtasks.emplace_back()); });
    }
  }

  fl::Metadata& md_;
};

}  // namespace

flink::Metadata from_proto(const ckpt::Metadata& pb) {
  flink::Metadata md;
  try {
    FromProto(md).metadata(pb);
  } catch (Failure& f) {
    throw CodecError(std::move(f.path), f.problem);
  }
  return md;
}

}  // namespace ckpt::codec
