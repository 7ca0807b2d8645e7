// `ckpt diff A B`: flags, one call into ops::diff, rendering (text, --stat, --json).
#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "export/diff_json.h"
#include "ops/diff.h"
#include "ops/snapshot_input.h"
#include "ops/snapshot_source.h"
#include "output_flags.h"
#include "path_args.h"
#include "render.h"
#include "storage_flags.h"
#include "util/saturating.h"

namespace ckpt::cli {
namespace {

struct DiffArgs {
  std::vector<std::string> defines;
  std::string a, b;
  bool stat = false;
  bool json = false;
  bool pretty = false;
};

// Sizes come from the snapshots: the difference saturates (util/saturating.h).
std::string delta(int64_t a, int64_t b) {
  int64_t d = util::sat_sub(b, a);
  if (d == 0) return "±0";
  return (d > 0 ? "+" : "-") + human_bytes(d > 0 ? d : util::sat_sub<int64_t>(0, d));
}

std::string size_of(int64_t s) { return s < 0 ? "?" : human_bytes(s); }

std::string op_label(const ops::OperatorDiff& o) {
  const std::string& uid = o.uid_b.empty() ? o.uid_a : o.uid_b;
  const std::string& name = o.name_b.empty() ? o.name_a : o.name_b;
  if (!uid.empty()) return uid;
  return name.empty() ? "-" : name;
}

std::string render_stat(const ops::DiffResult& r) {
  int added = 0, removed = 0, changed = 0, rescaled = 0;
  for (const auto& o : r.operators) {
    if (o.change == ops::OperatorDiff::Change::kAdded) ++added;
    if (o.change == ops::OperatorDiff::Change::kRemoved) ++removed;
    if (o.change == ops::OperatorDiff::Change::kChanged) {
      ++changed;
      if (o.rescaled()) ++rescaled;
    }
  }
  int sst_add = 0, sst_rm = 0;
  for (const auto& c : r.sst) {
    sst_add += static_cast<int>(c.added.size());
    sst_rm += static_cast<int>(c.removed.size());
  }
  std::string out;
  out += fmt::format("properties  {} changed\n", r.properties.size());
  out += fmt::format("operators   {} added, {} removed, {} changed ({} rescaled)\n", added, removed, changed, rescaled);
  out += fmt::format("state       {} -> {} ({})\n", human_bytes(r.total_a.total()), human_bytes(r.total_b.total()),
                     delta(r.total_a.total(), r.total_b.total()));
  out += fmt::format("files       {} shared ({}), {} new ({}), {} dropped ({}), {} resized\n", r.shared.count,
                     human_bytes(r.shared.bytes), r.added.count, human_bytes(r.added.bytes), r.dropped.count,
                     human_bytes(r.dropped.bytes), r.resized_files.size());
  if (!r.sst.empty())
    out += fmt::format("sst         {} added, {} removed in {} subtasks\n", sst_add, sst_rm, r.sst.size());
  if (r.other) out += "other       the _metadata encodings differ (handle ids, offsets or inline state)\n";
  out += r.equal() ? "equal\n" : "different\n";
  return out;
}

std::string render_text(const ops::DiffResult& r) {
  std::string out;
  out += fmt::format("--- a {}\n+++ b {}\n", r.label_a, r.label_b);
  if (r.equal()) return out + "equal\n";
  if (!r.properties.empty()) {
    out += "\nproperties\n";
    Table t({"FIELD", "A", "B"});
    for (const auto& p : r.properties) t.row({p.field, p.a, p.b});
    out += t.str();
  }
  bool any_op = false;
  Table ot({"", "OPERATOR", "UID / NAME", "PAR/MAX", "STATE A", "STATE B", "DELTA"},
           {false, false, false, false, true, true, true});
  std::string subtask_lines;
  for (const auto& o : r.operators) {
    if (o.change == ops::OperatorDiff::Change::kUnchanged) continue;
    any_op = true;
    std::string mark = o.change == ops::OperatorDiff::Change::kAdded     ? "+"
                       : o.change == ops::OperatorDiff::Change::kRemoved ? "-"
                                                                         : "~";
    std::string par;
    if (o.change == ops::OperatorDiff::Change::kAdded) par = fmt::format("{}/{}", o.parallelism_b, o.max_parallelism_b);
    else if (o.change == ops::OperatorDiff::Change::kRemoved)
      par = fmt::format("{}/{}", o.parallelism_a, o.max_parallelism_a);
    else if (o.rescaled())
      par = fmt::format("{}/{} -> {}/{}", o.parallelism_a, o.max_parallelism_a, o.parallelism_b, o.max_parallelism_b);
    else par = fmt::format("{}/{}", o.parallelism_b, o.max_parallelism_b);
    std::string label = op_label(o);
    if (o.change == ops::OperatorDiff::Change::kChanged && o.renamed()) {
      label = fmt::format("{} -> {}", o.uid_a.empty() ? o.name_a : o.uid_a, o.uid_b.empty() ? o.name_b : o.uid_b);
    }
    bool has_a = o.change != ops::OperatorDiff::Change::kAdded, has_b = o.change != ops::OperatorDiff::Change::kRemoved;
    ot.row({mark, o.id, label, par, has_a ? human_bytes(o.a.total()) : "-", has_b ? human_bytes(o.b.total()) : "-",
            delta(o.a.total(), o.b.total())});
    if (o.change == ops::OperatorDiff::Change::kChanged) {
      for (const auto& s : o.subtasks) {
        subtask_lines +=
            fmt::format("  {} subtask {}: {} -> {} ({})\n", o.id, s.index, s.in_a ? human_bytes(s.a.total()) : "absent",
                        s.in_b ? human_bytes(s.b.total()) : "absent", delta(s.a.total(), s.b.total()));
      }
    }
  }
  if (any_op) {
    out += "\noperators\n" + ot.str();
    if (!subtask_lines.empty()) out += "\nsubtasks\n" + subtask_lines;
  }
  out += fmt::format("\nstate\n  {} -> {} ({}): keyed {}, operator {}, channel {}, coordinator {}\n",
                     human_bytes(r.total_a.total()), human_bytes(r.total_b.total()),
                     delta(r.total_a.total(), r.total_b.total()), delta(r.total_a.keyed, r.total_b.keyed),
                     delta(r.total_a.operator_state, r.total_b.operator_state),
                     delta(r.total_a.channel, r.total_b.channel), delta(r.total_a.coordinator, r.total_b.coordinator));
  out += fmt::format("\nfiles\n  {} shared by both ({}), {} new in b ({}), {} dropped from a ({})\n", r.shared.count,
                     human_bytes(r.shared.bytes), r.added.count, human_bytes(r.added.bytes), r.dropped.count,
                     human_bytes(r.dropped.bytes));
  for (const auto& f : r.new_files) out += fmt::format("  + {} ({})\n", f.path, size_of(f.size_b));
  for (const auto& f : r.dropped_files) out += fmt::format("  - {} ({})\n", f.path, size_of(f.size_a));
  for (const auto& f : r.resized_files)
    out += fmt::format("  ~ {} ({} -> {})\n", f.path, size_of(f.size_a), size_of(f.size_b));
  if (!r.sst.empty()) {
    out += "\nrocksdb sst files\n";
    for (const auto& c : r.sst) {
      out += fmt::format("  {} subtask {}: {} added, {} removed, {} kept\n", c.operator_id, c.subtask, c.added.size(),
                         c.removed.size(), c.kept);
      for (const auto& f : c.added) out += fmt::format("    + {} ({}) {}\n", f.local_name, size_of(f.size_b), f.path);
      for (const auto& f : c.removed) out += fmt::format("    - {} ({}) {}\n", f.local_name, size_of(f.size_a), f.path);
    }
  }
  if (r.other) out += "\nother\n  the _metadata encodings differ (handle ids, key-group offsets or inline state)\n";
  return out;
}

int run_diff(DiffArgs& a) {
  for (std::string* p : {&a.a, &a.b}) {
    if (read_in_object_store(*p)) continue;
    if (auto e = localise_path_args({p})) return fail("diff", *e);
  }
  std::string bad;
  auto config = parse_storage_config(a.defines, bad);
  if (!config) return fail("diff", "-D " + bad + ": expected KEY=VALUE");
  ops::SnapshotInput x = ops::load_snapshot_input(a.a, ops::InputForm::kAuto, *config);
  ops::SnapshotInput y = ops::load_snapshot_input(a.b, ops::InputForm::kAuto, *config);
  ops::DiffResult r = ops::diff(x, y);
  if (a.json) diff_json::write_diff_report(r, a.pretty, stdout);
  else std::fputs((a.stat ? render_stat(r) : render_text(r)).c_str(), stdout);
  return r.equal() ? kExitOk : kExitProblems;
}

}  // namespace

void register_diff(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DiffArgs>();
  CLI::App* cmd = app.add_subcommand("diff", "Show what changed between two snapshots");
  cmd->description(
      "Compare two checkpoints or savepoints (or ckpt JSON exports of them): properties, operators added,\n"
      "removed or rescaled, state sizes per operator and subtask, files shared, new and dropped, and the\n"
      "RocksDB .sst files that changed. Exit 0 when equal, 1 when different, 2 on errors (as diff(1)).");
  cmd->add_option("a", args->a, "First snapshot (_metadata file, snapshot directory or JSON export)")->required();
  cmd->add_option("b", args->b, "Second snapshot")->required();
  add_storage_config_option(*cmd, args->defines);
  cmd->add_flag("--stat", args->stat, "Print a short summary only");
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->callback([args, &exit_code] { exit_code = run_diff(*args); });
}

}  // namespace ckpt::cli
