#include "flink/metadata_writer.h"

#include <fmt/format.h>

#include <algorithm>

#include "flink/metadata_reader.h"
#include "flink/operator_id.h"
#include "io/byte_writer.h"

namespace ckpt::flink {
namespace {

class Writer {
 public:
  Writer(const Metadata& md, std::string& out) : md_(md), w_(out) {}

  void write() {
    w_.i32(kMetadataMagic);
    w_.i32(md_.version);
    if (md_.version < 1 || md_.version > kMaxReadableVersion) {
      fail(fmt::format("format version {} cannot be written, expected 1..7", md_.version));
    }
    w_.i64(md_.checkpoint_id);
    if (md_.version == 1) {
      if (!md_.masters.empty()) fail("version 1 files have no master states");
      w_.i32(count(md_.operators.size()));
      for (std::size_t i = 0; i < md_.operators.size(); ++i) task_v1(md_.operators[i], i);
      w_.bytes(md_.trailing);
      return;
    }
    w_.i32(count(md_.masters.size()));
    for (const auto& m : md_.masters) master(m);
    w_.i32(count(md_.operators.size()));
    for (std::size_t i = 0; i < md_.operators.size(); ++i) operator_state(md_.operators[i], i);
    if (md_.version >= 4) {
      if (md_.trailer.empty()) fail("version 4+ files end with a checkpoint properties trailer, the model has none");
      w_.bytes(md_.trailer);
    } else if (!md_.trailer.empty()) {
      fail(fmt::format("version {} files have no properties trailer, the model has {} trailer bytes", md_.version,
                       md_.trailer.size()));
    }
    // Bytes Flink ignores after its last structure: written back so a rewrite is byte-exact.
    w_.bytes(md_.trailing);
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    std::string where;
    if (op_ >= 0) where = fmt::format("operator #{} ({}): ", op_, to_hex(md_.operators[op_].id));
    throw WriteError(where + msg);
  }

  int32_t count(std::size_t n) const {
    if (n > 0x7FFFFFFF) fail("a list has more than 2^31-1 entries");
    return static_cast<int32_t>(n);
  }

  void utf(Bytes s, const char* what) {
    if (s.size() > 0xFFFF)
      fail(fmt::format("{} is {} bytes, more than the 65535 a Java UTF string holds", what, s.size()));
    w_.u16(static_cast<uint16_t>(s.size()));
    w_.bytes(s);
  }

  void range(const KeyGroupRange& g) {
    w_.i32(g.start);
    w_.i32(g.count);
  }

  void range_with_offsets(const KeyGroupRange& g, const I64Array& offs) {
    if (static_cast<int64_t>(offs.size()) != std::max<int64_t>(g.count, 0)) {
      fail(fmt::format("key-group range of {} groups has {} offsets", g.count, offs.size()));
    }
    range(g);
    w_.bytes(offs.raw());
  }

  void stream(const StreamHandle& h) {
    w_.u8(h.tag);
    switch (h.tag) {
      case stream_tag::kNull:
      case stream_tag::kEmptySegment:
        return;
      case stream_tag::kByteStream:
        utf(h.name, "inline handle name");
        w_.i32(count(h.data.size()));
        w_.bytes(h.data);
        return;
      case stream_tag::kFile:
        w_.i64(h.size);
        utf(h.name, "file path");
        return;
      case stream_tag::kKeyGroups:
        if (!h.key_groups) fail("stream handle tag 3 without its key-groups handle");
        range_with_offsets(h.key_groups->range, h.key_groups->offsets);
        stream(h.key_groups->delegate);
        return;
      case stream_tag::kRelativeFile:
        utf(h.name, "relative path");
        w_.i64(h.size);
        return;
      case stream_tag::kSegment:
        w_.i64(h.start);
        w_.i64(h.size);
        w_.i32(h.scope);
        utf(h.name, "segment physical path");
        utf(h.logical_id, "segment logical file id");
        return;
      default:
        fail(fmt::format("stream handle tag {} is unknown", h.tag));
    }
  }

  template <typename T>
  const T& body(const KeyedHandle& h) {
    const T* b = std::get_if<T>(&h.body);
    if (!b) fail(fmt::format("keyed handle tag {} does not carry the body that tag needs", h.tag));
    return *b;
  }

  void keyed(const KeyedHandle& h) {
    w_.i8(h.tag);
    switch (h.tag) {
      case keyed_tag::kNull:
        return;
      case keyed_tag::kKeyGroups:
      case keyed_tag::kSavepointKeyGroups:
      case keyed_tag::kKeyGroupsV2: {
        const auto& k = body<KeyGroupsHandle>(h);
        range_with_offsets(k.range, k.offsets);
        stream(k.delegate);
        if (h.tag == keyed_tag::kKeyGroupsV2) utf(k.handle_id, "state handle id");
        return;
      }
      case keyed_tag::kIncrementalV1:
      case keyed_tag::kIncrementalV2: {
        const auto& k = body<IncrementalHandle>(h);
        w_.i64(k.checkpoint_id);
        utf(k.backend_id, "backend identifier");
        range(k.range);
        if (h.tag == keyed_tag::kIncrementalV2) w_.i64(k.checkpointed_size);
        stream(k.meta);
        named_streams(k.shared);
        named_streams(k.private_files);
        if (h.tag == keyed_tag::kIncrementalV2) utf(k.handle_id, "state handle id");
        return;
      }
      case keyed_tag::kChangelogV1:
      case keyed_tag::kChangelogV2: {
        const auto& k = body<ChangelogHandle>(h);
        range(k.range);
        w_.i64(k.checkpointed_size);
        w_.i32(count(k.materialized.size()));
        for (const auto& m : k.materialized) keyed(m);
        w_.i32(count(k.non_materialized.size()));
        for (const auto& m : k.non_materialized) keyed(m);
        w_.i64(k.materialization_id);
        if (h.tag == keyed_tag::kChangelogV2) w_.i64(k.checkpoint_id);
        utf(k.handle_id, "state handle id");
        return;
      }
      case keyed_tag::kChangelogBytes: {
        const auto& k = body<ChangelogBytesHandle>(h);
        range(k.range);
        w_.i64(k.from_sequence);
        w_.i64(k.to_sequence);
        w_.i32(count(k.changes.size()));
        for (const auto& c : k.changes) {
          w_.i32(c.key_group);
          w_.i32(count(c.data.size()));
          w_.bytes(c.data);
        }
        utf(k.handle_id, "state handle id");
        return;
      }
      case keyed_tag::kChangelogFilesV1:
      case keyed_tag::kChangelogFilesV2: {
        const auto& k = body<ChangelogFilesHandle>(h);
        range(k.range);
        w_.i32(count(k.handles.size()));
        for (const auto& os : k.handles) {
          w_.i64(os.offset);
          stream(os.handle);
        }
        w_.i64(k.state_size);
        w_.i64(k.checkpointed_size);
        utf(k.handle_id, "state handle id");
        if (h.tag == keyed_tag::kChangelogFilesV2) utf(k.storage_id, "storage identifier");
        return;
      }
      default:
        fail(fmt::format("keyed handle tag {} is unknown", h.tag));
    }
  }

  void named_streams(const std::vector<NamedStream>& list) {
    w_.i32(count(list.size()));
    for (const auto& ns : list) {
      utf(ns.local_path, "local file name");
      stream(ns.handle);
    }
  }

  void operator_handle(const OperatorHandle& h) {
    w_.i8(h.tag);
    if (h.tag == operator_tag::kNull) return;
    if (h.tag != operator_tag::kStream && h.tag != operator_tag::kFileMerging) {
      fail(fmt::format("operator handle tag {} is unknown", h.tag));
    }
    w_.i32(count(h.states.size()));
    for (const auto& e : h.states) {
      utf(e.name, "operator state name");
      w_.i8(e.mode);
      w_.i32(count(e.offsets.size()));
      w_.bytes(e.offsets.raw());
    }
    if (h.tag == operator_tag::kFileMerging) {
      utf(h.task_owned_dir, "task-owned directory");
      utf(h.shared_dir, "shared directory");
      w_.u8(h.is_empty);
    }
    stream(h.delegate);
  }

  void channel(const ChannelHandle& h, bool input) {
    if (md_.version >= 6) {
      if (h.type == channel_type::kUntypedInput || h.type == channel_type::kUntypedOutput) {
        w_.u8(input ? channel_type::kInput : channel_type::kOutput);
      } else {
        w_.u8(h.type);
      }
    } else if (h.merged()) {
      fail(fmt::format("merged channel handles exist only in version 6+ files, not in version {}", md_.version));
    }
    if (h.input() != input) fail("an output channel handle is in the input list, or the reverse");
    if (h.merged()) {
      w_.i32(h.subtask_index);
      w_.i64(h.state_size);
      stream(h.delegate);
      std::string blob;
      io::ByteWriter b(blob);
      b.i32(count(h.channels.size()));
      for (const auto& c : h.channels) {
        b.i32(c.a);
        b.i32(c.b);
        b.i64(c.state_size);
        b.i32(count(c.offsets.size()));
        b.bytes(c.offsets.raw());
      }
      w_.i32(count(blob.size()));
      w_.bytes(blob);
      return;
    }
    if (h.channels.size() != 1) fail("a single channel handle must describe exactly one channel");
    if (h.has_subtask_index) {
      w_.i32(h.subtask_index);
    } else if (md_.version != 3) {
      fail("channel handles without a subtask index exist only in Flink 1.11's version 3 files");
    }
    const ChannelInfo& c = h.channels[0];
    w_.i32(c.a);
    w_.i32(c.b);
    w_.i32(count(c.offsets.size()));
    w_.bytes(c.offsets.raw());
    w_.i64(h.state_size);
    stream(h.delegate);
  }

  void subtask_body(const SubtaskState& s) {
    if (md_.version == 2) {
      w_.i64(s.legacy_duration);
      w_.i32(count(s.legacy_operator_states.size()));
      for (const auto& h : s.legacy_operator_states) stream(h);
    } else if (!s.legacy_operator_states.empty() && md_.version > 2) {
      fail(fmt::format("legacy operator state exists only in version 1 and 2 files, not in version {}", md_.version));
    }
    w_.i32(s.managed_operator_flag);
    if (s.managed_operator_flag != 0) {
      operator_handle(s.managed_operator);
    } else if (!s.managed_operator.is_null()) {
      fail("managed operator state is present but its presence flag is 0");
    }
    w_.i32(s.raw_operator_flag);
    if (s.raw_operator_flag != 0) {
      operator_handle(s.raw_operator);
    } else if (!s.raw_operator.is_null()) {
      fail("raw operator state is present but its presence flag is 0");
    }
    keyed(s.managed_keyed);
    keyed(s.raw_keyed);
    if (md_.version >= 3) {
      w_.i32(count(s.input_channels.size()));
      for (const auto& c : s.input_channels) channel(c, true);
      w_.i32(count(s.output_channels.size()));
      for (const auto& c : s.output_channels) channel(c, false);
    } else if (!s.input_channels.empty() || !s.output_channels.empty()) {
      fail(fmt::format("channel state exists only in version 3+ files, not in version {}", md_.version));
    }
    if (md_.version >= 7) {
      w_.u8(s.ref_marker);
      if (s.ref_marker == 1) w_.i64(s.ref_checkpoint_id);
    }
  }

  void operator_state(const OperatorState& op, std::size_t index) {
    op_ = static_cast<int>(index);
    if (md_.version >= 5) {
      utf(op.name, "operator name");
      utf(op.uid, "operator uid");
    } else if (!op.name.empty() || !op.uid.empty()) {
      fail(fmt::format("operator name and uid exist only in version 5+ files, not in version {}", md_.version));
    }
    w_.bytes(Bytes(reinterpret_cast<const char*>(op.id.data()), op.id.size()));
    w_.i32(op.parallelism);
    w_.i32(op.max_parallelism);
    if (md_.version == 2) w_.i32(op.legacy_chain_length);
    if (md_.version >= 3) {
      stream(op.coordinator);
    } else if (!op.coordinator.is_null()) {
      fail(fmt::format("coordinator state exists only in version 3+ files, not in version {}", md_.version));
    }
    if (op.fully_finished()) {
      if (md_.version < 3) fail("fully finished operators exist only in version 3+ files");
      if (!op.subtasks.empty()) fail("a fully finished operator has no subtask entries");
      w_.i32(op.finished_marker);
      op_ = -1;
      return;
    }
    w_.i32(count(op.subtasks.size()));
    for (const auto& s : op.subtasks) {
      if (s.finished) {
        if (md_.version < 3) fail("finished subtask markers exist only in version 3+ files");
        w_.i32(-s.index - 1);
        continue;
      }
      w_.i32(s.index);
      subtask_body(s);
    }
    op_ = -1;
  }

  void master(const MasterState& m) {
    std::string inner;
    io::ByteWriter b(inner);
    b.i32(m.version);
    if (m.name.size() > 0xFFFF) fail("master state name is longer than 65535 bytes");
    b.u16(static_cast<uint16_t>(m.name.size()));
    b.bytes(m.name);
    b.i32(count(m.payload.size()));
    b.bytes(m.payload);
    w_.i32(kMasterStateMagic);
    w_.i32(count(inner.size()));
    w_.bytes(inner);
  }

  void task_v1(const OperatorState& op, std::size_t index) {
    op_ = static_cast<int>(index);
    w_.bytes(Bytes(reinterpret_cast<const char*>(op.id.data()), op.id.size()));
    w_.i32(op.parallelism);
    w_.i32(op.max_parallelism);
    w_.i32(op.legacy_chain_length);
    w_.i32(count(op.subtasks.size()));
    for (const auto& s : op.subtasks) {
      w_.i32(s.index);
      w_.i64(s.legacy_duration);
      w_.i32(count(s.legacy_operator_states.size()));
      for (const auto& h : s.legacy_operator_states) stream(h);
      w_.i32(count(s.legacy_managed_chain.size()));
      for (const auto& h : s.legacy_managed_chain) operator_handle(h);
      w_.i32(count(s.legacy_raw_chain.size()));
      for (const auto& h : s.legacy_raw_chain) operator_handle(h);
      keyed(s.managed_keyed);
      keyed(s.raw_keyed);
    }
    op_ = -1;
  }

  const Metadata& md_;
  io::ByteWriter w_;
  int op_ = -1;
};

}  // namespace

void append_metadata(const Metadata& md, std::string& out) { Writer(md, out).write(); }

std::string write_metadata(const Metadata& md) {
  std::string out;
  append_metadata(md, out);
  return out;
}

}  // namespace ckpt::flink
