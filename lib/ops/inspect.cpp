#include "ops/inspect.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <map>
#include <unordered_set>

#include "flink/checkpoint_properties.h"
#include "flink/operator_id.h"
#include "io/mutf8.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"

namespace ckpt::ops {
namespace {

using flink::keyed_tag::kChangelogV1;
using flink::keyed_tag::kChangelogV2;

std::string keyed_kind(const flink::KeyedHandle& h) {
  switch (h.tag) {
    case flink::keyed_tag::kKeyGroups:
    case flink::keyed_tag::kKeyGroupsV2:
      return fmt::format("key-groups (tag {})", h.tag);
    case flink::keyed_tag::kSavepointKeyGroups:
      return "savepoint key-groups (tag 7)";
    case flink::keyed_tag::kIncrementalV1:
    case flink::keyed_tag::kIncrementalV2:
      return fmt::format("rocksdb incremental/native (tag {})", h.tag);
    case kChangelogV1:
    case kChangelogV2:
      return fmt::format("changelog (tag {})", h.tag);
    case flink::keyed_tag::kChangelogBytes:
      return "changelog bytes (tag 9)";
    default:
      return fmt::format("changelog files (tag {})", h.tag);
  }
}

std::string operator_kind(const flink::OperatorHandle& h) {
  return h.tag == flink::operator_tag::kFileMerging ? "file-merging operator state (tag 17)" : "operator state (tag 4)";
}

// Backend guessed from the keyed handle kinds, the way an operator would describe the job.
void note_backend(const flink::KeyedHandle& h, std::string& backend) {
  auto set = [&](const char* b) {
    if (backend.empty() || backend == "heap") backend = b;
  };
  if (const auto* inc = std::get_if<flink::IncrementalHandle>(&h.body)) {
    set(inc->shared.empty() ? "rocksdb" : "rocksdb-incremental");
  } else if (h.tag == kChangelogV1 || h.tag == kChangelogV2) {
    backend = "changelog";
  } else if (!h.is_null() && backend.empty()) {
    backend = "keyed-stream";
  }
}

int64_t mtime_of(const std::filesystem::path& p, int64_t& size) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  size = st.st_size;
  return st.st_mtim.tv_sec;
}

bool selected(const flink::OperatorState& op, const InspectOptions& o) {
  if (o.operator_id && flink::to_hex(op.id) != *o.operator_id) return false;
  if (o.uid) {
    bool by_name = !op.uid.empty() && io::mutf8_to_utf8(op.uid) == *o.uid;
    bool by_hash = flink::operator_id_from_uid(*o.uid) == op.id;
    if (!by_name && !by_hash) return false;
  }
  return true;
}

// What one subtask that has not finished holds, handle by handle. Notes the backend its keyed
// handles suggest and whether any is a savepoint's key-groups handle.
SubtaskSummary summarize_subtask(const flink::SubtaskState& st, int operator_index, std::string& backend,
                                 bool& has_savepoint_handles) {
  SubtaskSummary ss;
  ss.operator_index = operator_index;
  ss.index = st.index;
  auto add_keyed = [&](const flink::KeyedHandle& k, const char* slot) {
    if (k.is_null()) return;
    note_backend(k, backend);
    if (k.tag == flink::keyed_tag::kSavepointKeyGroups) has_savepoint_handles = true;
    int64_t b = flink::keyed_state_size(k);
    ss.bytes.keyed = flink::add_sizes(ss.bytes.keyed, b);
    if (!ss.has_key_groups) {
      ss.key_groups = flink::keyed_range(k);
      ss.has_key_groups = true;
    }
    ss.handles.push_back({slot, keyed_kind(k), b});
  };
  auto add_operator = [&](const flink::OperatorHandle& h, const char* slot) {
    if (h.is_null()) return;
    int64_t b = flink::stream_size(h.delegate);
    ss.bytes.operator_state = flink::add_sizes(ss.bytes.operator_state, b);
    ss.handles.push_back({slot, operator_kind(h), b});
  };
  add_keyed(st.managed_keyed, "managed keyed");
  add_keyed(st.raw_keyed, "raw keyed");
  add_operator(st.managed_operator, "managed operator");
  add_operator(st.raw_operator, "raw operator");
  for (const auto& h : st.legacy_managed_chain) add_operator(h, "managed operator (chained)");
  for (const auto& h : st.legacy_raw_chain) add_operator(h, "raw operator (chained)");
  for (const auto& h : st.legacy_operator_states) {
    int64_t b = flink::stream_size(h);
    ss.bytes.operator_state = flink::add_sizes(ss.bytes.operator_state, b);
    if (!h.is_null()) ss.handles.push_back({"legacy operator", "stream", b});
  }
  auto add_channels = [&](const std::vector<flink::ChannelHandle>& list, const char* slot) {
    if (list.empty()) return;
    int64_t b = 0;
    for (const auto& c : list) b = flink::add_sizes(b, c.state_size);
    ss.bytes.channel = flink::add_sizes(ss.bytes.channel, b);
    ss.handles.push_back({slot, fmt::format("{} channel handles", list.size()), b});
  };
  add_channels(st.input_channels, "input channels");
  add_channels(st.output_channels, "output channels");
  return ss;
}

// One operator's summary (`sel`: it is selected). Adds its subtasks' summaries to res.subtasks when
// selected and asked for, and its sizes to the snapshot's.
OperatorSummary summarize_operator(const flink::OperatorState& op, int index, bool sel, const InspectOptions& options,
                                   InspectResult& res, bool& has_savepoint_handles) {
  SnapshotSummary& s = res.summary;
  OperatorSummary o;
  o.index = index;
  o.id = flink::to_hex(op.id);
  o.name = io::mutf8_to_utf8(op.name);
  o.uid = io::mutf8_to_utf8(op.uid);
  o.uid_matches_id = !op.uid.empty() && flink::operator_id_from_uid(o.uid) == op.id;
  o.parallelism = op.parallelism;
  o.max_parallelism = op.max_parallelism;
  o.fully_finished = op.fully_finished();
  o.subtask_entries = static_cast<int>(op.subtasks.size());
  o.bytes.coordinator = flink::stream_size(op.coordinator);
  if (op.coordinator.tag == flink::stream_tag::kByteStream)
    o.inline_bytes = flink::add_sizes(o.inline_bytes, o.bytes.coordinator);

  for (const auto& st : op.subtasks) {
    if (st.finished) {
      ++o.finished_subtasks;
      if (sel && options.subtasks) {
        SubtaskSummary ss;
        ss.operator_index = o.index;
        ss.index = st.index;
        ss.finished = true;
        res.subtasks.push_back(std::move(ss));
      }
      continue;
    }
    SubtaskSummary ss = summarize_subtask(st, o.index, s.backend, has_savepoint_handles);
    if (ss.bytes.total() > 0 || !ss.handles.empty()) ++o.subtasks_with_state;
    o.bytes.keyed = flink::add_sizes(o.bytes.keyed, ss.bytes.keyed);
    o.bytes.operator_state = flink::add_sizes(o.bytes.operator_state, ss.bytes.operator_state);
    o.bytes.channel = flink::add_sizes(o.bytes.channel, ss.bytes.channel);
    if (sel && options.subtasks) res.subtasks.push_back(std::move(ss));
  }
  s.bytes.keyed = flink::add_sizes(s.bytes.keyed, o.bytes.keyed);
  s.bytes.operator_state = flink::add_sizes(s.bytes.operator_state, o.bytes.operator_state);
  s.bytes.channel = flink::add_sizes(s.bytes.channel, o.bytes.channel);
  s.bytes.coordinator = flink::add_sizes(s.bytes.coordinator, o.bytes.coordinator);
  return o;
}

// Files and inline bytes, from the one enumeration every command shares. `op_pos`: the position
// of each operator in res.summary.operators, -1 when not selected.
void count_files_and_inline_bytes(const flink::Metadata& md, const std::vector<int>& op_pos, InspectResult& res) {
  SnapshotSummary& s = res.summary;
  std::map<std::pair<int, int32_t>, std::size_t> subtask_pos;
  for (std::size_t i = 0; i < res.subtasks.size(); ++i) {
    subtask_pos[{res.subtasks[i].operator_index, res.subtasks[i].index}] = i;
  }
  // Files are counted by their path as written in the handles.
  std::unordered_set<std::string_view> snapshot_files;
  // Counting distinct files needs no allocation: handle paths are views into the file, and a
  // file is named by the same bytes wherever it is referenced. Streams come operator by operator.
  std::unordered_set<std::string_view> op_files;
  int current_op = -1;
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    const flink::StreamHandle& h = *r.handle;
    int pos = op_pos[r.operator_index];
    if (flink::is_file_backed(h)) {
      if (r.operator_index != current_op) {
        op_files.clear();
        current_op = r.operator_index;
      }
      if (snapshot_files.insert(h.name).second) ++s.files;
      if (op_files.insert(h.name).second && pos >= 0) ++s.operators[pos].files;
      return;
    }
    if (h.tag != flink::stream_tag::kByteStream || r.role == flink::Role::kCoordinator) return;
    auto n = static_cast<int64_t>(h.data.size());
    s.inline_bytes = flink::add_sizes(s.inline_bytes, n);
    if (pos >= 0) s.operators[pos].inline_bytes = flink::add_sizes(s.operators[pos].inline_bytes, n);
    if (auto it = subtask_pos.find({r.operator_index, r.subtask_index}); it != subtask_pos.end()) {
      res.subtasks[it->second].inline_bytes = flink::add_sizes(res.subtasks[it->second].inline_bytes, n);
    }
  });
}

// Every file the selected operators reference, for --files.
void list_files(const flink::Metadata& md, const snapshot::Location& loc, const std::vector<int>& op_pos,
                InspectResult& res) {
  for (auto& f : snapshot::file_refs(md, loc.directory)) {
    if (op_pos[f.ref.operator_index] < 0) continue;
    FileSummary fs;
    fs.operator_index = f.ref.operator_index;
    fs.subtask = f.ref.subtask_index;
    fs.role = f.ref.role;
    fs.local_name = io::mutf8_to_utf8(f.ref.local_path);
    fs.size = f.size;
    fs.path = std::move(f.path);
    if (f.resolved.kind == snapshot::ResolvedPath::Kind::kLocal) fs.resolved = f.resolved.local.string();
    fs.shared = f.shared;
    fs.form = f.form;
    res.files.push_back(std::move(fs));
  }
}

// Kind and format: the trailer when there is one, else the directory name and handle kinds.
void classify_snapshot(const flink::Metadata& md, const snapshot::Location& loc, bool has_savepoint_handles,
                       SnapshotSummary& s) {
  if (md.trailer_state == flink::TrailerState::kParsed) {
    s.properties = md.properties;
    s.type = md.properties.type_name;
    bool sp = md.properties.kind == flink::CheckpointProperties::Kind::kSavepoint;
    s.kind = sp ? "savepoint" : "checkpoint";
    s.format =
        sp ? std::string(md.properties.format == flink::CheckpointProperties::Format::kNative ? "native" : "canonical")
           : "native";
  } else if (loc.dir_kind == snapshot::DirKind::kCheckpoint) {
    s.kind = "checkpoint";
    s.format = "native";
  } else if (loc.dir_kind == snapshot::DirKind::kSavepoint || has_savepoint_handles || md.version <= 2) {
    // Before Flink 1.15 every savepoint was canonical.
    s.kind = "savepoint";
    if (has_savepoint_handles || md.version <= 3) s.format = "canonical";
  } else {
    s.kind = "unknown";
  }
  if (md.trailer_state == flink::TrailerState::kNull) s.type = "none (written without properties)";
}

}  // namespace

std::string_view flink_releases_of_version(int32_t version) {
  switch (version) {
    case 0:
      return "1.1";
    case 1:
      return "1.2";
    case 2:
      return "1.3-1.10";
    case 3:
      return "1.11-1.15";
    case 4:
      return "1.16-1.20";
    case 5:
      return "2.0";
    case 6:
      return "2.1+";
    case 7:
      return "unreleased (FLINK-40209 pull request)";
    default:
      return "unknown";
  }
}

InspectResult inspect(const flink::Metadata& md, const snapshot::Location& loc, const InspectOptions& options) {
  InspectResult res;
  SnapshotSummary& s = res.summary;
  s.location = loc;
  s.version = md.version;
  s.flink_releases = std::string(flink_releases_of_version(md.version));
  s.checkpoint_id = md.checkpoint_id;
  s.trailer = md.trailer_state;
  s.master_states = static_cast<int>(md.masters.size());
  if (loc.in_object_store) {
    s.metadata_bytes = static_cast<int64_t>(loc.listed_bytes);
    s.modified_unix = loc.listed_mtime_ns / 1'000'000'000;
  } else {
    s.modified_unix = mtime_of(loc.metadata, s.metadata_bytes);
  }

  bool has_savepoint_handles = false;
  for (std::size_t oi = 0; oi < md.operators.size(); ++oi) {
    const flink::OperatorState& op = md.operators[oi];
    bool sel = selected(op, options);
    OperatorSummary o = summarize_operator(op, static_cast<int>(oi), sel, options, res, has_savepoint_handles);
    if (sel) s.operators.push_back(std::move(o));
  }
  std::vector<int> op_pos(md.operators.size(), -1);
  for (std::size_t i = 0; i < s.operators.size(); ++i) op_pos[s.operators[i].index] = static_cast<int>(i);
  count_files_and_inline_bytes(md, op_pos, res);
  if (options.files) list_files(md, loc, op_pos, res);
  classify_snapshot(md, loc, has_savepoint_handles, s);
  if (s.backend == "keyed-stream") s.backend = "heap";
  return res;
}

}  // namespace ckpt::ops
