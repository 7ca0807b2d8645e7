#include "export/report_json.h"

#include <google/protobuf/arena.h>

#include "codec/json.h"
#include "codec/proto_codec.h"
#include "flink/checkpoint_properties.h"
#include "report.pb.h"
#include "util/time_format.h"

namespace ckpt::report_json {
namespace {

void fill(const ops::SnapshotSummary& s, ckpt::SnapshotSummary& pb) {
  pb.set_path(s.location.metadata.string());
  pb.set_directory(s.location.directory.string());
  pb.set_version(s.version);
  pb.set_flink_releases(s.flink_releases);
  pb.set_checkpoint_id(s.checkpoint_id);
  pb.set_kind(s.kind);
  pb.set_format(s.format);
  pb.set_type(s.type);
  if (s.properties) {
    if (auto r = flink::retention_of(*s.properties)) pb.set_retention(std::string(flink::describe(*r)));
  }
  pb.set_backend(s.backend);
  pb.set_trailer(std::string(flink::describe(s.trailer)));
  pb.set_metadata_bytes(s.metadata_bytes);
  pb.set_modified(util::utc_rfc3339(s.modified_unix));
  pb.set_master_states(s.master_states);
  fill_state_bytes(s.bytes, *pb.mutable_bytes());
  pb.set_inline_bytes(s.inline_bytes);
  pb.set_files(s.files);
  for (const auto& o : s.operators) {
    auto* po = pb.add_operators();
    po->set_index(o.index);
    po->set_id(o.id);
    po->set_name(o.name);
    po->set_uid(o.uid);
    po->set_uid_matches_id(o.uid_matches_id);
    po->set_parallelism(o.parallelism);
    po->set_max_parallelism(o.max_parallelism);
    po->set_fully_finished(o.fully_finished);
    po->set_subtask_entries(o.subtask_entries);
    po->set_subtasks_with_state(o.subtasks_with_state);
    po->set_finished_subtasks(o.finished_subtasks);
    fill_state_bytes(o.bytes, *po->mutable_bytes());
    po->set_inline_bytes(o.inline_bytes);
    po->set_files(o.files);
  }
}

std::string operator_id_at(const ops::InspectResult& r, int index) {
  for (const auto& o : r.summary.operators) {
    if (o.index == index) return o.id;
  }
  return {};
}

}  // namespace

void fill_state_bytes(const ops::StateBytes& b, ckpt::StateBytes& pb) {
  pb.set_keyed(b.keyed);
  pb.set_operator_(b.operator_state);
  pb.set_channel(b.channel);
  pb.set_coordinator(b.coordinator);
  pb.set_total(b.total());
}

void write_inspect_report(const flink::Metadata& md, const ops::InspectResult& r, bool pretty, std::FILE* out) {
  // Large snapshots make ~10^6 messages: one arena with large blocks keeps allocation cheap.
  google::protobuf::Arena arena(codec::large_arena_options());
  auto* report = google::protobuf::Arena::CreateMessage<ckpt::InspectReport>(&arena);
  fill(r.summary, *report->mutable_summary());
  for (const auto& ss : r.subtasks) {
    auto* p = report->add_subtasks();
    p->set_operator_id(operator_id_at(r, ss.operator_index));
    p->set_index(ss.index);
    p->set_finished(ss.finished);
    p->set_has_key_groups(ss.has_key_groups);
    p->set_key_group_start(ss.key_groups.start);
    p->set_key_group_end(ss.key_groups.end_inclusive());
    fill_state_bytes(ss.bytes, *p->mutable_bytes());
    p->set_inline_bytes(ss.inline_bytes);
    for (const auto& h : ss.handles) {
      auto* ph = p->add_handles();
      ph->set_slot(h.slot);
      ph->set_kind(h.kind);
      ph->set_bytes(h.bytes);
    }
  }
  for (const auto& f : r.files) {
    auto* p = report->add_files();
    p->set_path(f.path);
    p->set_resolved(f.resolved);
    p->set_size(f.size);
    p->set_operator_id(operator_id_at(r, f.operator_index));
    p->set_subtask(f.subtask);
    p->set_role(std::string(flink::role_name(f.role)));
    p->set_shared(f.shared);
    p->set_form(std::string(snapshot::path_form_name(f.form)));
    p->set_local_name(f.local_name);
  }
  auto* snap = report->mutable_snapshot();
  snap->set_path(r.summary.location.metadata.string());
  snap->set_directory(r.summary.location.directory.string());
  codec::ToProtoOptions display;
  display.lossless = false;
  display.omit_derivable_trailer = true;
  codec::to_proto(md, *snap->mutable_metadata(), display);
  json::write_json(*report, pretty, out);
  std::fputc('\n', out);
}

void write_snapshot_list(const std::vector<const ops::InspectResult*>& snapshots,
                         const std::vector<std::pair<std::string, std::string>>& unreadable,
                         const std::vector<std::string>& incomplete, bool pretty, std::FILE* out) {
  ckpt::SnapshotList list;
  for (const auto* r : snapshots) fill(r->summary, *list.add_snapshots());
  for (const auto& [path, error] : unreadable) {
    auto* u = list.add_unreadable();
    u->set_path(path);
    u->set_error(error);
  }
  for (const auto& p : incomplete) list.add_incomplete(p);
  json::write_json(list, pretty, out);
  std::fputc('\n', out);
}

}  // namespace ckpt::report_json
