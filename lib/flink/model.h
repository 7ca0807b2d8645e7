// The in-memory model of one Flink `_metadata` file (CheckpointMetadata plus everything needed to
// write it back byte for byte).
//
// Contract:
//  * Strings and byte payloads are views (`Bytes`) into storage owned by the enclosing `Metadata`
//    (`Metadata::storage`): either the file buffer the reader parsed, or the arena that builders
//    and editors intern new bytes into. Views never outlive their Metadata; copying a Metadata
//    copies the views and shares the storage, which is immutable once written.
//  * Strings hold the raw *modified UTF-8* bytes exactly as on disk (spec §1.2). Use
//    io/mutf8.h to turn them into standard UTF-8 for display.
//  * Integer arrays (key-group offsets, operator-state offsets, channel offsets) are kept as their
//    raw big-endian bytes (`I64Array`): parsing never copies them.
//  * Every tag, flag and legacy field that can vary on disk is kept as read, so that
//    write(read(file)) == file (spec §16). Derived facts (sizes, paths, kinds) are computed by
//    the helpers at the end of this header and in flink/handles.h, never stored twice.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ckpt::flink {

using Bytes = std::string_view;

// Owns the bytes that the views of a Metadata point into.
struct Storage {
  std::shared_ptr<const std::string> file;  // the parsed file, if any (shared: parsing never copies it)
  std::deque<std::string> arena;            // interned bytes of edited / built models (stable addresses)

  Bytes intern(std::string bytes) { return arena.emplace_back(std::move(bytes)); }
};

// A big-endian int64 array, kept as its raw bytes.
class I64Array {
 public:
  I64Array() = default;
  explicit I64Array(Bytes be) : be_(be) {}
  std::size_t size() const { return be_.size() / 8; }
  bool empty() const { return be_.empty(); }
  int64_t operator[](std::size_t i) const {
    uint64_t v = 0;
    for (std::size_t k = 0; k < 8; ++k) v = (v << 8) | static_cast<unsigned char>(be_[i * 8 + k]);
    return static_cast<int64_t>(v);
  }
  Bytes raw() const { return be_; }

 private:
  Bytes be_;
};

// Value-semantic owning pointer, for the few recursive positions of the model.
template <typename T>
class Box {
 public:
  Box() = default;
  explicit Box(T v) : p_(std::make_unique<T>(std::move(v))) {}
  Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  ~Box() = default;
  explicit operator bool() const { return p_ != nullptr; }
  T* get() const { return p_.get(); }
  T& operator*() const { return *p_; }
  T* operator->() const { return p_.get(); }

 private:
  std::unique_ptr<T> p_;
};

// Key-group range as on disk: start, count (spec §4.1). count <= 0 means empty.
struct KeyGroupRange {
  int32_t start = 0;
  int32_t count = 0;
  bool empty() const { return count <= 0; }
  // Clamped to int32 (start and count come from a file: their sum may not fit).
  int32_t end_inclusive() const {
    const int64_t e = static_cast<int64_t>(start) + count - 1;
    return e > INT32_MAX ? INT32_MAX : e < INT32_MIN ? INT32_MIN : static_cast<int32_t>(e);
  }
};

// ---------------------------------------------------------------------------------------------
// Stream state handles (spec §5). Tags: 0 null, 1 inline bytes, 2 absolute file, 3 nested
// key-groups handle, 6 relative file, 15 file-merging segment, 16 empty segment.
namespace stream_tag {
inline constexpr uint8_t kNull = 0, kByteStream = 1, kFile = 2, kKeyGroups = 3, kRelativeFile = 6, kSegment = 15,
                         kEmptySegment = 16;
}

struct KeyGroupsHandle;

struct StreamHandle {
  uint8_t tag = stream_tag::kNull;
  Bytes name;                       // tag 1: handle name; tag 2, 6: file path; tag 15: physical file path
  Bytes data;                       // tag 1: the inline bytes
  int64_t size = 0;                 // tag 2, 6, 15: state size (tag 1: use data.size())
  int64_t start = 0;                // tag 15: start position in the physical file
  int32_t scope = 0;                // tag 15: 0 EXCLUSIVE, 1 SHARED
  Bytes logical_id;                 // tag 15: logical file id
  Box<KeyGroupsHandle> key_groups;  // tag 3

  bool is_null() const { return tag == stream_tag::kNull; }
};

// ---------------------------------------------------------------------------------------------
// Keyed state handles (spec §6).
namespace keyed_tag {
inline constexpr int8_t kNull = 0, kKeyGroups = 3, kIncrementalV1 = 5, kSavepointKeyGroups = 7, kChangelogV1 = 8,
                        kChangelogBytes = 9, kChangelogFilesV1 = 10, kIncrementalV2 = 11, kKeyGroupsV2 = 12,
                        kChangelogFilesV2 = 13, kChangelogV2 = 14;
}

// Tags 3, 7, 12 (and stream tag 3): a key-group-partitioned stream with one offset per key group.
struct KeyGroupsHandle {
  KeyGroupRange range;
  I64Array offsets;  // range.count entries (0 if the range is empty)
  StreamHandle delegate;
  Bytes handle_id;  // tag 12 only
};

struct NamedStream {
  Bytes local_path;  // original RocksDB file name, e.g. "000042.sst"
  StreamHandle handle;
};

// Tags 5, 11: RocksDB incremental or native snapshot.
struct IncrementalHandle {
  int64_t checkpoint_id = 0;
  Bytes backend_id;
  KeyGroupRange range;
  int64_t checkpointed_size = 0;  // tag 11 only
  StreamHandle meta;
  std::vector<NamedStream> shared;
  std::vector<NamedStream> private_files;
  Bytes handle_id;  // tag 11 only
};

struct KeyedHandle;

// Tags 8, 14: changelog backend composite.
struct ChangelogHandle {
  KeyGroupRange range;
  int64_t checkpointed_size = 0;
  std::vector<KeyedHandle> materialized;
  std::vector<KeyedHandle> non_materialized;
  int64_t materialization_id = 0;
  int64_t checkpoint_id = 0;  // tag 14 only
  Bytes handle_id;
};

struct ChangelogChange {
  int32_t key_group = 0;  // -1 = metadata change
  Bytes data;
};

// Tag 9: in-memory changelog increment.
struct ChangelogBytesHandle {
  KeyGroupRange range;
  int64_t from_sequence = 0;
  int64_t to_sequence = 0;
  std::vector<ChangelogChange> changes;
  Bytes handle_id;
};

struct OffsetStream {
  int64_t offset = 0;
  StreamHandle handle;
};

// Tags 10, 13: changelog increment stored in files (DSTL).
struct ChangelogFilesHandle {
  KeyGroupRange range;
  std::vector<OffsetStream> handles;
  int64_t state_size = 0;
  int64_t checkpointed_size = 0;
  Bytes handle_id;
  Bytes storage_id;  // tag 13 only
};

struct KeyedHandle {
  int8_t tag = keyed_tag::kNull;
  std::variant<std::monostate, KeyGroupsHandle, IncrementalHandle, ChangelogHandle, ChangelogBytesHandle,
               ChangelogFilesHandle>
      body;

  bool is_null() const { return tag == keyed_tag::kNull; }
};

// ---------------------------------------------------------------------------------------------
// Operator state handles (spec §7). Tags: 0 null, 4 stream, 17 file-merging.
namespace operator_tag {
inline constexpr int8_t kNull = 0, kStream = 4, kFileMerging = 17;
}

enum class DistributionMode : int8_t { kSplitDistribute = 0, kUnion = 1, kBroadcast = 2 };

struct OperatorStateEntry {
  Bytes name;
  int8_t mode = 0;  // raw DistributionMode ordinal
  I64Array offsets;
};

struct OperatorHandle {
  int8_t tag = operator_tag::kNull;
  std::vector<OperatorStateEntry> states;
  StreamHandle delegate;
  Bytes task_owned_dir;  // tag 17
  Bytes shared_dir;      // tag 17
  uint8_t is_empty = 0;  // tag 17, raw bool byte

  bool is_null() const { return tag == operator_tag::kNull; }
};

// ---------------------------------------------------------------------------------------------
// Channel state handles (spec §8).
namespace channel_type {
// V6 type bytes. Files of V3-V5 have no type byte: kUntypedInput / kUntypedOutput mark them.
inline constexpr uint8_t kUntypedInput = 0, kInput = 1, kOutput = 2, kMergedInput = 3, kMergedOutput = 4,
                         kUntypedOutput = 0x80;
}  // namespace channel_type

struct ChannelInfo {
  int32_t a = 0;  // input: gate index; output: partition index
  int32_t b = 0;  // input: channel index; output: subpartition index
  int64_t state_size = 0;
  I64Array offsets;
};

struct ChannelHandle {
  uint8_t type = channel_type::kUntypedInput;
  bool has_subtask_index = true;  // false: Flink 1.11 layout (spec §17.2)
  int32_t subtask_index = 0;
  int64_t state_size = 0;  // single: this channel's bytes; merged: the sum
  StreamHandle delegate;
  std::vector<ChannelInfo> channels;  // single: exactly one; merged: the blob's entries

  bool merged() const { return type == channel_type::kMergedInput || type == channel_type::kMergedOutput; }
  bool input() const {
    return type == channel_type::kUntypedInput || type == channel_type::kInput || type == channel_type::kMergedInput;
  }
};

// ---------------------------------------------------------------------------------------------
// Subtasks, operators, the file.

struct SubtaskState {
  int32_t index = 0;
  bool finished = false;  // finished marker: no body follows on disk

  // V2 only.
  int64_t legacy_duration = -1;
  // V1 and V2 (formats/flink-legacy-metadata.md): state of the pre-1.4 `Checkpointed`
  // interface, one stream handle per chained operator (V1: always chain-length entries).
  std::vector<StreamHandle> legacy_operator_states;
  // V1 only: managed / raw operator state per chained operator (tag-0 placeholders included).
  std::vector<OperatorHandle> legacy_managed_chain;
  std::vector<OperatorHandle> legacy_raw_chain;

  int32_t managed_operator_flag = 0;  // raw i32 presence flag (non-zero: a handle follows)
  OperatorHandle managed_operator;
  int32_t raw_operator_flag = 0;
  OperatorHandle raw_operator;
  KeyedHandle managed_keyed;
  KeyedHandle raw_keyed;

  // V3+.
  std::vector<ChannelHandle> input_channels;
  std::vector<ChannelHandle> output_channels;

  // V7 only.
  uint8_t ref_marker = 0;
  int64_t ref_checkpoint_id = 0;
};

using OperatorId = std::array<uint8_t, 16>;

struct OperatorState {
  Bytes name;  // V5+; empty = absent
  Bytes uid;   // V5+; empty = absent
  OperatorId id{};
  int32_t parallelism = 0;
  int32_t max_parallelism = 0;
  int32_t legacy_chain_length = 1;  // V1, V2
  StreamHandle coordinator;         // V3+
  int32_t finished_marker = 0;      // < 0: fully finished, no subtask entries follow
  std::vector<SubtaskState> subtasks;

  bool fully_finished() const { return finished_marker < 0; }
};

struct MasterState {
  int32_t version = 0;
  Bytes name;
  Bytes payload;
};

// Parsed view of the V4+ Java-serialized CheckpointProperties trailer (spec §10).
struct CheckpointProperties {
  enum class Kind : uint8_t { kCheckpoint, kFullCheckpoint, kSavepoint };
  enum class Format : uint8_t { kCanonical, kNative };
  enum class Action : uint8_t { kNone, kSuspend, kTerminate };

  bool discard_cancelled = false;
  bool discard_failed = false;
  bool discard_finished = false;
  bool discard_subsumed = false;
  bool discard_suspended = false;
  bool forced = false;
  bool unclaimed = false;
  Kind kind = Kind::kCheckpoint;
  Format format = Format::kCanonical;  // savepoints only
  Action action = Action::kNone;       // savepoints only
  std::string type_name;               // "Checkpoint", "Full Checkpoint", "Savepoint", ...
  std::string sharing_strategy;        // checkpoints only: FORWARD_BACKWARD, FORWARD, NO_SHARING
};

enum class TrailerState : uint8_t {
  kAbsent,    // V1-V3: no trailer
  kNull,      // `AC ED 00 05 70`: properties written as null (State Processor API)
  kParsed,    // a CheckpointProperties object that matched the known class shapes
  kUnparsed,  // a Java serialization stream ckpt does not understand; kept verbatim
};

struct Metadata {
  int32_t version = 0;
  int64_t checkpoint_id = 0;
  std::vector<MasterState> masters;
  std::vector<OperatorState> operators;

  // V4+: the trailer bytes verbatim, and what they say.
  Bytes trailer;
  TrailerState trailer_state = TrailerState::kAbsent;
  CheckpointProperties properties;

  // Bytes after the last structure Flink reads (V1-V3: the last operator; V4+: the one object of
  // the properties stream). Flink never writes any, and its reader ignores them, so ckpt reads
  // such a file too, keeps them verbatim (the writer appends them: a rewrite stays byte-exact)
  // and `validate` warns (S12). Empty for every file Flink wrote.
  Bytes trailing;

  std::shared_ptr<Storage> storage = std::make_shared<Storage>();

  Bytes intern(std::string bytes) { return storage->intern(std::move(bytes)); }
};

}  // namespace ckpt::flink
