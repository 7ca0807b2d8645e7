// model -> proto (codec/proto_codec.h: to_proto, large_arena_options).
#include "codec/proto_codec.h"

#include <google/protobuf/arena.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

#include "codec/proto_codec_internal.h"
#include "flink/checkpoint_properties.h"
#include "flink/operator_id.h"
#include "io/mutf8.h"
#include "util/large_alloc.h"

namespace ckpt::codec {
namespace {

namespace fl = ::ckpt::flink;
namespace pb = ::ckpt;
using detail::at;
using detail::fail;
using detail::Failure;
using detail::same_properties;

bool is_valid_utf8(std::string_view s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return io::mutf8_to_utf8(io::utf8_to_mutf8(s)) == s;
  }
  return true;
}

class ToProto {
 public:
  explicit ToProto(const ToProtoOptions& options) : opt_(options) {}

  void metadata(const fl::Metadata& md, pb::Metadata& out) {
    out.set_version(md.version);
    out.set_checkpoint_id(md.checkpoint_id);
    out.set_trailer_state(static_cast<pb::Metadata::TrailerState>(md.trailer_state));
    if (md.trailer_state == fl::TrailerState::kParsed || !same_properties(md.properties, {})) {
      at("properties", [&] { properties(md.properties, *out.mutable_properties()); });
    }
    if (!md.trailer.empty() && !(opt_.omit_derivable_trailer && derivable_trailer(md))) {
      out.set_trailer(md.trailer.data(), md.trailer.size());
    }
    if (!md.trailing.empty()) out.set_trailing(md.trailing.data(), md.trailing.size());
    out.mutable_masters()->Reserve(static_cast<int>(md.masters.size()));
    for (std::size_t i = 0; i < md.masters.size(); ++i) {
      at("masters", static_cast<std::ptrdiff_t>(i), [&] {
        const fl::MasterState& m = md.masters[i];
        pb::MasterState& o = *out.add_masters();
        o.set_version(m.version);
        str(o, &pb::MasterState::mutable_name, m.name, "name");
        if (!m.payload.empty()) o.set_payload(m.payload.data(), m.payload.size());
      });
    }
    if (opt_.skip_operators) return;
    out.mutable_operators()->Reserve(static_cast<int>(md.operators.size()));
    for (std::size_t i = 0; i < md.operators.size(); ++i) one_operator(md.operators[i], i, *out.add_operators());
  }

  void one_operator(const fl::OperatorState& op, std::size_t i, pb::Operator& out) {
    at("operators", static_cast<std::ptrdiff_t>(i), [&] { operator_state(op, out); });
  }

 private:
  static bool derivable_trailer(const fl::Metadata& md) {
    try {
      if (md.trailer_state == fl::TrailerState::kNull) return md.trailer == fl::encode_null_trailer();
      if (md.trailer_state == fl::TrailerState::kParsed)
        return md.trailer == fl::encode_properties_trailer(md.properties);
    } catch (const std::exception&) {
    }
    return false;
  }

  void properties(const fl::CheckpointProperties& p, pb::Properties& out) {
    out.set_kind(static_cast<pb::Properties::Kind>(p.kind));
    bool savepoint = p.kind == fl::CheckpointProperties::Kind::kSavepoint;
    if (savepoint || p.format != fl::CheckpointProperties::Format::kCanonical) {
      out.set_format(static_cast<pb::Properties::Format>(p.format));
    }
    if (savepoint || p.action != fl::CheckpointProperties::Action::kNone) {
      out.set_post_checkpoint_action(static_cast<pb::Properties::Action>(p.action));
    }
    out.set_forced(p.forced);
    out.set_unclaimed(p.unclaimed);
    out.set_discard_cancelled(p.discard_cancelled);
    out.set_discard_failed(p.discard_failed);
    out.set_discard_finished(p.discard_finished);
    out.set_discard_subsumed(p.discard_subsumed);
    out.set_discard_suspended(p.discard_suspended);
    utf8_str(p.type_name, "typeName", [&](std::string v) { out.set_type_name(std::move(v)); });
    utf8_str(p.sharing_strategy, "sharingStrategy", [&](std::string v) { out.set_sharing_strategy(std::move(v)); });
  }

  // A std::string of the model that is UTF-8 already (the parsed Java strings of the trailer).
  template <typename Set>
  void utf8_str(const std::string& s, const char* field, Set&& set) {
    if (s.empty()) return;
    if (is_valid_utf8(s)) return set(s);
    if (opt_.lossless) fail(field, "is not valid UTF-8");
    set(io::mutf8_to_utf8(io::utf8_to_mutf8(s)));
  }

  // Sets a string field from modified UTF-8 bytes (nothing for empty bytes: the proto3 default).
  template <typename M>
  void str(M& msg, std::string* (M::*mut)(), fl::Bytes s, const char* field) {
    if (s.empty()) return;
    if (io::is_plain_ascii(s)) {
      (msg.*mut)()->assign(s.data(), s.size());
      return;
    }
    if (auto problem = io::check_mutf8(s)) {
      if (opt_.lossless) {
        fail(field,
             fmt::format("is not valid modified UTF-8: byte {}: expected {}", problem->offset, problem->message));
      }
      *(msg.*mut)() = io::lenient_mutf8_to_utf8(s);
      return;
    }
    std::string u = io::mutf8_to_utf8(s);
    if (opt_.lossless && io::utf8_to_mutf8(u) != s) fail(field, io::describe_utf8_loss(s));
    *(msg.*mut)() = std::move(u);
  }

  static void offsets(const fl::I64Array& a, google::protobuf::RepeatedField<int64_t>& out) {
    if (a.empty()) return;
    out.Reserve(static_cast<int>(a.size()));
    for (std::size_t i = 0; i < a.size(); ++i) out.AddAlreadyReserved(a[i]);
  }

  static void range(const fl::KeyGroupRange& r, pb::KeyGroupRange& out) {
    out.set_start(r.start);
    out.set_count(r.count);
  }

  void stream(const fl::StreamHandle& h, pb::StreamHandle& out) {
    switch (h.tag) {
      case fl::stream_tag::kNull:
        return;
      case fl::stream_tag::kByteStream:
        at("byteStream", [&] {
          pb::ByteStreamHandle& b = *out.mutable_byte_stream();
          str(b, &pb::ByteStreamHandle::mutable_name, h.name, "name");
          if (!h.data.empty()) b.set_data(h.data.data(), h.data.size());
        });
        return;
      case fl::stream_tag::kFile:
      case fl::stream_tag::kRelativeFile: {
        bool abs = h.tag == fl::stream_tag::kFile;
        at(abs ? "file" : "relativeFile", [&] {
          pb::FileHandle& f = abs ? *out.mutable_file() : *out.mutable_relative_file();
          str(f, &pb::FileHandle::mutable_path, h.name, "path");
          f.set_size(h.size);
        });
        return;
      }
      case fl::stream_tag::kKeyGroups:
        at("keyGroups", [&] {
          if (!h.key_groups) fail("", "stream handle tag 3 has no key-groups handle");
          key_groups(*h.key_groups, *out.mutable_key_groups());
        });
        return;
      case fl::stream_tag::kSegment:
        at("segment", [&] {
          pb::SegmentHandle& s = *out.mutable_segment();
          str(s, &pb::SegmentHandle::mutable_path, h.name, "path");
          s.set_start(h.start);
          s.set_size(h.size);
          s.set_scope(static_cast<pb::SegmentHandle::Scope>(h.scope));
          str(s, &pb::SegmentHandle::mutable_logical_id, h.logical_id, "logicalId");
        });
        return;
      case fl::stream_tag::kEmptySegment:
        out.mutable_empty_segment();
        return;
      default:
        fail("", fmt::format("stream handle tag {} is unknown", h.tag));
    }
  }

  void key_groups(const fl::KeyGroupsHandle& k, pb::KeyGroupsHandle& out) {
    range(k.range, *out.mutable_range());
    offsets(k.offsets, *out.mutable_offsets());
    if (!k.delegate.is_null()) at("delegate", [&] { stream(k.delegate, *out.mutable_delegate()); });
    str(out, &pb::KeyGroupsHandle::mutable_handle_id, k.handle_id, "handleId");
  }

  void named_streams(const std::vector<fl::NamedStream>& in, google::protobuf::RepeatedPtrField<pb::NamedStream>& out,
                     const char* field) {
    out.Reserve(static_cast<int>(in.size()));
    for (std::size_t i = 0; i < in.size(); ++i) {
      at(field, static_cast<std::ptrdiff_t>(i), [&] {
        pb::NamedStream& o = *out.Add();
        str(o, &pb::NamedStream::mutable_local_path, in[i].local_path, "localPath");
        if (!in[i].handle.is_null()) at("handle", [&] { stream(in[i].handle, *o.mutable_handle()); });
      });
    }
  }

  template <typename T>
  static const T& body(const fl::KeyedHandle& h, const char* what) {
    const T* b = std::get_if<T>(&h.body);
    if (!b) fail("tag", fmt::format("keyed handle tag {} does not carry the {} body that tag needs", h.tag, what));
    return *b;
  }

  void keyed(const fl::KeyedHandle& h, pb::KeyedHandle& out) {
    namespace kt = fl::keyed_tag;
    if (h.tag == kt::kNull) return;
    out.set_tag(h.tag);
    switch (h.tag) {
      case kt::kKeyGroups:
      case kt::kSavepointKeyGroups:
      case kt::kKeyGroupsV2: {
        const auto& k = body<fl::KeyGroupsHandle>(h, "key-groups");
        at("keyGroups", [&] { key_groups(k, *out.mutable_key_groups()); });
        return;
      }
      case kt::kIncrementalV1:
      case kt::kIncrementalV2: {
        const auto& k = body<fl::IncrementalHandle>(h, "incremental");
        at("incremental", [&] {
          pb::IncrementalHandle& o = *out.mutable_incremental();
          o.set_checkpoint_id(k.checkpoint_id);
          str(o, &pb::IncrementalHandle::mutable_backend_id, k.backend_id, "backendId");
          range(k.range, *o.mutable_range());
          o.set_checkpointed_size(k.checkpointed_size);
          if (!k.meta.is_null()) at("meta", [&] { stream(k.meta, *o.mutable_meta()); });
          named_streams(k.shared, *o.mutable_shared_files(), "sharedFiles");
          named_streams(k.private_files, *o.mutable_private_files(), "privateFiles");
          str(o, &pb::IncrementalHandle::mutable_handle_id, k.handle_id, "handleId");
        });
        return;
      }
      case kt::kChangelogV1:
      case kt::kChangelogV2: {
        const auto& k = body<fl::ChangelogHandle>(h, "changelog");
        at("changelog", [&] {
          pb::ChangelogHandle& o = *out.mutable_changelog();
          range(k.range, *o.mutable_range());
          o.set_checkpointed_size(k.checkpointed_size);
          for (std::size_t i = 0; i < k.materialized.size(); ++i) {
            at("materialized", static_cast<std::ptrdiff_t>(i),
               [&] { keyed(k.materialized[i], *o.add_materialized()); });
          }
          for (std::size_t i = 0; i < k.non_materialized.size(); ++i) {
            at("nonMaterialized", static_cast<std::ptrdiff_t>(i),
               [&] { keyed(k.non_materialized[i], *o.add_non_materialized()); });
          }
          o.set_materialization_id(k.materialization_id);
          o.set_checkpoint_id(k.checkpoint_id);
          str(o, &pb::ChangelogHandle::mutable_handle_id, k.handle_id, "handleId");
        });
        return;
      }
      case kt::kChangelogBytes: {
        const auto& k = body<fl::ChangelogBytesHandle>(h, "changelog bytes");
        at("changelogBytes", [&] {
          pb::ChangelogBytesHandle& o = *out.mutable_changelog_bytes();
          range(k.range, *o.mutable_range());
          o.set_from_sequence(k.from_sequence);
          o.set_to_sequence(k.to_sequence);
          o.mutable_changes()->Reserve(static_cast<int>(k.changes.size()));
          for (const auto& c : k.changes) {
            pb::ChangelogChange& oc = *o.add_changes();
            oc.set_key_group(c.key_group);
            if (!c.data.empty()) oc.set_data(c.data.data(), c.data.size());
          }
          str(o, &pb::ChangelogBytesHandle::mutable_handle_id, k.handle_id, "handleId");
        });
        return;
      }
      case kt::kChangelogFilesV1:
      case kt::kChangelogFilesV2: {
        const auto& k = body<fl::ChangelogFilesHandle>(h, "changelog files");
        at("changelogFiles", [&] {
          pb::ChangelogFilesHandle& o = *out.mutable_changelog_files();
          range(k.range, *o.mutable_range());
          o.mutable_handles()->Reserve(static_cast<int>(k.handles.size()));
          for (std::size_t i = 0; i < k.handles.size(); ++i) {
            at("handles", static_cast<std::ptrdiff_t>(i), [&] {
              pb::OffsetStream& os = *o.add_handles();
              os.set_offset(k.handles[i].offset);
              if (!k.handles[i].handle.is_null())
                at("handle", [&] { stream(k.handles[i].handle, *os.mutable_handle()); });
            });
          }
          o.set_state_size(k.state_size);
          o.set_checkpointed_size(k.checkpointed_size);
          str(o, &pb::ChangelogFilesHandle::mutable_handle_id, k.handle_id, "handleId");
          str(o, &pb::ChangelogFilesHandle::mutable_storage_id, k.storage_id, "storageId");
        });
        return;
      }
      default:
        fail("tag", fmt::format("{} is not a keyed state handle tag", h.tag));
    }
  }

  void operator_handle(const fl::OperatorHandle& h, pb::OperatorHandle& out) {
    if (h.tag == fl::operator_tag::kNull) return;
    if (h.tag != fl::operator_tag::kStream && h.tag != fl::operator_tag::kFileMerging) {
      fail("tag", fmt::format("{} is not an operator state handle tag", h.tag));
    }
    out.set_tag(h.tag);
    out.mutable_states()->Reserve(static_cast<int>(h.states.size()));
    for (std::size_t i = 0; i < h.states.size(); ++i) {
      at("states", static_cast<std::ptrdiff_t>(i), [&] {
        const fl::OperatorStateEntry& e = h.states[i];
        pb::OperatorStateEntry& o = *out.add_states();
        str(o, &pb::OperatorStateEntry::mutable_name, e.name, "name");
        o.set_mode(static_cast<pb::OperatorStateEntry::Mode>(e.mode));
        offsets(e.offsets, *o.mutable_offsets());
      });
    }
    if (!h.delegate.is_null()) at("delegate", [&] { stream(h.delegate, *out.mutable_delegate()); });
    str(out, &pb::OperatorHandle::mutable_task_owned_dir, h.task_owned_dir, "taskOwnedDir");
    str(out, &pb::OperatorHandle::mutable_shared_dir, h.shared_dir, "sharedDir");
    out.set_is_empty(h.is_empty);
  }

  void channel(const fl::ChannelHandle& h, pb::ChannelHandle& out) {
    out.set_type(static_cast<pb::ChannelHandle::Type>(h.type));
    out.set_subtask_index(h.subtask_index);
    out.set_without_subtask_index(!h.has_subtask_index);
    out.set_state_size(h.state_size);
    if (!h.delegate.is_null()) at("delegate", [&] { stream(h.delegate, *out.mutable_delegate()); });
    out.mutable_channels()->Reserve(static_cast<int>(h.channels.size()));
    for (const fl::ChannelInfo& c : h.channels) {
      pb::ChannelInfo& o = *out.add_channels();
      o.set_gate_or_partition(c.a);
      o.set_channel_or_subpartition(c.b);
      o.set_state_size(c.state_size);
      offsets(c.offsets, *o.mutable_offsets());
    }
  }

  void channels(const std::vector<fl::ChannelHandle>& in, google::protobuf::RepeatedPtrField<pb::ChannelHandle>& out,
                const char* field) {
    out.Reserve(static_cast<int>(in.size()));
    for (std::size_t i = 0; i < in.size(); ++i) {
      at(field, static_cast<std::ptrdiff_t>(i), [&] { channel(in[i], *out.Add()); });
    }
  }

  void subtask(const fl::SubtaskState& s, pb::Subtask& out) {
    out.set_index(s.index);
    out.set_finished(s.finished);
    if (s.legacy_duration != -1) out.set_legacy_duration(s.legacy_duration);
    for (std::size_t i = 0; i < s.legacy_operator_states.size(); ++i) {
      at("legacyOperatorStates", static_cast<std::ptrdiff_t>(i),
         [&] { stream(s.legacy_operator_states[i], *out.add_legacy_operator_states()); });
    }
    for (std::size_t i = 0; i < s.legacy_managed_chain.size(); ++i) {
      at("legacyManagedChain", static_cast<std::ptrdiff_t>(i),
         [&] { operator_handle(s.legacy_managed_chain[i], *out.add_legacy_managed_chain()); });
    }
    for (std::size_t i = 0; i < s.legacy_raw_chain.size(); ++i) {
      at("legacyRawChain", static_cast<std::ptrdiff_t>(i),
         [&] { operator_handle(s.legacy_raw_chain[i], *out.add_legacy_raw_chain()); });
    }
    bool managed = !s.managed_operator.is_null();
    if (managed) at("managedOperator", [&] { operator_handle(s.managed_operator, *out.mutable_managed_operator()); });
    if (s.managed_operator_flag != (managed ? 1 : 0)) out.set_managed_operator_flag(s.managed_operator_flag);
    bool raw = !s.raw_operator.is_null();
    if (raw) at("rawOperator", [&] { operator_handle(s.raw_operator, *out.mutable_raw_operator()); });
    if (s.raw_operator_flag != (raw ? 1 : 0)) out.set_raw_operator_flag(s.raw_operator_flag);
    if (!s.managed_keyed.is_null()) at("managedKeyed", [&] { keyed(s.managed_keyed, *out.mutable_managed_keyed()); });
    if (!s.raw_keyed.is_null()) at("rawKeyed", [&] { keyed(s.raw_keyed, *out.mutable_raw_keyed()); });
    channels(s.input_channels, *out.mutable_input_channels(), "inputChannels");
    channels(s.output_channels, *out.mutable_output_channels(), "outputChannels");
    out.set_ref_marker(s.ref_marker);
    out.set_ref_checkpoint_id(s.ref_checkpoint_id);
  }

  void operator_state(const fl::OperatorState& op, pb::Operator& out) {
    out.set_id(fl::to_hex(op.id));
    str(out, &pb::Operator::mutable_name, op.name, "name");
    str(out, &pb::Operator::mutable_uid, op.uid, "uid");
    out.set_parallelism(op.parallelism);
    out.set_max_parallelism(op.max_parallelism);
    if (op.legacy_chain_length != 1) out.set_legacy_chain_length(op.legacy_chain_length);
    if (!op.coordinator.is_null()) at("coordinator", [&] { stream(op.coordinator, *out.mutable_coordinator()); });
    bool fully = op.finished_marker < 0;
    out.set_fully_finished(fully);
    if (op.finished_marker != (fully ? -1 : 0)) out.set_finished_marker(op.finished_marker);
    out.mutable_subtasks()->Reserve(static_cast<int>(op.subtasks.size()));
    for (std::size_t i = 0; i < op.subtasks.size(); ++i) {
      at("subtasks", static_cast<std::ptrdiff_t>(i), [&] { subtask(op.subtasks[i], *out.add_subtasks()); });
    }
  }

  const ToProtoOptions& opt_;
};

// ---- arena blocks ----------------------------------------------------------------------------
// Blocks of a huge page or more come from util::allocate_large (2 MiB aligned, huge-page backed);
// smaller ones, and every block in sanitizer builds (heap memory is what a sanitizer tracks), from
// malloc.

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CKPT_PLAIN_ARENA_BLOCKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define CKPT_PLAIN_ARENA_BLOCKS 1
#endif
#endif

void* arena_block_alloc(std::size_t n) {
#ifndef CKPT_PLAIN_ARENA_BLOCKS
  if (n >= util::kHugePage) return util::allocate_large(n);
#endif
  if (void* p = std::malloc(n)) return p;
  throw std::bad_alloc();
}

void arena_block_dealloc(void* p, [[maybe_unused]] std::size_t n) {
#ifndef CKPT_PLAIN_ARENA_BLOCKS
  if (n >= util::kHugePage) {
    util::free_large(p, n);
    return;
  }
#endif
  std::free(p);
}

}  // namespace

google::protobuf::ArenaOptions large_arena_options() {
  google::protobuf::ArenaOptions o;
  o.start_block_size = util::kHugePage;
  o.max_block_size = 16 * util::kHugePage;
  o.block_alloc = &arena_block_alloc;
  o.block_dealloc = &arena_block_dealloc;
  return o;
}

void to_proto(const flink::Metadata& md, ckpt::Metadata& out, const ToProtoOptions& options) {
  out.Clear();
  try {
    ToProto(options).metadata(md, out);
  } catch (Failure& f) {
    throw CodecError(std::move(f.path), f.problem);
  }
}

void operator_to_proto(const flink::OperatorState& op, std::size_t index, ckpt::Operator& out,
                       const ToProtoOptions& options) {
  out.Clear();
  try {
    ToProto(options).one_operator(op, index, out);
  } catch (Failure& f) {
    throw CodecError(std::move(f.path), f.problem);
  }
}

ckpt::Metadata* to_proto(const flink::Metadata& md, google::protobuf::Arena* arena, const ToProtoOptions& options) {
  auto* out = google::protobuf::Arena::CreateMessage<ckpt::Metadata>(arena);
  std::unique_ptr<ckpt::Metadata> owner(arena ? nullptr : out);
  to_proto(md, *out, options);
  owner.release();
  return out;
}

}  // namespace ckpt::codec
