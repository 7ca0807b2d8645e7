// `ckpt diff A B`: what changed between two snapshots. Pure: computed from the two models (plus
// their locations, for resolving nothing but display); cli/ renders it as text, --stat or JSON.
//
// What is compared:
//  * properties: format version, checkpoint id, kind/format/action, retention flags, trailer, masters;
//  * operators, matched by operator id: added, removed, rescaled (parallelism, max parallelism),
//    renamed (V5+ name/uid), and state bytes per category and per subtask (via ops::inspect);
//  * files, by the path their handle names (relative handles by their name, so a moved savepoint
//    compares equal to the original; absolute handles by their URI; segments by path and range):
//    shared by both, new in B, dropped from A, and files whose recorded size changed;
//  * for incremental / native RocksDB handles, per operator and subtask: the `.sst` files added
//    and removed (by physical file, named by their RocksDB name);
//  * finally the `_metadata` encodings: when nothing above differs but the bytes do (handle ids,
//    key-group offsets, inline state), that is reported as `other`.
// Equal means: none of the above differs (exit 0, as diff(1)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flink/handles.h"
#include "ops/inspect.h"
#include "ops/snapshot_input.h"

namespace ckpt::ops {

struct PropertyChange {
  std::string field;  // "version", "checkpoint id", "kind", "discard on cancel", ...
  std::string a, b;
};

struct SubtaskDiff {
  int32_t index = 0;
  bool in_a = false, in_b = false;
  StateBytes a, b;
};

struct OperatorDiff {
  enum class Change { kAdded, kRemoved, kChanged, kUnchanged };
  Change change = Change::kUnchanged;
  std::string id;
  std::string uid_a, uid_b, name_a, name_b;
  int32_t parallelism_a = 0, parallelism_b = 0;
  int32_t max_parallelism_a = 0, max_parallelism_b = 0;
  StateBytes a, b;
  std::vector<SubtaskDiff> subtasks;  // subtasks whose bytes differ, or that exist on one side only
  bool rescaled() const { return parallelism_a != parallelism_b || max_parallelism_a != max_parallelism_b; }
  bool renamed() const { return uid_a != uid_b || name_a != name_b; }
};

struct FileEntry {
  std::string path;                  // as the handle names it (UTF-8); segments: "path@start+size"
  int64_t size_a = -1, size_b = -1;  // recorded sizes; -1 on the side that lacks it
  std::string operator_id;           // the first handle referring to it
  int32_t subtask = -1;
  flink::Role role = flink::Role::kKeyGroups;
  std::string local_name;  // RocksDB name, for incremental handles
};

struct FileSummaryCounts {
  int64_t count = 0;
  int64_t bytes = 0;
};

struct SstChange {
  std::string operator_id;
  int32_t subtask = 0;
  std::vector<FileEntry> added;    // in B's handle, not in A's
  std::vector<FileEntry> removed;  // in A's handle, not in B's
  int kept = 0;
};

struct DiffResult {
  std::string label_a, label_b;
  std::vector<PropertyChange> properties;
  std::vector<OperatorDiff> operators;  // every operator of A and B (unchanged ones included)
  FileSummaryCounts shared, added, dropped;
  std::vector<FileEntry> new_files, dropped_files, resized_files;
  std::vector<SstChange> sst;  // subtasks with incremental handles whose .sst set changed
  bool other = false;          // encodings differ beyond the above
  StateBytes total_a, total_b;

  bool equal() const;
};

DiffResult diff(const SnapshotInput& a, const SnapshotInput& b);

}  // namespace ckpt::ops
