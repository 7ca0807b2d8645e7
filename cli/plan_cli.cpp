#include "plan_cli.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "codec/json.h"
#include "commands.h"
#include "console.h"
#include "export/prune_json.h"
#include "io/decode_error.h"
#include "map_flags.h"
#include "ops/plan_executor.h"
#include "ops/prune_plan.h"
#include "ops/snapshot_source.h"
#include "ops/store_plan.h"
#include "output_flags.h"
#include "path_args.h"
#include "progress.h"
#include "render.h"
#include "storage_flags.h"
#include "util/flink_units.h"

namespace ckpt::cli {
namespace {

std::string rel(const std::filesystem::path& p, const std::filesystem::path& root) {
  if (!snapshot::is_within(p, root)) return p.string();
  auto r = p.lexically_relative(root);
  return r.empty() ? "." : r.string();
}

std::string rel(const std::string& p, const std::filesystem::path& root) {
  // The common case without building a path: p below root, both normal.
  const std::string& r = root.native();
  if (r.size() > 1 && p.size() > r.size() + 1 && p.starts_with(r) && p[r.size()] == '/' &&
      snapshot::is_plainly_normal(p) && snapshot::is_plainly_normal(r)) {
    return p.substr(r.size() + 1);
  }
  return rel(std::filesystem::path(p), root);
}

// The deletions table is printed row by row as it is made: a plan may list millions.
void print_plan(const ops::PlanRun& run, const std::string& command, const std::string& policy_line,
                const ops::PlanOptions& options, bool dry_run, bool list_deletions, std::FILE* file) {
  auto emit = [file](std::string_view piece) { std::fwrite(piece.data(), 1, piece.size(), file); };
  const ops::Plan& p = run.plan;
  const auto& g = run.graph;
  const auto& root = run.inventory.root;
  std::string out;
  out += fmt::format("{} {}{}\npolicy: {}; grace {}s\n\n", command, root.string(),
                     dry_run ? " (dry run: nothing deleted)" : "", policy_line, options.grace_ns / 1000000000);
  std::vector<int64_t> freed = prune_json::bytes_by_snapshot(run);
  Table t({"CHECKPOINT", "KIND", "MODIFIED (UTC)", "DECISION", "WHY KEPT", "FREES", "PATH"},
          {true, false, false, false, false, true, false});
  int kept = 0;
  for (const auto& d : p.snapshots) {
    const auto& s = g.snapshots[d.snapshot];
    kept += d.keep;
    t.row({s.readable ? std::to_string(s.checkpoint_id) : "?", prune_json::kind_of(s),
           s.mtime_ns ? utc_time(s.mtime_ns / 1000000000) : "-", d.keep ? "keep" : "prune",
           d.keep ? ops::describe_rules(d.rules) : "-", d.keep ? "-" : human_bytes(freed[d.snapshot]),
           rel(s.loc.directory, root)});
  }
  out += t.empty() ? "no snapshots\n"
                   : console::paint_column(console::Stream::kOut, t.str(), "DECISION", [](std::string_view c) {
                       static const console::Style keep = console::Style::kGood, prune = console::Style::kBad;
                       return c == "keep" ? &keep : c == "prune" ? &prune : nullptr;
                     });
  if (list_deletions && !p.deletions.empty()) {
    out += "\n";
    emit(out);
    out.clear();
    Table dt({"DELETE", "SIZE", "PATH"}, {false, true, false});
    dt.print(
        p.deletions.size(),
        [&](size_t i) -> std::vector<std::string> {
          const ops::Deletion& d = p.deletions[i];
          return {std::string(ops::reason_name(d.reason)),
                  d.entry.type == ops::FsEntry::Type::kDir ? "-" : human_bytes(d.entry.size), rel(d.entry.path, root)};
        },
        emit);
  }
  if (list_deletions && (!p.young.empty() || !p.left.empty())) {
    out += "\n";
    Table lt({"LEFT", "MODIFIED (UTC)", "PATH"});
    for (const auto& y : p.young) lt.row({"younger than grace", utc_time(y.mtime_ns / 1000000000), rel(y.path, root)});
    for (const auto& y : p.left) {
      lt.row({y.type == ops::FsEntry::Type::kSymlink ? "symbolic link" : "not a regular file",
              utc_time(y.mtime_ns / 1000000000), rel(y.path, root)});
    }
    out += lt.str();
  }
  if (!p.missing.empty()) {
    out += "\n";
    Table mt({"MISSING OR SHORT (referenced by kept snapshots)", "RECORDED", "ACTUAL", "USED BY"},
             {false, true, true, false});
    for (const auto& m : p.missing) {
      std::string users;
      for (uint32_t u : m.users) users += (users.empty() ? "" : ", ") + rel(g.snapshots[u].loc.directory, root);
      mt.row({m.path.string(), human_bytes(m.recorded_size), m.actual_size < 0 ? "missing" : human_bytes(m.actual_size),
              users});
    }
    out += mt.str();
  }
  out += fmt::format("\n{} snapshots: keep {}, prune {}. {} {} files and {} directories, freeing {} ({} bytes).",
                     p.snapshots.size(), kept, p.snapshots.size() - kept, dry_run ? "Would delete" : "Deleting",
                     p.files_deleted, p.dirs_deleted, human_bytes(p.bytes_freed), p.bytes_freed);
  if (!p.young.empty()) out += fmt::format(" {} entries younger than the grace period left.", p.young.size());
  if (!p.missing.empty()) out += fmt::format(" {} referenced files missing or short (not fixed).", p.missing.size());
  out += "\n";
  if (p.withheld) {
    out += fmt::format(
        "Nothing {}deleted: kept snapshots miss {} file{} (listed above), so this plan cannot be "
        "trusted; {} deletion{} held back. Restore the files (or fix moved references, see stderr), "
        "or pass --allow-missing to delete the rest anyway (dangerous).\n",
        dry_run ? "would be " : "", p.missing.size(), p.missing.size() == 1 ? "" : "s", p.withheld,
        p.withheld == 1 ? "" : "s");
  }
  emit(out);
}

// One line for a moved or copied directory: what moved, what is protected, and the fix.
std::string moved_line(const ops::MovedPrefix& m, const std::filesystem::path& root) {
  std::string what = m.missing ? fmt::format("{} of them are gone from {}", m.missing, m.from)
                               : std::string("the originals still exist");
  return fmt::format(
      "moved: kept checkpoints reference {} file{} under {} that sit under {} (a moved or copied "
      "directory; {}); they are kept. Fix the references: {}",
      m.files, m.files == 1 ? "" : "s", m.from, m.to, what, ops::relocation_command(m, root));
}

std::string render_explanation(const ops::PlanRun& run, const ops::Explanation& e) {
  std::string out = fmt::format("file     {}\n", e.path.string());
  if (!e.file) {
    out += "used by  no snapshot\n";
  } else {
    const auto& f = run.graph.files[*e.file];
    out += fmt::format("used by  {} snapshot{}, {} handle{}{}\n", f.users.size(), f.users.size() == 1 ? "" : "s",
                       f.handles, f.handles == 1 ? "" : "s", f.segment ? " (file-merging segments)" : "");
  }
  out += fmt::format("verdict  {}\n", e.verdict);
  if (e.uses.empty()) return out;
  out += "\n";
  Table t({"SNAPSHOT", "DECISION", "OPERATOR", "SUBTASK", "ROLE", "LOCAL NAME", "FORM", "SIZE"},
          {false, false, false, true, false, false, false, true});
  for (const auto& u : e.uses) {
    const auto& d = run.plan.snapshots[u.snapshot];
    std::string size = human_bytes(u.ref.size);
    if (u.ref.form == snapshot::PathForm::kSegment) size += fmt::format(" @{}", u.ref.segment_start);
    t.row({rel(run.graph.snapshots[u.snapshot].loc.directory, run.inventory.root),
           d.keep ? "keep (" + ops::describe_rules(d.rules) + ")" : "prune", u.operator_id,
           u.ref.ref.subtask_index < 0 ? "-" : std::to_string(u.ref.ref.subtask_index),
           std::string(flink::role_name(u.ref.ref.role)), u.local_name.empty() ? "-" : u.local_name,
           u.ref.form == snapshot::PathForm::kRelative   ? "relative"
           : u.ref.form == snapshot::PathForm::kAbsolute ? "absolute"
                                                         : "segment",
           size});
  }
  return out + t.str();
}

void print_explanation(const ops::PlanRun& run, const ops::Explanation& e, const PlanArgs& a, std::FILE* out) {
  if (a.json) {
    json::write_json(prune_json::explanation_message(run, e), a.pretty, out);
    std::fputs("\n", out);
  } else {
    std::fputs(render_explanation(run, e).c_str(), out);
  }
}

}  // namespace

void add_plan_flags(CLI::App* cmd, PlanArgs& a) {
  cmd->add_option("root", a.root, "Job directory (holding chk-N, shared/, taskowned/) or a root holding jobs")
      ->required();
  add_dry_run_flag(*cmd, a.dry_run, "delete", true);
  add_json_flags(*cmd, a.json, a.pretty);
  cmd->add_option("--protect", a.protect,
                  "Also keep every file used by snapshots under DIR (repeatable), e.g. a savepoint a job was "
                  "restored from in CLAIM or LEGACY mode");
  add_map_option(*cmd, a.maps);
  cmd->add_option("--grace", a.grace,
                  "Touch nothing modified more recently than this (default 1h; Flink's syntax: 30 min, 30min, 2 h, 0)");
  cmd->add_flag("--skip-unreadable", a.skip_unreadable,
                "Keep snapshots whose _metadata cannot be read, and everything of their jobs, instead of refusing");
  cmd->add_flag("--allow-missing", a.allow_missing,
                "DANGEROUS: delete the rest although kept snapshots already miss files (default: delete nothing); "
                "files named like a missing one are still kept");
  cmd->add_option("--explain", a.explain, "Say which snapshots use FILE and what the plan does with it");
  cmd->add_option("--now", a.now, "Pretend the time is UNIX_SECONDS (for tests and reproducible plans)");
  cmd->add_flag("--verbose,-v", a.verbose, "List every deletion also when applying");
  add_storage_config_option(*cmd, a.defines);
}

namespace {

int usage_error(const std::string& who, const std::string& message) {
  return report_error(who, util::ErrorKind::kUsage, message, kExitUsage);
}

// The plan was refused (fail closed). Text: one line per reason, then "nothing deleted"; --json:
// one error whose message holds the reasons.
int refused(const std::string& who, const std::vector<std::string>& reasons) {
  std::string summary =
      fmt::format("nothing deleted ({} reason{} above)", reasons.size(), reasons.size() == 1 ? "" : "s");
  if (json_errors()) {
    std::string message = fmt::format("nothing deleted: refused: {}", fmt::join(reasons, "; refused: "));
    return report_error(who, util::ErrorKind::kRefused, message, kExitUsage);
  }
  for (const auto& r : reasons) console::error(who, "refused: " + r);
  return report_error(who, util::ErrorKind::kRefused, summary, kExitUsage);
}

// Writes what `write` prints with the virtual paths of `root` spelled as its URIs.
void emit_displayed(const ops::StoreRoot& root, std::FILE* to, const std::function<void(std::FILE*)>& write) {
  cli::emit_displayed(
      to, [&root](std::string_view text) { return root.display(text); }, write);
}

// prune and gc on an object-store root (ops/store_plan.h).
int run_store_plan(const std::string& command, const PlanArgs& a, const std::string& policy_line,
                   const std::function<ops::Decisions(const snapshot::ReferenceGraph&)>& decide,
                   std::vector<snapshot::PathMapping> maps, const ops::PlanOptions& options) {
  const std::string who = "ckpt " + command;
  std::string bad;
  auto config = parse_storage_config(a.defines, bad);
  if (!config) {
    return usage_error(who, "-D " + bad + ": expected KEY=VALUE");
  }
  ops::StoreRoot root(a.root, *config);
  const bool apply = !a.dry_run && a.explain.empty();
  std::optional<ops::StoreLease> lease;
  if (apply) {
    std::string holder;
    // Renewed while the run lasts; a run that died elsewhere blocks others for at most this.
    // CKPT_TEST_LEASE_TTL (seconds) is a test hook.
    int64_t ttl_s = 15 * 60;
    if (const char* t = std::getenv("CKPT_TEST_LEASE_TTL"); t && std::atoll(t) > 0) ttl_s = std::atoll(t);
    std::string taken_over;
    lease = ops::StoreLease::try_acquire(root, command, ttl_s, holder, &taken_over);
    if (!lease) {
      return report_error(who, util::ErrorKind::kRefused,
                          fmt::format("{}: another ckpt prune or gc holds the lease {}/{} ({})", root.uri(), root.uri(),
                                      ops::kLeaseName, holder),
                          kExitUsage);
    }
    if (!taken_over.empty()) console::note(who, "took over the lease of " + taken_over);
  }
  ops::StorePlanRequest req;
  req.protect = a.protect;
  req.mappings = maps;
  req.options = options;
  ops::PlanRun run = ops::plan_store_root(root, req, decide);
  if (!run.refusals.empty()) return refused(who, run.refusals);
  for (const auto& w : run.plan.warnings) console::warn(who, root.display(w));
  for (const auto& m : run.plan.moved)
    std::fprintf(stderr, "%s: %s\n", who.c_str(), root.display(moved_line(m, run.inventory.root)).c_str());
  if (!a.explain.empty()) {
    std::optional<ops::Explanation> e = ops::explain_store(run, root, a.explain, maps);
    if (!e) {
      std::fprintf(stderr, "%s: --explain %s: expected an object of %s or a path under a --map\n", who.c_str(),
                   a.explain.c_str(), root.uri().c_str());
      return kExitUsage;
    }
    emit_displayed(root, stdout, [&](std::FILE* out) { print_explanation(run, *e, a, out); });
    return kExitOk;
  }
  std::optional<ops::ApplyResult> outcome;
  if (apply) {
    Progress progress(who, Progress::Unit::kItems, "deletions");
    outcome = ops::apply_store_plan(run, root, maps, progress.fn());
    progress.clear();
  }
  emit_displayed(root, stdout, [&](std::FILE* out) {
    if (a.json) {
      prune_json::write_plan_json(run, command, options, outcome ? &*outcome : nullptr, a.pretty, out);
      std::fputs("\n", out);
      return;
    }
    // Applied with --quiet: only what went wrong (stderr) is said.
    if (apply && console::quiet()) return;
    print_plan(run, command, policy_line, options, !apply, !apply || a.verbose, out);
    if (outcome) {
      std::fputs(fmt::format("Deleted {} objects, freed {} ({} bytes).\n", outcome->files_deleted,
                             human_bytes(outcome->bytes_freed), outcome->bytes_freed)
                     .c_str(),
                 out);
    }
  });
  if (outcome) {
    for (const auto& f : outcome->failures) {
      console::error(who, "not deleted: " + f.path.string() + ": " + f.why);
    }
  }
  if (lease) lease->release();
  bool problems = !run.plan.missing.empty() || (outcome && !outcome->ok());
  return problems ? kExitProblems : kExitOk;
}

}  // namespace

int run_plan_command(const std::string& command, PlanArgs a, const std::string& policy_line,
                     const std::function<ops::Decisions(const snapshot::ReferenceGraph&)>& decide) {
  const std::string who = "ckpt " + command;
  ops::PlanRequest req;
  std::string bad;
  auto maps = parse_map_flags(a.maps, bad);
  if (!maps) {
    return usage_error(who, "--map " + bad + ": expected PREFIX=DIR");
  }
  // An object-store root no --map mirrors is planned on the store itself.
  bool store_root = ops::is_object_store_path(a.root);
  for (const auto& m : *maps) {
    if (a.root.starts_with(m.prefix) && (a.root.size() == m.prefix.size() || a.root[m.prefix.size()] == '/')) {
      store_root = false;
    }
  }
  std::vector<snapshot::PathMapping> user_maps = *maps;
  // --explain FILE may name a remote file on purpose (which snapshots use it): resolved below.
  std::optional<std::string> path_error = std::nullopt;
  if (!store_root) path_error = localise_path_args({&a.root}, &*maps);
  if (!path_error && !store_root) path_error = localise_path_args(a.protect, &*maps);
  if (path_error) {
    return usage_error(who, *path_error);
  }
  req.root = a.root;
  for (const auto& p : a.protect) req.protect.emplace_back(p);
  req.mappings = std::move(*maps);
  auto grace = util::parse_duration_ns(a.grace);
  if (!grace) {
    return usage_error(who, "--grace " + a.grace + ": expected " + std::string(util::kDurationSyntax));
  }
  req.options.grace_ns = *grace;
  req.options.skip_unreadable = a.skip_unreadable;
  req.options.allow_missing = a.allow_missing;
  if (a.now.empty()) {
    req.options.now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
  } else {
    int64_t s = 0;
    auto [end, ec] = std::from_chars(a.now.data(), a.now.data() + a.now.size(), s);
    if (ec != std::errc() || end != a.now.data() + a.now.size()) {
      return usage_error(who, "--now " + a.now + ": expected unix seconds");
    }
    req.options.now_ns = s * 1000000000;
  }
  if (store_root) return run_store_plan(command, a, policy_line, decide, std::move(user_maps), req.options);
  const bool apply = !a.dry_run && a.explain.empty();
  std::optional<ops::RootLock> lock;
  ops::PlanRun run;
  if (apply) {
    lock = ops::RootLock::try_acquire(ops::checked_root(a.root));
    if (!lock) {
      return report_error(who, util::ErrorKind::kRefused, a.root + ": another ckpt prune or gc is working on this root",
                          kExitUsage);
    }
  }
  run = ops::plan_root(req, decide);
  if (!run.refusals.empty()) return refused(who, run.refusals);
  for (const auto& w : run.plan.warnings) console::warn(who, w);
  for (const auto& m : run.plan.moved)
    std::fprintf(stderr, "%s: %s\n", who.c_str(), moved_line(m, run.inventory.root).c_str());

  if (!a.explain.empty()) {
    auto file = snapshot::local_path_of(a.explain, req.mappings);
    if (!file) {
      return usage_error(who, "--explain " + a.explain + ": a remote path no --map covers");
    }
    print_explanation(run, ops::explain(run, *file, req.mappings), a, stdout);
    return kExitOk;
  }

  std::optional<ops::ApplyResult> outcome;
  if (apply) {
    Progress progress(who, Progress::Unit::kItems, "deletions");
    outcome = ops::apply_plan(run.plan, *lock, progress.fn());
    progress.clear();
  }
  if (a.json) {
    prune_json::write_plan_json(run, command, req.options, outcome ? &*outcome : nullptr, a.pretty, stdout);
    std::fputs("\n", stdout);
  } else if (!apply || !console::quiet()) {
    print_plan(run, command, policy_line, req.options, !apply, !apply || a.verbose, stdout);
    if (outcome) {
      std::fputs(fmt::format("Deleted {} files and {} directories, freed {} ({} bytes).\n", outcome->files_deleted,
                             outcome->dirs_deleted, human_bytes(outcome->bytes_freed), outcome->bytes_freed)
                     .c_str(),
                 stdout);
    }
  }
  if (outcome) {
    for (const auto& f : outcome->failures) {
      console::error(who, "not deleted: " + f.path.string() + ": " + f.why);
    }
  }
  bool problems = !run.plan.missing.empty() || (outcome && !outcome->ok());
  return problems ? kExitProblems : kExitOk;
}

}  // namespace ckpt::cli
