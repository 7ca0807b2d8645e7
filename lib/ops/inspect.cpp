#include "ops/inspect.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <map>
#include <vector>

#include "codec/proto_codec.h"
#include "flink/checkpoint_properties.h"
#include "flink/operator_id.h"
#include "io/checksum.h"
#include "io/mutf8.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"
#include "util/time_format.h"

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
  if (o.uid && !flink::uid_names(op, *o.uid)) return false;
  return true;
}

void add_handle(ckpt::SubtaskSummary& ss, const char* slot, std::string kind, int64_t bytes) {
  ckpt::HandleSummary* h = ss.add_handles();
  h->set_slot(slot);
  h->set_kind(std::move(kind));
  h->set_bytes(bytes);
}

// What one subtask that has not finished holds, handle by handle, into `ss` (its operator id and
// index already set). Notes the backend its keyed handles suggest and whether any is a savepoint's
// key-groups handle.
void summarize_subtask(const flink::SubtaskState& st, ckpt::SubtaskSummary& ss, std::string& backend,
                       bool& has_savepoint_handles) {
  ckpt::StateBytes& bytes = *ss.mutable_bytes();
  auto add_keyed = [&](const flink::KeyedHandle& k, const char* slot) {
    if (k.is_null()) return;
    note_backend(k, backend);
    if (k.tag == flink::keyed_tag::kSavepointKeyGroups) has_savepoint_handles = true;
    int64_t b = flink::keyed_state_size(k);
    bytes.set_keyed(flink::add_sizes(bytes.keyed(), b));
    if (!ss.has_key_groups()) {
      flink::KeyGroupRange g = flink::keyed_range(k);
      ss.set_has_key_groups(true);
      ss.set_key_group_start(g.start);
      ss.set_key_group_end(g.end_inclusive());
    }
    add_handle(ss, slot, keyed_kind(k), b);
  };
  auto add_operator = [&](const flink::OperatorHandle& h, const char* slot) {
    if (h.is_null()) return;
    int64_t b = flink::stream_size(h.delegate);
    bytes.set_operator_(flink::add_sizes(bytes.operator_(), b));
    add_handle(ss, slot, operator_kind(h), b);
  };
  add_keyed(st.managed_keyed, "managed keyed");
  add_keyed(st.raw_keyed, "raw keyed");
  add_operator(st.managed_operator, "managed operator");
  add_operator(st.raw_operator, "raw operator");
  for (const auto& h : st.legacy_managed_chain) add_operator(h, "managed operator (chained)");
  for (const auto& h : st.legacy_raw_chain) add_operator(h, "raw operator (chained)");
  for (const auto& h : st.legacy_operator_states) {
    int64_t b = flink::stream_size(h);
    bytes.set_operator_(flink::add_sizes(bytes.operator_(), b));
    if (!h.is_null()) add_handle(ss, "legacy operator", "stream", b);
  }
  auto add_channels = [&](const std::vector<flink::ChannelHandle>& list, const char* slot) {
    if (list.empty()) return;
    int64_t b = 0;
    for (const auto& c : list) b = flink::add_sizes(b, c.state_size);
    bytes.set_channel(flink::add_sizes(bytes.channel(), b));
    add_handle(ss, slot, fmt::format("{} channel handles", list.size()), b);
  };
  add_channels(st.input_channels, "input channels");
  add_channels(st.output_channels, "output channels");
  set_total(bytes);
}

void add_bytes(ckpt::StateBytes& into, const ckpt::StateBytes& b) {
  into.set_keyed(flink::add_sizes(into.keyed(), b.keyed()));
  into.set_operator_(flink::add_sizes(into.operator_(), b.operator_()));
  into.set_channel(flink::add_sizes(into.channel(), b.channel()));
  into.set_coordinator(flink::add_sizes(into.coordinator(), b.coordinator()));
}

// The summaries the inspection builds and the positions that join them to the model.
struct Builder {
  Builder(ckpt::InspectReport& r, const InspectOptions& o) : report(r), options(o) {}
  ckpt::InspectReport& report;
  const InspectOptions& options;
  std::string backend;
  bool has_savepoint_handles = false;
  std::vector<ckpt::OperatorSummary*> op_of;  // by operator index; null: not selected
  std::map<std::pair<int, int32_t>, ckpt::SubtaskSummary*> subtask_at;
  ckpt::OperatorSummary scratch;  // the summary of an operator that is not selected
  // File names of the operators seen so far, see add_files_and_inline_bytes.
  std::vector<std::pair<uint64_t, std::string_view>> names;
  std::size_t distinct_names = 0;  // names[0, distinct_names): each operator's distinct names
  int64_t inline_bytes = 0;
};

// One operator's summary (`o`: in the report when selected, else a scratch message). Adds its
// subtasks' summaries to the report when selected and asked for, and its sizes to the snapshot's.
void summarize_operator(const flink::OperatorState& op, int index, bool sel, ckpt::OperatorSummary& o, Builder& b) {
  ckpt::SnapshotSummary& s = *b.report.mutable_summary();
  o.set_index(index);
  o.set_id(flink::to_hex(op.id));
  o.set_name(io::mutf8_to_utf8(op.name));
  o.set_uid(io::mutf8_to_utf8(op.uid));
  o.set_uid_matches_id(!op.uid.empty() && flink::operator_id_from_uid(o.uid()) == op.id);
  o.set_parallelism(op.parallelism);
  o.set_max_parallelism(op.max_parallelism);
  o.set_fully_finished(op.fully_finished());
  o.set_subtask_entries(static_cast<int32_t>(op.subtasks.size()));
  ckpt::StateBytes& bytes = *o.mutable_bytes();
  bytes.set_coordinator(flink::stream_size(op.coordinator));
  if (op.coordinator.tag == flink::stream_tag::kByteStream) o.set_inline_bytes(bytes.coordinator());

  bool keep = sel && b.options.subtasks;
  ckpt::SubtaskSummary scratch;
  for (const auto& st : op.subtasks) {
    ckpt::SubtaskSummary& ss = keep ? *b.report.add_subtasks() : scratch;
    if (!keep) ss.Clear();
    ss.set_operator_id(o.id());
    ss.set_index(st.index);
    ss.set_key_group_end(-1);  // no key groups: the empty range at 0
    ss.mutable_bytes();
    if (st.finished) {
      o.set_finished_subtasks(o.finished_subtasks() + 1);
      ss.set_finished(true);
      continue;
    }
    summarize_subtask(st, ss, b.backend, b.has_savepoint_handles);
    if (ss.bytes().total() > 0 || ss.handles_size() > 0) o.set_subtasks_with_state(o.subtasks_with_state() + 1);
    add_bytes(bytes, ss.bytes());
    if (keep) b.subtask_at[{index, st.index}] = &ss;
  }
  set_total(bytes);
  add_bytes(*s.mutable_bytes(), bytes);
}

// One operator's files and inline bytes, from the one enumeration every command shares.
void add_files_and_inline_bytes(const flink::OperatorState& op, int index, Builder& b) {
  // Files are counted by their path as written in the handles: views into the file, the same
  // bytes wherever a file is referenced. The names of each operator are sorted and made unique
  // here, all of them in finish_file_count. Sorted by (hash, name): paths share long prefixes
  // (".../<job>/shared/"), and comparing them byte by byte was a third of `inspect --json` on
  // 50 x 200 subtasks; equal hashes still compare the names, so the count is exact. (A hash set
  // allocates per file, which cost a fifth.)
  ckpt::OperatorSummary* o = b.op_of[static_cast<std::size_t>(index)];
  flink::visit_operator_streams(op, index, [&](const flink::StreamRef& r) {
    const flink::StreamHandle& h = *r.handle;
    if (flink::is_file_backed(h)) {
      b.names.emplace_back(io::xxh64(h.name), h.name);
      return;
    }
    if (h.tag != flink::stream_tag::kByteStream || r.role == flink::Role::kCoordinator) return;
    auto n = static_cast<int64_t>(h.data.size());
    b.inline_bytes = flink::add_sizes(b.inline_bytes, n);
    if (o) o->set_inline_bytes(flink::add_sizes(o->inline_bytes(), n));
    if (auto it = b.subtask_at.find({index, r.subtask_index}); it != b.subtask_at.end()) {
      it->second->set_inline_bytes(flink::add_sizes(it->second->inline_bytes(), n));
    }
  });
  auto first = b.names.begin() + static_cast<std::ptrdiff_t>(b.distinct_names);
  std::sort(first, b.names.end());
  auto last = std::unique(first, b.names.end());
  auto distinct = static_cast<int32_t>(last - first);
  if (o) o->set_files(o->files() + distinct);
  b.names.erase(last, b.names.end());
  b.distinct_names = b.names.size();
}

void finish_file_count(Builder& b) {
  ckpt::SnapshotSummary& s = *b.report.mutable_summary();
  std::sort(b.names.begin(), b.names.end());
  s.set_files(static_cast<int32_t>(std::unique(b.names.begin(), b.names.end()) - b.names.begin()));
  s.set_inline_bytes(b.inline_bytes);
}

// Every file the selected operators reference, for --files.
void list_files(const flink::Metadata& md, const snapshot::Location& loc, Builder& b) {
  auto refs = snapshot::file_refs(md, loc.directory);
  b.report.mutable_files()->Reserve(static_cast<int>(std::min<std::size_t>(refs.size(), INT32_MAX)));
  for (auto& f : refs) {
    const ckpt::OperatorSummary* o = b.op_of[static_cast<std::size_t>(f.ref.operator_index)];
    if (!o) continue;
    ckpt::FileSummary* fs = b.report.add_files();
    fs->set_path(std::move(f.path));
    if (f.resolved.kind == snapshot::ResolvedPath::Kind::kLocal) fs->set_resolved(f.resolved.local.string());
    fs->set_size(f.size);
    fs->set_operator_id(o->id());
    fs->set_subtask(f.ref.subtask_index);
    fs->set_role(std::string(flink::role_name(f.ref.role)));
    fs->set_shared(f.shared);
    fs->set_form(std::string(snapshot::path_form_name(f.form)));
    fs->set_local_name(io::mutf8_to_utf8(f.ref.local_path));
  }
}

// Kind and format: the trailer when there is one, else the directory name and handle kinds.
void classify_snapshot(const flink::Metadata& md, const snapshot::Location& loc, bool has_savepoint_handles,
                       ckpt::SnapshotSummary& s) {
  if (md.trailer_state == flink::TrailerState::kParsed) {
    s.set_type(md.properties.type_name);
    bool sp = md.properties.kind == flink::CheckpointProperties::Kind::kSavepoint;
    s.set_kind(sp ? ckpt::SnapshotSummary::SAVEPOINT : ckpt::SnapshotSummary::CHECKPOINT);
    s.set_format(sp && md.properties.format != flink::CheckpointProperties::Format::kNative ? "canonical" : "native");
    if (auto r = flink::retention_of(md.properties)) s.set_retention(std::string(flink::describe(*r)));
  } else if (loc.dir_kind == snapshot::DirKind::kCheckpoint) {
    s.set_kind(ckpt::SnapshotSummary::CHECKPOINT);
    s.set_format("native");
  } else if (loc.dir_kind == snapshot::DirKind::kSavepoint || has_savepoint_handles || md.version <= 2) {
    // Before Flink 1.15 every savepoint was canonical.
    s.set_kind(ckpt::SnapshotSummary::SAVEPOINT);
    if (has_savepoint_handles || md.version <= 3) s.set_format("canonical");
  } else {
    s.set_kind(ckpt::SnapshotSummary::UNKNOWN);
  }
  if (md.trailer_state == flink::TrailerState::kNull) s.set_type("none (written without properties)");
}

}  // namespace

std::string_view kind_name(ckpt::SnapshotSummary::Kind kind) {
  switch (kind) {
    case ckpt::SnapshotSummary::CHECKPOINT:
      return "checkpoint";
    case ckpt::SnapshotSummary::SAVEPOINT:
      return "savepoint";
    default:
      return "unknown";
  }
}

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

void set_total(ckpt::StateBytes& b) {
  b.set_total(
      flink::add_sizes(flink::add_sizes(b.keyed(), b.operator_()), flink::add_sizes(b.channel(), b.coordinator())));
}

namespace {

// The report's parts that come from the header (`md`'s operators are not read).
InspectResult start_report(const flink::Metadata& md, const snapshot::Location& loc, const InspectOptions& options) {
  InspectResult res;
  res.arena = options.large_arena ? std::make_unique<google::protobuf::Arena>(codec::large_arena_options())
                                  : std::make_unique<google::protobuf::Arena>();
  res.report = google::protobuf::Arena::CreateMessage<ckpt::InspectReport>(res.arena.get());
  res.location = loc;
  if (md.trailer_state == flink::TrailerState::kParsed) res.properties = md.properties;

  ckpt::SnapshotSummary& s = *res.report->mutable_summary();
  s.set_path(loc.metadata.string());
  s.set_directory(loc.directory.string());
  s.set_version(md.version);
  s.set_flink_releases(std::string(flink_releases_of_version(md.version)));
  s.set_checkpoint_id(md.checkpoint_id);
  s.set_trailer(std::string(flink::describe(md.trailer_state)));
  s.set_master_states(static_cast<int32_t>(md.masters.size()));
  int64_t metadata_bytes = 0;
  if (loc.in_object_store) {  // from the store's listing
    metadata_bytes = static_cast<int64_t>(loc.listed_bytes);
    res.modified_unix = loc.listed_mtime_ns / 1'000'000'000;
  } else {
    res.modified_unix = mtime_of(loc.metadata, metadata_bytes);
  }
  s.set_metadata_bytes(metadata_bytes);
  s.set_modified(util::utc_rfc3339(res.modified_unix));
  return res;
}

// Operators come in file order: `index` is the number of operators added before.
void add_operator(const flink::OperatorState& op, int index, Builder& b) {
  bool sel = selected(op, b.options);
  ckpt::OperatorSummary& o = sel ? *b.report.mutable_summary()->add_operators() : b.scratch;
  if (!sel) o.Clear();
  summarize_operator(op, index, sel, o, b);
  b.op_of.push_back(sel ? &o : nullptr);
  add_files_and_inline_bytes(op, index, b);
}

void finish_report(const flink::Metadata& md, const snapshot::Location& loc, Builder& b) {
  ckpt::SnapshotSummary& s = *b.report.mutable_summary();
  set_total(*s.mutable_bytes());
  finish_file_count(b);
  classify_snapshot(md, loc, b.has_savepoint_handles, s);
  s.set_backend(b.backend == "keyed-stream" ? "heap" : b.backend);
}

}  // namespace

InspectResult inspect(const flink::Metadata& md, const snapshot::Location& loc, const InspectOptions& options) {
  InspectResult res = start_report(md, loc, options);
  Builder b{*res.report, options};
  b.op_of.reserve(md.operators.size());
  for (std::size_t oi = 0; oi < md.operators.size(); ++oi) add_operator(md.operators[oi], static_cast<int>(oi), b);
  if (options.files) list_files(md, loc, b);
  finish_report(md, loc, b);
  return res;
}

InspectResult inspect(flink::OperatorStream& operators, const snapshot::Location& loc, const InspectOptions& options) {
  if (options.files) throw std::logic_error("ops::inspect: --files needs the whole model, not a stream");
  const flink::Metadata& header = operators.metadata();
  InspectResult res = start_report(header, loc, options);
  Builder b{*res.report, options};
  b.op_of.reserve(operators.operator_count());
  operators.rewind();
  flink::OperatorState op;
  for (int i = 0; operators.next(op); ++i) add_operator(op, i, b);
  finish_report(header, loc, b);
  return res;
}

}  // namespace ckpt::ops
