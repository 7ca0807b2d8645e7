#include "export/diff_json.h"

#include "codec/json.h"
#include "diff.pb.h"
#include "export/report_json.h"
#include "report.pb.h"

namespace ckpt::diff_json {
namespace {

void fill(const ops::FileEntry& e, ckpt::DiffFile& pb) {
  pb.set_path(e.path);
  pb.set_size_a(e.size_a);
  pb.set_size_b(e.size_b);
  pb.set_operator_id(e.operator_id);
  pb.set_subtask(e.subtask);
  pb.set_role(std::string(flink::role_name(e.role)));
  pb.set_local_name(e.local_name);
}

}  // namespace

void write_diff_report(const ops::DiffResult& r, bool pretty, std::FILE* out) {
  ckpt::DiffReport pb;
  pb.set_a(r.label_a);
  pb.set_b(r.label_b);
  pb.set_equal(r.equal());
  for (const auto& p : r.properties) {
    auto* m = pb.add_properties();
    m->set_field(p.field);
    m->set_a(p.a);
    m->set_b(p.b);
  }
  for (const auto& o : r.operators) {
    if (o.change == ops::OperatorDiff::Change::kUnchanged) continue;
    auto* m = pb.add_operators();
    m->set_change(o.change == ops::OperatorDiff::Change::kAdded     ? ckpt::OperatorDiff::ADDED
                  : o.change == ops::OperatorDiff::Change::kRemoved ? ckpt::OperatorDiff::REMOVED
                                                                    : ckpt::OperatorDiff::CHANGED);
    m->set_id(o.id);
    m->set_uid_a(o.uid_a);
    m->set_uid_b(o.uid_b);
    m->set_name_a(o.name_a);
    m->set_name_b(o.name_b);
    m->set_parallelism_a(o.parallelism_a);
    m->set_parallelism_b(o.parallelism_b);
    m->set_max_parallelism_a(o.max_parallelism_a);
    m->set_max_parallelism_b(o.max_parallelism_b);
    m->set_rescaled(o.change == ops::OperatorDiff::Change::kChanged && o.rescaled());
    report_json::fill_state_bytes(o.a, *m->mutable_bytes_a());
    report_json::fill_state_bytes(o.b, *m->mutable_bytes_b());
    for (const auto& s : o.subtasks) {
      auto* sm = m->add_subtasks();
      sm->set_index(s.index);
      sm->set_in_a(s.in_a);
      sm->set_in_b(s.in_b);
      report_json::fill_state_bytes(s.a, *sm->mutable_bytes_a());
      report_json::fill_state_bytes(s.b, *sm->mutable_bytes_b());
    }
  }
  auto* f = pb.mutable_files();
  f->set_shared_count(r.shared.count);
  f->set_shared_bytes(r.shared.bytes);
  f->set_added_count(r.added.count);
  f->set_added_bytes(r.added.bytes);
  f->set_dropped_count(r.dropped.count);
  f->set_dropped_bytes(r.dropped.bytes);
  for (const auto& e : r.new_files) fill(e, *f->add_added());
  for (const auto& e : r.dropped_files) fill(e, *f->add_dropped());
  for (const auto& e : r.resized_files) fill(e, *f->add_resized());
  for (const auto& c : r.sst) {
    auto* m = pb.add_sst();
    m->set_operator_id(c.operator_id);
    m->set_subtask(c.subtask);
    m->set_kept(c.kept);
    for (const auto& e : c.added) fill(e, *m->add_added());
    for (const auto& e : c.removed) fill(e, *m->add_removed());
  }
  pb.set_other(r.other);
  report_json::fill_state_bytes(r.total_a, *pb.mutable_total_a());
  report_json::fill_state_bytes(r.total_b, *pb.mutable_total_b());
  json::write_json(pb, pretty, out);
  std::fputc('\n', out);
}

}  // namespace ckpt::diff_json
