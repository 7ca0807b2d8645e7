#include "export/prune_json.h"

#include <algorithm>
#include <unordered_map>

#include "codec/json.h"
#include "flink/handles.h"
#include "util/saturating.h"

namespace ckpt::prune_json {
namespace {

int64_t ms(int64_t ns) { return ns / 1000000; }

std::string form_name(snapshot::PathForm f) {
  switch (f) {
    case snapshot::PathForm::kRelative:
      return "relative";
    case snapshot::PathForm::kAbsolute:
      return "absolute";
    case snapshot::PathForm::kSegment:
      return "segment";
  }
  return "?";
}

void add_rules(uint32_t rules, google::protobuf::RepeatedPtrField<std::string>* out) {
  std::string all = ops::describe_rules(rules);
  size_t i = 0;
  while (i < all.size()) {
    size_t j = all.find(", ", i);
    if (j == std::string::npos) j = all.size();
    out->Add(all.substr(i, j - i));
    i = j + 2;
  }
}

ckpt::PlannedSnapshot::Kind kind_enum(const snapshot::GraphSnapshot& s) {
  if (s.savepoint) return ckpt::PlannedSnapshot::SAVEPOINT;
  return s.loc.dir_kind == snapshot::DirKind::kCheckpoint ? ckpt::PlannedSnapshot::CHECKPOINT
                                                          : ckpt::PlannedSnapshot::OTHER;
}

ckpt::PlannedDeletion::Reason reason_enum(ops::DeleteReason r) {
  switch (r) {
    case ops::DeleteReason::kPrunedMetadata:
      return ckpt::PlannedDeletion::PRUNED_METADATA;
    case ops::DeleteReason::kPrunedFile:
      return ckpt::PlannedDeletion::PRUNED_FILE;
    case ops::DeleteReason::kReleased:
      return ckpt::PlannedDeletion::RELEASED;
    case ops::DeleteReason::kOrphan:
      return ckpt::PlannedDeletion::ORPHAN;
    case ops::DeleteReason::kIncomplete:
      return ckpt::PlannedDeletion::INCOMPLETE;
    case ops::DeleteReason::kDirectory:
      return ckpt::PlannedDeletion::EMPTY_DIRECTORY;
  }
  return ckpt::PlannedDeletion::REASON_UNSPECIFIED;
}

}  // namespace

std::string kind_of(const snapshot::GraphSnapshot& s) {
  // The JSON's classification, named as text output spells it.
  switch (kind_enum(s)) {
    case ckpt::PlannedSnapshot::SAVEPOINT:
      return "savepoint";
    case ckpt::PlannedSnapshot::CHECKPOINT:
      return "checkpoint";
    default:
      return "other";
  }
}

std::vector<int64_t> bytes_by_snapshot(const ops::PlanRun& run) {
  std::vector<int64_t> out(run.graph.snapshots.size(), 0);
  const auto& dels = run.plan.deletions;
  for (const auto& d : dels) {
    if (d.reason == ops::DeleteReason::kPrunedMetadata && !d.users.empty())
      util::sat_accumulate(out[d.users[0]], d.entry.size);
    if (d.reason == ops::DeleteReason::kReleased && d.users.size() == 1)
      util::sat_accumulate(out[d.users[0]], d.entry.size);
    // A pruned snapshot's own file waits for exactly its `_metadata` deletion (deletion_plan.h).
    if (d.reason == ops::DeleteReason::kPrunedFile && !d.after.empty()) {
      const auto& md = dels[d.after[0]];
      if (!md.users.empty()) util::sat_accumulate(out[md.users[0]], d.entry.size);
    }
  }
  return out;
}

void write_plan_json(const ops::PlanRun& run, const std::string& command, const ops::PlanOptions& options,
                     const ops::ApplyResult* outcome, bool pretty, std::FILE* out) {
  const ops::Plan& p = run.plan;
  const auto& g = run.graph;
  ckpt::PrunePlan m;
  m.set_command(command);
  m.set_root(run.inventory.root.string());
  m.set_dry_run(outcome == nullptr);
  m.set_now_unix_ms(ms(options.now_ns));
  m.set_grace_ms(ms(options.grace_ns));
  std::vector<int64_t> freed = bytes_by_snapshot(run);
  int kept = 0;
  for (const auto& d : p.snapshots) {
    const auto& s = g.snapshots[d.snapshot];
    auto* ps = m.add_snapshots();
    ps->set_path(s.loc.directory.string());
    ps->set_checkpoint_id(s.checkpoint_id);
    ps->set_kind(kind_enum(s));
    ps->set_group(d.group);
    ps->set_modified_unix_ms(ms(s.mtime_ns));
    ps->set_keep(d.keep);
    add_rules(d.rules, ps->mutable_rules());
    ps->set_under_protect(s.protected_origin);
    ps->set_error(s.error);
    ps->set_exclusive_bytes(freed[d.snapshot]);
    kept += d.keep;
  }
  for (const auto& mf : p.missing) {
    auto* mm = m.add_missing();
    mm->set_path(mf.path.string());
    mm->set_recorded_size(mf.recorded_size);
    mm->set_actual_size(mf.actual_size);
    for (uint32_t u : mf.users) mm->add_used_by(g.snapshots[u].loc.directory.string());
  }
  for (const auto& y : p.young) {
    auto* l = m.add_left();
    l->set_path(y.path);
    l->set_why("younger than grace");
    l->set_modified_unix_ms(ms(y.mtime_ns));
  }
  for (const auto& y : p.left) {
    auto* l = m.add_left();
    l->set_path(y.path);
    l->set_why(y.type == ops::FsEntry::Type::kSymlink ? "symbolic link" : "not a regular file");
    l->set_modified_unix_ms(ms(y.mtime_ns));
  }
  for (const auto& w : p.warnings) m.add_warnings(w);
  for (const auto& mv : p.moved) {
    auto* pm = m.add_moved();
    pm->set_from(mv.from);
    pm->set_to(mv.to);
    pm->set_files(mv.files);
    pm->set_missing(mv.missing);
    pm->set_fix(ops::relocation_command(mv, run.inventory.root));
  }
  m.set_withheld(p.withheld);
  auto* t = m.mutable_totals();
  t->set_snapshots(static_cast<int32_t>(p.snapshots.size()));
  t->set_kept(kept);
  t->set_pruned(static_cast<int32_t>(p.snapshots.size()) - kept);
  t->set_files_deleted(p.files_deleted);
  t->set_directories_deleted(p.dirs_deleted);
  t->set_bytes_freed(p.bytes_freed);
  t->set_young(static_cast<int32_t>(p.young.size()));
  t->set_missing(static_cast<int32_t>(p.missing.size()));
  if (outcome) {
    auto* o = m.mutable_outcome();
    o->set_files_deleted(outcome->files_deleted);
    o->set_directories_deleted(outcome->dirs_deleted);
    o->set_bytes_freed(outcome->bytes_freed);
    for (const auto& f : outcome->failures) {
      auto* af = o->add_failures();
      af->set_path(f.path.string());
      af->set_why(f.why);
    }
  }
  // A released pool file names every snapshot that used it: the directories are spelled once.
  std::vector<std::string> dir_of(g.snapshots.size());
  for (size_t i = 0; i < g.snapshots.size(); ++i) dir_of[i] = g.snapshots[i].loc.directory.string();
  size_t next = 0;
  json::write_json(
      m, pretty, "deletions",
      [&](google::protobuf::Message& element) {
        if (next == p.deletions.size()) return false;
        const ops::Deletion& d = p.deletions[next++];
        auto& pd = static_cast<ckpt::PlannedDeletion&>(element);
        pd.set_path(d.entry.path);
        pd.set_type(d.entry.type == ops::FsEntry::Type::kDir ? ckpt::PlannedDeletion::DIRECTORY
                                                             : ckpt::PlannedDeletion::FILE);
        pd.set_reason(reason_enum(d.reason));
        pd.set_bytes(d.entry.type == ops::FsEntry::Type::kDir ? 0 : d.entry.size);
        pd.set_modified_unix_ms(ms(d.entry.mtime_ns));
        for (uint32_t u : d.users) pd.add_used_by(dir_of[u]);
        return true;
      },
      json::stdio_sink(out));
}

ckpt::FileExplanation explanation_message(const ops::PlanRun& run, const ops::Explanation& e) {
  ckpt::FileExplanation m;
  m.set_path(e.path.string());
  m.set_referenced(e.file.has_value());
  if (e.file) m.set_handles(static_cast<int32_t>(run.graph.files[*e.file].handles));
  for (const auto& u : e.uses) {
    auto* fu = m.add_uses();
    fu->set_snapshot(run.graph.snapshots[u.snapshot].loc.directory.string());
    bool keep = u.snapshot < run.plan.snapshots.size() && run.plan.snapshots[u.snapshot].keep;
    fu->set_kept(keep);
    if (u.snapshot < run.plan.snapshots.size()) add_rules(run.plan.snapshots[u.snapshot].rules, fu->mutable_rules());
    fu->set_operator_index(u.ref.ref.operator_index);
    fu->set_operator_id(u.operator_id);
    fu->set_subtask(u.ref.ref.subtask_index);
    fu->set_role(std::string(flink::role_name(u.ref.ref.role)));
    fu->set_local_name(u.local_name);
    fu->set_form(form_name(u.ref.form));
    fu->set_size(u.ref.size);
    fu->set_segment_start(u.ref.segment_start);
  }
  m.set_verdict(e.verdict);
  return m;
}

}  // namespace ckpt::prune_json
