#include "export/proto_codec.h"

#include <fmt/format.h>
#include <google/protobuf/arena.h>

#include <sys/mman.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

#include "flink/checkpoint_properties.h"
#include "flink/operator_id.h"
#include "io/byte_writer.h"
#include "io/decode_error.h"
#include "io/mutf8.h"

namespace ckpt::codec {
namespace {

namespace fl = ::ckpt::flink;
namespace pb = ::ckpt;

// ---- error paths -----------------------------------------------------------------------------
// Conversions throw Failure with the innermost field name; every enclosing level prepends its
// segment while the exception unwinds (no cost on the success path), and the entry points turn it
// into a CodecError.

struct Failure {
  std::string path;
  std::string problem;
};

[[noreturn]] void fail(std::string field, std::string problem) {
  throw Failure{std::move(field), std::move(problem)};
}

void prepend(Failure& f, std::string_view name, std::ptrdiff_t index) {
  std::string seg(name);
  if (index >= 0) seg += fmt::format("[{}]", index);
  if (f.path.empty()) {
    f.path = std::move(seg);
  } else {
    if (f.path.front() != '[') seg += '.';
    f.path.insert(0, seg);
  }
}

// Runs fn() with `name` (and `[index]`) as the path segment of any failure inside it.
template <typename Fn>
decltype(auto) at(std::string_view name, std::ptrdiff_t index, Fn&& fn) {
  try {
    return fn();
  } catch (Failure& f) {
    prepend(f, name, index);
    throw;
  }
}

template <typename Fn>
decltype(auto) at(std::string_view name, Fn&& fn) {
  return at(name, -1, std::forward<Fn>(fn));
}

// ---- strings ---------------------------------------------------------------------------------

// Why valid modified UTF-8 `s` does not survive mutf8 -> utf8 -> mutf8 (s is known not to).
std::string describe_loss(std::string_view s) {
  std::size_t i = 0;
  bool pending_high = false;
  std::size_t high_at = 0;
  uint32_t high = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : 3;
    uint32_t u = c;
    if (len == 2) u = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    if (len == 3) {
      u = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
          (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    }
    bool is_low = u >= 0xDC00 && u <= 0xDFFF;
    if (pending_high && !is_low) {
      return fmt::format("holds an unpaired surrogate U+{:04X} at byte {}, which UTF-8 cannot carry", high, high_at);
    }
    if (c == 0) return fmt::format("holds a raw 0x00 byte at byte {}, which Java would re-encode as C0 80", i);
    if ((len == 2 && u < 0x80 && u != 0) || (len == 3 && u < 0x800)) {
      return fmt::format("holds a non-shortest encoding of U+{:04X} at byte {}, which Java would re-encode", u, i);
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      pending_high = true;
      high = u;
      high_at = i;
    } else if (is_low) {
      if (!pending_high) {
        return fmt::format("holds an unpaired surrogate U+{:04X} at byte {}, which UTF-8 cannot carry", u, i);
      }
      pending_high = false;
    }
    i += len;
  }
  if (pending_high) {
    return fmt::format("holds an unpaired surrogate U+{:04X} at byte {}, which UTF-8 cannot carry", high, high_at);
  }
  return "does not convert to UTF-8 and back to the same bytes";
}

// Display conversion of bytes that are not valid modified UTF-8: every byte that does not start
// a well-formed sequence becomes U+FFFD.
std::string lenient_mutf8_to_utf8(std::string_view s) {
  std::string valid;  // re-encoded as valid modified UTF-8 first
  std::size_t i = 0;
  auto cont = [&](std::size_t k) { return k < s.size() && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80; };
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      valid.push_back(static_cast<char>(c));
      ++i;
    } else if ((c & 0xE0) == 0xC0 && cont(i + 1)) {
      valid.append(s.substr(i, 2));
      i += 2;
    } else if ((c & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
      valid.append(s.substr(i, 3));
      i += 3;
    } else {
      valid.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return io::mutf8_to_utf8(valid);
}

bool is_valid_utf8(std::string_view s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return io::mutf8_to_utf8(io::utf8_to_mutf8(s)) == s;
  }
  return true;
}

bool same_properties(const fl::CheckpointProperties& a, const fl::CheckpointProperties& b) {
  return a.discard_cancelled == b.discard_cancelled && a.discard_failed == b.discard_failed &&
         a.discard_finished == b.discard_finished && a.discard_subsumed == b.discard_subsumed &&
         a.discard_suspended == b.discard_suspended && a.forced == b.forced && a.unclaimed == b.unclaimed &&
         a.kind == b.kind && a.format == b.format && a.action == b.action && a.type_name == b.type_name &&
         a.sharing_strategy == b.sharing_strategy;
}

// ===============================================================================================
// model -> proto

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
    out.mutable_operators()->Reserve(static_cast<int>(md.operators.size()));
    for (std::size_t i = 0; i < md.operators.size(); ++i) {
      at("operators", static_cast<std::ptrdiff_t>(i), [&] { operator_state(md.operators[i], *out.add_operators()); });
    }
  }

 private:
  static bool derivable_trailer(const fl::Metadata& md) {
    try {
      if (md.trailer_state == fl::TrailerState::kNull) return md.trailer == fl::encode_null_trailer();
      if (md.trailer_state == fl::TrailerState::kParsed) return md.trailer == fl::encode_properties_trailer(md.properties);
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
        fail(field, fmt::format("is not valid modified UTF-8: byte {}: expected {}", problem->offset, problem->message));
      }
      *(msg.*mut)() = lenient_mutf8_to_utf8(s);
      return;
    }
    std::string u = io::mutf8_to_utf8(s);
    if (opt_.lossless && io::utf8_to_mutf8(u) != s) fail(field, describe_loss(s));
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
            at("materialized", static_cast<std::ptrdiff_t>(i), [&] { keyed(k.materialized[i], *o.add_materialized()); });
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
              if (!k.handles[i].handle.is_null()) at("handle", [&] { stream(k.handles[i].handle, *os.mutable_handle()); });
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

// ===============================================================================================
// proto -> model

class FromProto {
 public:
  explicit FromProto(fl::Metadata& md) : md_(md) {}

  void metadata(const pb::Metadata& in) {
    md_.version = in.version();
    md_.checkpoint_id = in.checkpoint_id();
    if (md_.checkpoint_id < 0) fail("checkpointId", fmt::format("is {}, expected >= 0", md_.checkpoint_id));
    int st = in.trailer_state();
    if (st < 0 || st > 3) fail("trailerState", fmt::format("{} is unknown, expected ABSENT, NULL, PARSED or UNPARSED", st));
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
      if (p.kind() < 0 || p.kind() > 2) fail("kind", fmt::format("{} is unknown, expected CHECKPOINT, FULL_CHECKPOINT or SAVEPOINT", static_cast<int>(p.kind())));
      out.kind = static_cast<P::Kind>(p.kind());
    }
    if (p.has_format()) {
      if (p.format() < 0 || p.format() > 1) fail("format", fmt::format("{} is unknown, expected CANONICAL or NATIVE", static_cast<int>(p.format())));
      out.format = static_cast<P::Format>(p.format());
    }
    if (p.has_post_checkpoint_action()) {
      int a = p.post_checkpoint_action();
      if (a < 0 || a > 2) fail("postCheckpointAction", fmt::format("{} is unknown, expected NONE, SUSPEND or TERMINATE", a));
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
                                      "trailerState is PARSED", e.offset(), e.message()));
        }
        if (got != fl::TrailerState::kParsed) {
          fail("trailerState", fmt::format("is PARSED, but ckpt classifies the trailer bytes as {}", fl::describe(got)));
        }
        if (!in.has_properties()) {
          md_.properties = parsed;
        } else if (!same_properties(parsed, md_.properties)) {
          fail("properties", "differ from the properties the trailer bytes encode; remove the trailer to re-encode "
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
      case pb::KeyedHandle::kKeyGroups: return "keyGroups";
      case pb::KeyedHandle::kIncremental: return "incremental";
      case pb::KeyedHandle::kChangelog: return "changelog";
      case pb::KeyedHandle::kChangelogBytes: return "changelogBytes";
      case pb::KeyedHandle::kChangelogFiles: return "changelogFiles";
      case pb::KeyedHandle::KIND_NOT_SET: break;
    }
    return "(none)";
  }

  static const char* tags_of(pb::KeyedHandle::KindCase c) {
    switch (c) {
      case pb::KeyedHandle::kKeyGroups: return "3, 7 or 12";
      case pb::KeyedHandle::kIncremental: return "5 or 11";
      case pb::KeyedHandle::kChangelog: return "8 or 14";
      case pb::KeyedHandle::kChangelogBytes: return "9";
      case pb::KeyedHandle::kChangelogFiles: return "10 or 13";
      case pb::KeyedHandle::KIND_NOT_SET: break;
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
      case kt::kNull: want = K::KIND_NOT_SET; break;
      case kt::kKeyGroups: case kt::kSavepointKeyGroups: case kt::kKeyGroupsV2: want = K::kKeyGroups; break;
      case kt::kIncrementalV1: case kt::kIncrementalV2: want = K::kIncremental; break;
      case kt::kChangelogV1: case kt::kChangelogV2: want = K::kChangelog; break;
      case kt::kChangelogBytes: want = K::kChangelogBytes; break;
      case kt::kChangelogFilesV1: case kt::kChangelogFilesV2: want = K::kChangelogFiles; break;
      default:
        fail("tag", fmt::format("{} is not a keyed state handle tag, expected 3, 5, 7, 8, 9, 10, 11, 12, 13 or 14", tag));
    }
    if (in.kind_case() != want) {
      if (want == K::KIND_NOT_SET) {
        fail("tag", fmt::format("is missing (0, the null handle) but {} is set, expected {}", member_name(in.kind_case()),
                                tags_of(in.kind_case())));
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
                                 "UNTYPED_OUTPUT", t));
      }
      h.type = static_cast<uint8_t>(t);
      if (h.input() != input) {
        fail("type", fmt::format("{} is an {} channel type, but the handle is in {}",
                                 pb::ChannelHandle::Type_Name(in.type()), input ? "output" : "input",
                                 input ? "inputChannels" : "outputChannels"));
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
      s.legacy_operator_states.push_back(at("legacyOperatorStates", i, [&] { return stream(in.legacy_operator_states(i)); }));
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
    s.managed_operator_flag = in.has_managed_operator_flag() ? in.managed_operator_flag() : in.has_managed_operator() ? 1 : 0;
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

// ---- arena blocks ----------------------------------------------------------------------------

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CKPT_PLAIN_ARENA_BLOCKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define CKPT_PLAIN_ARENA_BLOCKS 1
#endif
#endif

constexpr std::size_t kHugePage = std::size_t{2} << 20;

[[maybe_unused]] std::size_t huge_length(std::size_t n) { return (n + kHugePage - 1) & ~(kHugePage - 1); }

void* arena_block_alloc(std::size_t n) {
#ifndef CKPT_PLAIN_ARENA_BLOCKS
  if (n >= kHugePage) {
    // Over-map by one huge page, then trim to a 2 MiB-aligned range so the kernel can back it
    // with huge pages.
    const std::size_t len = huge_length(n);
    void* raw = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (base + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
    if (aligned > base) munmap(raw, aligned - base);
    if (const uintptr_t tail = base + kHugePage - aligned; tail > 0) {
      munmap(reinterpret_cast<void*>(aligned + len), tail);
    }
    madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);  // a hint: failure is fine
    return reinterpret_cast<void*>(aligned);
  }
#endif
  if (void* p = std::malloc(n)) return p;
  throw std::bad_alloc();
}

void arena_block_dealloc(void* p, [[maybe_unused]] std::size_t n) {
#ifndef CKPT_PLAIN_ARENA_BLOCKS
  if (n >= kHugePage) {
    munmap(p, huge_length(n));
    return;
  }
#endif
  std::free(p);
}

}  // namespace

google::protobuf::ArenaOptions large_arena_options() {
  google::protobuf::ArenaOptions o;
  o.start_block_size = kHugePage;
  o.max_block_size = 16 * kHugePage;
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

ckpt::Metadata* to_proto(const flink::Metadata& md, google::protobuf::Arena* arena, const ToProtoOptions& options) {
  auto* out = google::protobuf::Arena::CreateMessage<ckpt::Metadata>(arena);
  std::unique_ptr<ckpt::Metadata> owner(arena ? nullptr : out);
  to_proto(md, *out, options);
  owner.release();
  return out;
}

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
