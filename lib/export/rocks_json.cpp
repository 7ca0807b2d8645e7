#include "export/rocks_json.h"

#include <map>

#include "util/saturating.h"

namespace ckpt::rocks_json {
namespace {

void fill_input_file(const rocks::DbFile& f, ckpt::RocksFile& m) {
  m.set_name(f.name);
  m.set_size(static_cast<int64_t>(f.size));
  m.set_shared(f.shared);
  if (f.source != rocks::FileSource::kInline) m.set_source(f.path.string());
  m.set_original(f.original);
}

}  // namespace

ckpt::MaterializeReport materialize_message(const std::string& input, const std::string& output,
                                            const ops::MaterializePlan& plan, const ops::MaterializeResult* result) {
  ckpt::MaterializeReport pb;
  pb.set_input(input);
  pb.set_output(output);
  pb.set_dry_run(result == nullptr);
  pb.set_operator_id(plan.operator_id);
  pb.set_operator_uid(plan.operator_uid);
  pb.set_subtask(plan.db.subtask);
  pb.set_keyed_tag(plan.tag);
  pb.set_checkpoint_id(plan.checkpoint_id);
  pb.set_backend_id(plan.backend_id);
  pb.set_key_group_start(plan.range.start);
  pb.set_key_group_end(plan.range.end_inclusive());
  pb.set_total_bytes(static_cast<int64_t>(plan.db.bytes));
  for (std::size_t i = 0; i < plan.db.files.size(); ++i) {
    auto* m = pb.add_files();
    fill_input_file(plan.db.files[i], *m);
    if (result && i < result->placed.how.size()) m->set_method(rocks::place_how_name(result->placed.how[i]));
  }
  if (result) {
    pb.set_linked(result->placed.linked);
    pb.set_copied(result->placed.copied);
    pb.set_cut(result->placed.cut);
    pb.set_inlined(result->placed.inlined);
    for (const auto& cf : result->column_families) pb.add_column_families(cf);
    for (const auto& n : result->notes) pb.add_notes(n);
  }
  return pb;
}

ckpt::CompactReport compact_message(const std::string& input, const std::string& output, const ops::CompactPlan& plan,
                                    const ops::CompactResult* result) {
  ckpt::CompactReport pb;
  pb.set_input(input);
  pb.set_output(output);
  pb.set_dry_run(result == nullptr);
  pb.set_files_before(plan.files_before);
  pb.set_bytes_before(static_cast<int64_t>(plan.bytes_before));
  pb.set_carried_files(plan.carried_files);
  pb.set_carried_bytes(static_cast<int64_t>(plan.carried_bytes));
  for (const auto& n : plan.notes) pb.add_notes(n);
  std::map<int, const ops::CompactedSubtask*> done;
  if (result) {
    for (const auto& cs : result->subtasks) done[cs.plan_index] = &cs;
  }
  int64_t files_after = 0, bytes_after = 0, entries = 0;
  for (std::size_t i = 0; i < plan.subtasks.size(); ++i) {
    const ops::CompactSubtaskPlan& sp = plan.subtasks[i];
    auto* m = pb.add_subtasks();
    m->set_operator_id(sp.operator_id);
    m->set_operator_uid(sp.operator_uid);
    m->set_subtask(sp.db.subtask);
    m->set_files_before(static_cast<int32_t>(sp.db.files.size()));
    m->set_sst_before(sp.sst_before);
    m->set_bytes_before(static_cast<int64_t>(sp.db.bytes));
    auto it = done.find(static_cast<int>(i));
    if (it == done.end()) continue;
    const ops::CompactedSubtask& cs = *it->second;
    m->set_files_after(cs.files_after);
    m->set_sst_after(cs.sst_after);
    m->set_bytes_after(static_cast<int64_t>(cs.bytes_after));
    m->set_seconds(cs.seconds);
    for (const auto& cf : cs.column_families) {
      auto* c = m->add_column_families();
      c->set_name(cf.name);
      c->set_entries(static_cast<int64_t>(cf.entries));
      c->set_key_bytes(static_cast<int64_t>(cf.key_bytes));
      c->set_value_bytes(static_cast<int64_t>(cf.value_bytes));
      entries += static_cast<int64_t>(cf.entries);
    }
    for (const auto& cf : cs.files) {
      auto* f = m->add_files();
      f->set_name(cf.name);
      f->set_size(static_cast<int64_t>(cf.size));
      f->set_shared(rocks::is_sst(cf.name));
      f->set_output_name(cf.output_name);
    }
    files_after += cs.files_after;
    util::sat_accumulate(bytes_after, util::clamp_to_i64(cs.bytes_after));
  }
  if (result) {
    pb.set_files_after(static_cast<int32_t>(files_after));
    pb.set_bytes_after(bytes_after);
    pb.set_metadata_bytes(static_cast<int64_t>(result->written.metadata.size()));
    pb.set_entries(entries);
    pb.set_linked(result->stats.linked);
    pb.set_copied(result->stats.copied);
    for (const auto& n : result->written.notes) pb.add_notes(n);
    for (const auto& n : result->notes) pb.add_notes(n);
  }
  return pb;
}

}  // namespace ckpt::rocks_json
