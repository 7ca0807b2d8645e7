// `ckpt inspect`: what a snapshot holds, computed from its metadata and (for sizes of the
// `_metadata` file and times) the file system. The report is formats/report.proto's InspectReport
// itself (summary, subtasks, files), built on an arena; cli/ renders it as a table, and
// export/report_json adds the complete metadata and prints it as JSON.
#pragma once

#include <google/protobuf/arena.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "flink/metadata_reader.h"
#include "flink/model.h"
#include "report.pb.h"
#include "snapshot/discovery.h"

namespace ckpt::ops {

struct InspectOptions {
  bool subtasks = false;
  bool files = false;
  std::optional<std::string> uid;          // select operators by uid
  std::optional<std::string> operator_id;  // select operators by id (32 hex)
  // The result's arena: large blocks for a report that may grow to ~10^6 messages (subtasks,
  // files, or the complete metadata export/report_json adds); false for the summaries of a
  // listing of many snapshots.
  bool large_arena = true;
};

struct InspectResult {
  // Owns `report`. With --files a large snapshot makes ~10^6 messages: then its blocks are large.
  std::unique_ptr<google::protobuf::Arena> arena;
  // summary, subtasks (with options.subtasks), files (with options.files); `snapshot` is left
  // empty for export/report_json.
  ckpt::InspectReport* report = nullptr;

  // Facts the text needs that report.proto does not hold.
  snapshot::Location location;
  std::optional<flink::CheckpointProperties> properties;  // a parsed trailer: forced, unclaimed
  int64_t modified_unix = 0;                              // mtime of `_metadata` (the summary has it as text)

  const ckpt::SnapshotSummary& summary() const { return report->summary(); }
};

// Summarises a parsed snapshot found at `loc`.
InspectResult inspect(const flink::Metadata& md, const snapshot::Location& loc, const InspectOptions& options);

// The same, reading the operators one at a time (rewinds `operators` first): the model of one
// operator is held at a time. Not with options.files (the file list needs the whole model).
InspectResult inspect(flink::OperatorStream& operators, const snapshot::Location& loc, const InspectOptions& options);

// The Flink releases that write a format version, e.g. 4 -> "1.16-1.20".
std::string_view flink_releases_of_version(int32_t version);

// How text output and --kind name a summary's kind: "checkpoint", "savepoint", "unknown".
std::string_view kind_name(ckpt::SnapshotSummary::Kind kind);

// Sets `b.total` to the saturating sum of its four categories.
void set_total(ckpt::StateBytes& b);

}  // namespace ckpt::ops
