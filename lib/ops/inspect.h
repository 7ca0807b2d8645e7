// `ckpt inspect`: what a snapshot holds, computed from its metadata and (for sizes of the
// `_metadata` file and times) the file system. Pure data; cli/ renders it as a table or JSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "flink/handles.h"
#include "flink/model.h"
#include "snapshot/discovery.h"
#include "snapshot/file_refs.h"

namespace ckpt::ops {

struct StateBytes {
  int64_t keyed = 0;
  int64_t operator_state = 0;
  int64_t channel = 0;
  int64_t coordinator = 0;
  int64_t total() const {
    return flink::add_sizes(flink::add_sizes(keyed, operator_state), flink::add_sizes(channel, coordinator));
  }
};

struct OperatorSummary {
  int index = 0;
  std::string id;               // 32 lowercase hex
  std::string name;             // UTF-8, V5+ only
  std::string uid;              // UTF-8, V5+ only
  bool uid_matches_id = false;  // id == murmur3_128(uid), when a uid is present
  int32_t parallelism = 0;
  int32_t max_parallelism = 0;
  bool fully_finished = false;
  int subtask_entries = 0;
  int subtasks_with_state = 0;
  int finished_subtasks = 0;
  StateBytes bytes;
  int64_t inline_bytes = 0;
  int files = 0;  // distinct file paths
};

struct HandleSummary {
  std::string slot;  // "managed keyed", "managed operator", "input channels", ...
  std::string kind;  // "key-groups (tag 12)", "incremental (tag 11)", ...
  int64_t bytes = 0;
};

struct SubtaskSummary {
  int operator_index = 0;
  int32_t index = 0;
  bool finished = false;
  flink::KeyGroupRange key_groups;  // of the managed keyed handle (or the raw one)
  bool has_key_groups = false;
  StateBytes bytes;
  int64_t inline_bytes = 0;
  std::vector<HandleSummary> handles;
};

struct FileSummary {
  std::string path;      // as written in the handle (UTF-8)
  std::string resolved;  // local path it resolves to (empty for remote or inline)
  int64_t size = 0;      // recorded state size (-1 = unknown)
  int operator_index = 0;
  int32_t subtask = -1;  // -1: coordinator state
  flink::Role role = flink::Role::kKeyGroups;
  bool shared = false;  // in a shared/ directory or the shared list of an incremental handle
  snapshot::PathForm form = snapshot::PathForm::kRelative;
  std::string local_name;  // original RocksDB file name, for incremental handles
};

struct SnapshotSummary {
  snapshot::Location location;
  int32_t version = 0;
  std::string flink_releases;  // "1.16-1.20"
  int64_t checkpoint_id = 0;
  std::string kind;     // "checkpoint", "savepoint", "unknown"
  std::string format;   // "canonical", "native", "" when unknown
  std::string type;     // trailer type name, e.g. "Checkpoint", "Terminate Savepoint"
  std::string backend;  // "heap", "rocksdb", "rocksdb-incremental", "changelog", "" when stateless
  flink::TrailerState trailer = flink::TrailerState::kAbsent;
  std::optional<flink::CheckpointProperties> properties;
  int64_t metadata_bytes = 0;
  int64_t modified_unix = 0;  // mtime of `_metadata`
  int master_states = 0;
  StateBytes bytes;
  int64_t inline_bytes = 0;
  int files = 0;
  std::vector<OperatorSummary> operators;
};

struct InspectOptions {
  bool subtasks = false;
  bool files = false;
  std::optional<std::string> uid;          // select operators by uid
  std::optional<std::string> operator_id;  // select operators by id (32 hex)
};

struct InspectResult {
  SnapshotSummary summary;
  std::vector<SubtaskSummary> subtasks;  // when options.subtasks
  std::vector<FileSummary> files;        // when options.files
};

// Summarises a parsed snapshot found at `loc`.
InspectResult inspect(const flink::Metadata& md, const snapshot::Location& loc, const InspectOptions& options);

// The Flink releases that write a format version, e.g. 4 -> "1.16-1.20".
std::string_view flink_releases_of_version(int32_t version);

}  // namespace ckpt::ops
