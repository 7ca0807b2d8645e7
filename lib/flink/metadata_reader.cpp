#include "flink/metadata_reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "flink/checkpoint_properties.h"
#include "flink/operator_id.h"
#include "io/byte_reader.h"
#include "io/file_bytes.h"
#include "io/mutf8.h"

namespace ckpt::flink {
namespace {

using io::ByteReader;

// Lower bounds of encoded sizes, used to reject counts that cannot fit in the bytes left before
// anything is reserved. They are lower bounds over every version, never exact sizes.
constexpr std::size_t kMinOperator = 29;     // id + parallelism + max parallelism + tag + count
constexpr std::size_t kMinSubtaskEntry = 4;  // a finished marker alone
constexpr std::size_t kMinMasterState = 8;   // magic + length
constexpr std::size_t kMinNamedStream = 3;   // empty utf + null tag
constexpr std::size_t kMinOperatorStateEntry = 7;
constexpr std::size_t kMinChannel = 18;  // merged V6 handle with a null delegate
constexpr std::size_t kMinChange = 8;
constexpr std::size_t kMinOffsetStream = 9;
constexpr std::size_t kMinKeyedHandle = 1;
constexpr int kMaxNesting = 16;  // keyed handles inside changelog handles inside ...

// Thrown when a V3 file fails in a way that the Flink 1.11 channel layout might explain.
struct ChannelLayoutMismatch {};

class Reader {
 public:
  Reader(std::string_view data, Metadata& md, bool flink111_channels)
      : r_(data), md_(md), flink111_channels_(flink111_channels) {}

  void read(bool keep_operators = true) {
    int32_t n = read_prologue();
    if (keep_operators) md_.operators.reserve(n);
    for (int32_t i = 0; i < n; ++i) {
      OperatorState op = read_operator(i);
      if (keep_operators) md_.operators.push_back(std::move(op));
    }
    read_tail();
  }

  // The header and master states; returns the number of operators (V1: task states) that follow.
  int32_t read_prologue() {
    read_header();
    if (md_.version == 1) {
      slot_ = "task count";
      return r_.count("task state count", kMinOperator);
    }
    slot_ = "master states";
    int32_t n = r_.count("master state count", kMinMasterState);
    md_.masters.reserve(n);
    for (int32_t i = 0; i < n; ++i) md_.masters.push_back(master_state());
    slot_ = "operator count";
    return r_.count("operator count", kMinOperator);
  }

  // Operator (V1: task state) number `i`, the next in the file.
  OperatorState read_operator(int32_t i) {
    op_ = i;
    op_id_.reset();
    OperatorState op;
    if (md_.version == 1) {
      task_state_v1(op);
    } else {
      operator_state(op);
    }
    op_ = -1;
    op_id_.reset();
    slot_ = nullptr;
    return op;
  }

  bool saw_channel_handles() const { return saw_channels_; }
  std::string context() const {
    std::string s;
    if (op_ >= 0) {
      s = fmt::format("operator #{}", op_);
      if (op_id_) s += fmt::format(" ({})", to_hex(*op_id_));
      if (sub_ >= 0) s += fmt::format(" subtask {}", sub_);
    }
    if (slot_) {
      if (!s.empty()) s += ": ";
      s += slot_;
    }
    return s;
  }

 private:
  [[noreturn]] void fail(uint64_t at, std::string msg) const { ByteReader::fail(at, std::move(msg)); }

  Bytes utf(const char* what) {
    uint64_t at = r_.offset();
    uint16_t n = r_.u16(what);
    Bytes s = r_.bytes(n, what);
    if (auto p = io::check_mutf8(s)) {
      fail(at + 2 + p->offset, fmt::format("{} is not valid modified UTF-8: expected {}", what, p->message));
    }
    return s;
  }

  I64Array offsets(int32_t n, const char* what) {
    r_.check_fits(r_.offset(), static_cast<uint64_t>(n), 8, what);
    return I64Array(r_.bytes(static_cast<uint64_t>(n) * 8, what));
  }

  KeyGroupRange range(const char* what) {
    KeyGroupRange g;
    g.start = r_.i32(what);
    g.count = r_.i32(what);
    return g;
  }

  // Key-group range followed by one i64 offset per key group (spec §4.2).
  void range_with_offsets(KeyGroupRange& g, I64Array& offs) {
    uint64_t at = r_.offset();
    g = range("key-group range");
    if (g.count < 0) fail(at + 4, fmt::format("key-group count is {}, expected >= 0", g.count));
    offs = offsets(g.count, "key-group offsets");
  }

  // ---- stream handles (spec §5) -----------------------------------------------------------
  StreamHandle stream(const char* what, int depth = 0) {
    if (depth > kMaxNesting) fail(r_.offset(), "handles nested too deeply");
    uint64_t at = r_.offset();
    StreamHandle h;
    h.tag = r_.u8(what);
    switch (h.tag) {
      case stream_tag::kNull:
        break;
      case stream_tag::kByteStream: {
        h.name = utf("inline handle name");
        uint64_t len_at = r_.offset();
        int32_t n = r_.i32("inline length");
        if (n < 0) fail(len_at, fmt::format("inline length is {}, expected >= 0", n));
        h.data = r_.bytes(static_cast<uint64_t>(n), "inline bytes");
        break;
      }
      case stream_tag::kFile:
        h.size = r_.i64("file state size");
        h.name = utf("file path");
        break;
      case stream_tag::kKeyGroups: {
        KeyGroupsHandle k;
        range_with_offsets(k.range, k.offsets);
        k.delegate = stream("key-groups delegate", depth + 1);
        h.key_groups = Box<KeyGroupsHandle>(std::move(k));
        break;
      }
      case stream_tag::kRelativeFile:
        h.name = utf("relative path");
        h.size = r_.i64("relative file state size");
        break;
      case stream_tag::kSegment:
        h.start = r_.i64("segment start");
        h.size = r_.i64("segment size");
        h.scope = r_.i32("segment scope");
        h.name = utf("segment physical path");
        h.logical_id = utf("segment logical file id");
        break;
      case stream_tag::kEmptySegment:
        break;
      default:
        fail(at, fmt::format("{}: stream handle tag {} is unknown (expected 0, 1, 2, 3, 6, 15 or 16)", what, h.tag));
    }
    return h;
  }

  // ---- keyed handles (spec §6) ------------------------------------------------------------
  KeyedHandle keyed(const char* what, int depth = 0) {
    if (depth > kMaxNesting) fail(r_.offset(), "handles nested too deeply");
    uint64_t at = r_.offset();
    KeyedHandle h;
    h.tag = r_.i8(what);
    switch (h.tag) {
      case keyed_tag::kNull:
        break;
      case keyed_tag::kKeyGroups:
      case keyed_tag::kSavepointKeyGroups:
      case keyed_tag::kKeyGroupsV2: {
        KeyGroupsHandle k;
        range_with_offsets(k.range, k.offsets);
        k.delegate = stream("key-groups delegate");
        if (h.tag == keyed_tag::kKeyGroupsV2) k.handle_id = utf("state handle id");
        h.body = std::move(k);
        break;
      }
      case keyed_tag::kIncrementalV1:
      case keyed_tag::kIncrementalV2: {
        IncrementalHandle k;
        k.checkpoint_id = r_.i64("incremental handle checkpoint id");
        k.backend_id = utf("backend identifier");
        k.range = range("key-group range");
        if (h.tag == keyed_tag::kIncrementalV2) k.checkpointed_size = r_.i64("checkpointed size");
        k.meta = stream("incremental meta data handle");
        named_streams(k.shared, "shared files");
        named_streams(k.private_files, "private files");
        if (h.tag == keyed_tag::kIncrementalV2) k.handle_id = utf("state handle id");
        h.body = std::move(k);
        break;
      }
      case keyed_tag::kChangelogV1:
      case keyed_tag::kChangelogV2: {
        ChangelogHandle k;
        k.range = range("key-group range");
        k.checkpointed_size = r_.i64("checkpointed size");
        int32_t n = r_.count("materialized handle count", kMinKeyedHandle);
        k.materialized.reserve(n);
        for (int32_t i = 0; i < n; ++i) k.materialized.push_back(keyed("materialized handle", depth + 1));
        n = r_.count("non-materialized handle count", kMinKeyedHandle);
        k.non_materialized.reserve(n);
        for (int32_t i = 0; i < n; ++i) {
          uint64_t tag_at = r_.offset();
          KeyedHandle nm = keyed("non-materialized handle", depth + 1);
          if (nm.tag != keyed_tag::kChangelogBytes && nm.tag != keyed_tag::kChangelogFilesV1 &&
              nm.tag != keyed_tag::kChangelogFilesV2) {
            fail(tag_at, fmt::format("non-materialized changelog handle has tag {}, expected 9, 10 or 13", nm.tag));
          }
          k.non_materialized.push_back(std::move(nm));
        }
        k.materialization_id = r_.i64("materialization id");
        if (h.tag == keyed_tag::kChangelogV2) k.checkpoint_id = r_.i64("changelog checkpoint id");
        k.handle_id = utf("state handle id");
        h.body = std::move(k);
        break;
      }
      case keyed_tag::kChangelogBytes: {
        ChangelogBytesHandle k;
        k.range = range("key-group range");
        k.from_sequence = r_.i64("from sequence number");
        k.to_sequence = r_.i64("to sequence number");
        int32_t n = r_.count("change count", kMinChange);
        k.changes.reserve(n);
        for (int32_t i = 0; i < n; ++i) {
          ChangelogChange c;
          c.key_group = r_.i32("change key group");
          uint64_t len_at = r_.offset();
          int32_t len = r_.i32("change length");
          if (len < 0) fail(len_at, fmt::format("change length is {}, expected >= 0", len));
          c.data = r_.bytes(static_cast<uint64_t>(len), "change bytes");
          k.changes.push_back(c);
        }
        k.handle_id = utf("state handle id");
        h.body = std::move(k);
        break;
      }
      case keyed_tag::kChangelogFilesV1:
      case keyed_tag::kChangelogFilesV2: {
        ChangelogFilesHandle k;
        k.range = range("key-group range");
        int32_t n = r_.count("changelog file handle count", kMinOffsetStream);
        k.handles.reserve(n);
        for (int32_t i = 0; i < n; ++i) {
          OffsetStream os;
          os.offset = r_.i64("changelog file offset");
          os.handle = stream("changelog file handle");
          k.handles.push_back(std::move(os));
        }
        k.state_size = r_.i64("state size");
        k.checkpointed_size = r_.i64("checkpointed size");
        k.handle_id = utf("state handle id");
        if (h.tag == keyed_tag::kChangelogFilesV2) k.storage_id = utf("storage identifier");
        h.body = std::move(k);
        break;
      }
      default:
        fail(at, fmt::format("{}: keyed handle tag {} is unknown (expected 0, 3, 5, 7..14)", what, h.tag));
    }
    return h;
  }

  void named_streams(std::vector<NamedStream>& out, const char* what) {
    int32_t n = r_.count(what, kMinNamedStream);
    out.reserve(n);
    for (int32_t i = 0; i < n; ++i) {
      NamedStream ns;
      ns.local_path = utf("local file name");
      ns.handle = stream(what);
      out.push_back(std::move(ns));
    }
  }

  // ---- operator handles (spec §7) ---------------------------------------------------------
  OperatorHandle operator_handle(const char* what) {
    uint64_t at = r_.offset();
    OperatorHandle h;
    h.tag = r_.i8(what);
    if (h.tag == operator_tag::kNull) return h;
    if (h.tag != operator_tag::kStream && h.tag != operator_tag::kFileMerging) {
      fail(at, fmt::format("{}: operator handle tag {} is unknown (expected 0, 4 or 17)", what, h.tag));
    }
    int32_t n = r_.count("operator state count", kMinOperatorStateEntry);
    h.states.reserve(n);
    for (int32_t i = 0; i < n; ++i) {
      OperatorStateEntry e;
      e.name = utf("operator state name");
      uint64_t mode_at = r_.offset();
      e.mode = r_.i8("distribution mode");
      if (e.mode < 0 || e.mode > 2) {
        fail(mode_at, fmt::format("distribution mode of state '{}' is {}, expected 0 (SPLIT_DISTRIBUTE), "
                                  "1 (UNION) or 2 (BROADCAST)",
                                  io::mutf8_to_utf8(e.name), e.mode));
      }
      int32_t k = r_.count("operator state offset count", 8);
      e.offsets = I64Array(r_.bytes(static_cast<uint64_t>(k) * 8, "operator state offsets"));
      h.states.push_back(e);
    }
    if (h.tag == operator_tag::kFileMerging) {
      h.task_owned_dir = utf("task-owned directory");
      h.shared_dir = utf("shared directory");
      h.is_empty = r_.u8("is-empty flag");
      uint64_t d_at = r_.offset();
      h.delegate = stream("file-merging delegate");
      if (h.delegate.tag != stream_tag::kSegment && h.delegate.tag != stream_tag::kEmptySegment) {
        fail(d_at, fmt::format("file-merging operator handle delegate has tag {}, expected 15 or 16", h.delegate.tag));
      }
    } else {
      h.delegate = stream("operator state delegate");
    }
    return h;
  }

  // ---- channel handles (spec §8) ----------------------------------------------------------
  ChannelInfo channel_info() {
    ChannelInfo c;
    c.a = r_.i32("channel info");
    c.b = r_.i32("channel info");
    int32_t n = r_.count("channel offset count", 8);
    c.offsets = I64Array(r_.bytes(static_cast<uint64_t>(n) * 8, "channel offsets"));
    c.state_size = r_.i64("channel state size");
    return c;
  }

  ChannelHandle channel(bool input) {
    saw_channels_ = true;
    ChannelHandle h;
    if (md_.version >= 6) {
      uint64_t at = r_.offset();
      h.type = r_.u8("channel handle type");
      bool ok = input ? (h.type == channel_type::kInput || h.type == channel_type::kMergedInput)
                      : (h.type == channel_type::kOutput || h.type == channel_type::kMergedOutput);
      if (!ok) {
        fail(at, fmt::format("{} channel handle type {} is unknown, expected {}", input ? "input" : "output", h.type,
                             input ? "1 or 3" : "2 or 4"));
      }
    } else {
      h.type = input ? channel_type::kUntypedInput : channel_type::kUntypedOutput;
    }
    if (h.merged()) {
      h.subtask_index = r_.i32("merged channel subtask index");
      h.state_size = r_.i64("merged channel state size");
      h.delegate = stream("merged channel delegate");
      uint64_t len_at = r_.offset();
      int32_t len = r_.i32("merged channel blob length");
      if (len < 0) fail(len_at, fmt::format("merged channel blob length is {}, expected >= 0", len));
      uint64_t blob_at = r_.offset();
      ByteReader blob(r_.bytes(static_cast<uint64_t>(len), "merged channel blob"), blob_at);
      int32_t n = blob.count("merged channel count", 20);
      h.channels.reserve(n);
      for (int32_t i = 0; i < n; ++i) {
        ChannelInfo c;
        c.a = blob.i32("channel info");
        c.b = blob.i32("channel info");
        c.state_size = blob.i64("channel state size");
        int32_t k = blob.count("channel offset count", 8);
        c.offsets = I64Array(blob.bytes(static_cast<uint64_t>(k) * 8, "channel offsets"));
        h.channels.push_back(c);
      }
      if (!blob.at_end()) {
        fail(blob.offset(),
             fmt::format("merged channel blob has {} bytes after its last channel, expected none", blob.remaining()));
      }
      return h;
    }
    h.has_subtask_index = !flink111_channels_;
    if (h.has_subtask_index) h.subtask_index = r_.i32("channel subtask index");
    ChannelInfo c = channel_info();
    h.state_size = c.state_size;
    h.channels.push_back(c);
    h.delegate = stream("channel state delegate");
    return h;
  }

  void channels(std::vector<ChannelHandle>& out, bool input) {
    slot_ = input ? "input channel state" : "result subpartition state";
    int32_t n = r_.count(input ? "input channel handle count" : "result subpartition handle count", kMinChannel);
    out.reserve(n);
    for (int32_t i = 0; i < n; ++i) out.push_back(channel(input));
  }

  // ---- subtasks and operators (spec §3) ---------------------------------------------------
  void subtask_body(SubtaskState& s) {
    if (md_.version == 2) {
      slot_ = "subtask header";
      s.legacy_duration = r_.i64("legacy duration");
      // Flink 1.3 still wrote state of the removed `Checkpointed` interface here (one stream
      // handle per chained operator); Flink 1.4+ writes 0 and refuses anything else.
      slot_ = "legacy operator state";
      int32_t legacy = r_.count("legacy state count", 1);
      s.legacy_operator_states.reserve(legacy);
      for (int32_t i = 0; i < legacy; ++i) s.legacy_operator_states.push_back(stream("legacy operator state"));
    }
    slot_ = "managed operator state";
    s.managed_operator_flag = r_.i32("managed operator state flag");
    if (s.managed_operator_flag != 0) s.managed_operator = operator_handle("managed operator state");
    slot_ = "raw operator state";
    s.raw_operator_flag = r_.i32("raw operator state flag");
    if (s.raw_operator_flag != 0) s.raw_operator = operator_handle("raw operator state");
    slot_ = "managed keyed state";
    s.managed_keyed = keyed("managed keyed state");
    slot_ = "raw keyed state";
    s.raw_keyed = keyed("raw keyed state");
    if (md_.version >= 3) {
      channels(s.input_channels, true);
      channels(s.output_channels, false);
    }
    if (md_.version >= 7) {
      slot_ = "reference checkpoint";
      s.ref_marker = r_.u8("reference checkpoint marker");
      if (s.ref_marker == 1) s.ref_checkpoint_id = r_.i64("reference checkpoint id");
    }
    slot_ = nullptr;
  }

  // The id, parallelism and max parallelism every operator (V1: task state) begins with.
  void vertex_header(OperatorState& op, const char* id_what) {
    Bytes id = r_.bytes(16, id_what);
    std::memcpy(op.id.data(), id.data(), 16);
    op_id_ = op.id;
    op.parallelism = r_.i32("parallelism");
    op.max_parallelism = r_.i32("max parallelism");
  }

  void operator_state(OperatorState& op) {
    if (md_.version >= 5) {
      slot_ = "operator name";
      op.name = utf("operator name");
      slot_ = "operator uid";
      op.uid = utf("operator uid");
    }
    slot_ = "operator header";
    vertex_header(op, "operator id");
    if (md_.version == 2) op.legacy_chain_length = r_.i32("legacy chain length");
    if (md_.version >= 3) {
      slot_ = "coordinator state";
      uint64_t at = r_.offset();
      op.coordinator = stream("coordinator state");
      if (op.coordinator.tag != stream_tag::kNull && op.coordinator.tag != stream_tag::kByteStream) {
        fail(at, fmt::format("coordinator state has stream handle tag {}, expected 0 or 1", op.coordinator.tag));
      }
    }
    slot_ = "subtask count";
    uint64_t count_at = r_.offset();
    int32_t n = r_.i32("subtask count");
    if (n < 0) {
      if (md_.version < 3) fail(count_at, fmt::format("subtask count is {}, expected >= 0", n));
      if (!op.coordinator.is_null()) {
        fail(count_at, "operator is marked fully finished but has coordinator state, expected none");
      }
      op.finished_marker = n;
      return;
    }
    r_.check_fits(count_at, static_cast<uint64_t>(n), kMinSubtaskEntry, "subtask count");
    op.subtasks.reserve(n);
    for (int32_t i = 0; i < n; ++i) {
      SubtaskState s;
      slot_ = "subtask index";
      int32_t idx = r_.i32("subtask index");
      if (idx < 0 && md_.version >= 3) {
        s.finished = true;
        s.index = -(idx + 1);
      } else {
        uint64_t at = r_.offset() - 4;
        if (idx < 0) fail(at, fmt::format("subtask index is {}, expected >= 0", idx));
        s.index = idx;
        sub_ = idx;
        subtask_body(s);
        sub_ = -1;
      }
      op.subtasks.push_back(std::move(s));
    }
    slot_ = nullptr;
  }

  void read_header() {
    slot_ = "header";
    uint64_t at = r_.offset();
    int32_t magic = r_.i32("magic number");
    if (magic != kMetadataMagic) {
      fail(at, fmt::format("magic number is 0x{:08X}, expected 0x4960672D: not a Flink _metadata file",
                           static_cast<uint32_t>(magic)));
    }
    at = r_.offset();
    md_.version = r_.i32("format version");
    if (md_.version == 0) {
      fail(at,
           "format version 0 is a Flink 1.1 savepoint (Java-serialized state), which ckpt does not "
           "read and Flink 1.3+ cannot restore; expected 1..7 (restore it with Flink 1.2 and take a new savepoint)");
    }
    if (md_.version < kMinReadableVersion || md_.version > kMaxReadableVersion) {
      fail(at, fmt::format("format version {} is unknown, expected 1..7", md_.version));
    }
    at = r_.offset();
    md_.checkpoint_id = r_.i64("checkpoint id");
    if (md_.checkpoint_id < 0) fail(at, fmt::format("checkpoint id is {}, expected >= 0", md_.checkpoint_id));
  }

  MasterState master_state() {
    uint64_t at = r_.offset();
    int32_t magic = r_.i32("master state magic");
    if (magic != kMasterStateMagic) {
      fail(at, fmt::format("master state magic is 0x{:08X}, expected 0xC96B1696", static_cast<uint32_t>(magic)));
    }
    at = r_.offset();
    int32_t len = r_.i32("master state length");
    if (len <= 0) fail(at, fmt::format("master state length is {}, expected > 0", len));
    uint64_t inner_at = r_.offset();
    ByteReader inner(r_.bytes(static_cast<uint64_t>(len), "master state"), inner_at);
    MasterState m;
    m.version = inner.i32("master state version");
    {
      uint64_t name_at = inner.offset();
      uint16_t nl = inner.u16("master state name");
      m.name = inner.bytes(nl, "master state name");
      if (auto p = io::check_mutf8(m.name)) {
        fail(name_at + 2 + p->offset,
             fmt::format("master state name is not valid modified UTF-8: expected {}", p->message));
      }
    }
    uint64_t pl_at = inner.offset();
    int32_t pl = inner.i32("master state payload length");
    if (pl < 0) fail(pl_at, fmt::format("master state payload length is {}, expected >= 0", pl));
    m.payload = inner.bytes(static_cast<uint64_t>(pl), "master state payload");
    if (!inner.at_end()) {
      fail(inner.offset(),
           fmt::format("master state has {} bytes after its payload, expected none", inner.remaining()));
    }
    return m;
  }

  // Version 1 (Flink 1.2): a task state, one per job vertex; see formats/flink-legacy-metadata.md.
  void task_state_v1(OperatorState& op) {
    slot_ = "task header";
    vertex_header(op, "job vertex id");
    op.legacy_chain_length = r_.i32("chain length");
    uint64_t cl_at = r_.offset() - 4;
    if (op.legacy_chain_length < 0) {
      fail(cl_at, fmt::format("chain length is {}, expected >= 0", op.legacy_chain_length));
    }
    int32_t subs = r_.count("subtask count", 8);
    op.subtasks.reserve(subs);
    for (int32_t k = 0; k < subs; ++k) {
      SubtaskState s;
      uint64_t at = r_.offset();
      s.index = r_.i32("subtask index");
      if (s.index < 0) fail(at, fmt::format("subtask index is {}, expected >= 0", s.index));
      sub_ = s.index;
      subtask_body_v1(s);
      sub_ = -1;
      op.subtasks.push_back(std::move(s));
    }
  }

  void subtask_body_v1(SubtaskState& s) {
    s.legacy_duration = r_.i64("duration");
    slot_ = "legacy operator state";
    int32_t n = r_.count("legacy operator state count", 1);
    s.legacy_operator_states.reserve(n);
    for (int32_t i = 0; i < n; ++i) s.legacy_operator_states.push_back(stream("legacy operator state"));
    slot_ = "managed operator state";
    n = r_.count("managed operator state count", 1);
    s.legacy_managed_chain.reserve(n);
    for (int32_t i = 0; i < n; ++i) s.legacy_managed_chain.push_back(operator_handle("managed operator state"));
    slot_ = "raw operator state";
    n = r_.count("raw operator state count", 1);
    s.legacy_raw_chain.reserve(n);
    for (int32_t i = 0; i < n; ++i) s.legacy_raw_chain.push_back(operator_handle("raw operator state"));
    slot_ = "managed keyed state";
    s.managed_keyed = keyed("managed keyed state");
    slot_ = "raw keyed state";
    s.raw_keyed = keyed("raw keyed state");
    slot_ = nullptr;
  }

  // Flink reads nothing after the last operator (V1-V3) or after the properties object
  // (ObjectInputStream.readObject, V4+) and does not check for the end of the file: bytes there
  // are kept as Metadata::trailing, not refused (never stricter than Flink).
  void read_tail() {
    slot_ = "end of file";
    if (md_.version >= 4) {
      slot_ = "checkpoint properties trailer";
      uint64_t at = r_.offset();
      try {
        std::string_view rest = r_.rest();
        std::size_t n = properties_stream_length(rest);
        md_.trailer = rest.substr(0, n);
        md_.trailing = rest.substr(n);
        md_.trailer_state = parse_properties_trailer(md_.trailer, md_.properties);
      } catch (const io::DecodeError& e) {
        throw io::DecodeError(at + e.offset(), e.message());
      }
      return;
    }
    md_.trailing = r_.rest();
  }

  ByteReader r_;
  Metadata& md_;
  bool flink111_channels_;
  bool saw_channels_ = false;
  int op_ = -1;
  int sub_ = -1;
  std::optional<OperatorId> op_id_;  // a copy: the operator being read dies during unwinding
  const char* slot_ = nullptr;
};

struct Attempt {
  bool ok = false;
  bool saw_channels = false;
  uint64_t offset = 0;
  std::string line;
};

Attempt attempt(Metadata& md, std::string_view label, bool flink111, bool keep_operators) {
  Reader reader(*md.storage->file, md, flink111);
  Attempt a;
  try {
    reader.read(keep_operators);
    a.ok = true;
  } catch (const io::DecodeError& e) {
    a.offset = e.offset();
    std::string ctx = reader.context();
    a.line = fmt::format("{}: byte {}: {}{}{}", label, e.offset(), ctx, ctx.empty() ? "" : ": ", e.message());
  }
  a.saw_channels = reader.saw_channel_handles();
  return a;
}

// parse_metadata's reading of the whole file, with or without keeping the operators. Returns
// whether the Flink 1.11 channel layout was the one that read it.
bool parse_into(Metadata& md, std::string_view label, const ReadOptions& options, bool keep_operators) {
  using Layout = ReadOptions::ChannelLayout;
  Attempt first = attempt(md, label, options.channel_layout == Layout::kFlink111, keep_operators);
  // Flink 1.11 wrote V3 channel handles without the subtask index and left no flag (spec §17.2).
  // Its layout is tried when the default one fails or leaves bytes after the last operator (which
  // are accepted as Flink ignores them, but a misaligned reading could also end early): a reading
  // that ends exactly at the end of the file wins.
  if (options.channel_layout == Layout::kAuto && first.saw_channels && md.version == 3 &&
      (!first.ok || !md.trailing.empty())) {
    Metadata retry;
    retry.storage = md.storage;
    if (attempt(retry, label, true, keep_operators).ok && (!first.ok || retry.trailing.empty())) {
      md = std::move(retry);
      return true;
    }
  }
  if (!first.ok) throw MetadataError(std::move(first.line), first.offset);
  return options.channel_layout == Layout::kFlink111;
}

}  // namespace

struct OperatorStream::Cursor {
  Metadata scratch;  // the prologue the cursor's reader reads again (shares the file)
  Reader reader;
  int32_t count = 0;
  int32_t next = 0;
  Cursor(const Metadata& md, bool flink111) : reader(*md.storage->file, scratch, flink111) {
    count = reader.read_prologue();
  }
};

OperatorStream::OperatorStream(std::shared_ptr<const std::string> bytes, std::string_view label,
                               const ReadOptions& options)
    : label_(label) {
  md_.storage->file = std::move(bytes);
  flink111_ = parse_into(md_, label, options, /*keep_operators=*/false);
  cursor_ = std::make_unique<Cursor>(md_, flink111_);
  count_ = static_cast<std::size_t>(cursor_->count);
}

OperatorStream::~OperatorStream() = default;
OperatorStream::OperatorStream(OperatorStream&&) noexcept = default;

bool OperatorStream::next(OperatorState& out) {
  if (!cursor_) cursor_ = std::make_unique<Cursor>(md_, flink111_);
  if (static_cast<std::size_t>(cursor_->next) >= count_) return false;
  try {
    out = cursor_->reader.read_operator(cursor_->next++);
  } catch (const io::DecodeError& e) {  // not expected: the same bytes were read in the check
    throw MetadataError(fmt::format("{}: byte {}: {}", label_, e.offset(), e.message()), e.offset());
  }
  return true;
}

void OperatorStream::rewind() { cursor_.reset(); }

int32_t peek_metadata_version(std::string_view bytes, std::string_view label) {
  ByteReader r(bytes);
  try {
    int32_t magic = r.i32("magic number");
    if (magic != kMetadataMagic) {
      throw MetadataError(fmt::format("{}: byte 0: magic number is 0x{:08X}, expected 0x4960672D: not a Flink "
                                      "_metadata file",
                                      label, static_cast<uint32_t>(magic)),
                          0);
    }
    return r.i32("format version");
  } catch (const io::DecodeError& e) {
    throw MetadataError(fmt::format("{}: byte {}: {}", label, e.offset(), e.message()), e.offset());
  }
}

Metadata parse_metadata(std::shared_ptr<const std::string> bytes, std::string_view label, const ReadOptions& options) {
  Metadata md;
  md.storage->file = std::move(bytes);
  parse_into(md, label, options, /*keep_operators=*/true);
  return md;
}

Metadata parse_metadata(std::string bytes, std::string_view label, const ReadOptions& options) {
  return parse_metadata(std::make_shared<const std::string>(std::move(bytes)), label, options);
}

Metadata read_metadata_file(const std::filesystem::path& file, const ReadOptions& options) {
  std::string bytes;
  try {
    bytes = io::read_file_bytes(file);
  } catch (const io::IoError& e) {
    throw MetadataError(e.what(), 0);
  }
  return parse_metadata(std::move(bytes), file.string(), options);
}

}  // namespace ckpt::flink
