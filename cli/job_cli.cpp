#include "job_cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "codec/json.h"
#include "commands.h"
#include "console.h"
#include "io/file_bytes.h"
#include "io/flink_config.h"
#include "io/temp_dir.h"
#include "output_flags.h"
#include "path_args.h"
#include "pipeline/config.h"
#include "pipeline/job.h"
#include "run.pb.h"
#include "util/error.h"

namespace ckpt::cli {
namespace {

// Fills `o` from the flags and Flink's configuration keys. Returns an exit code when a flag or a
// path argument cannot be used (the error line is printed), nothing when the command can run; a
// bad configuration throws (ConfigError, io::IoError) to main.
std::optional<int> resolve_run_options(RunArgs& a, const char* cmd, pipeline::RunOptions& o,
                                       std::vector<std::string>& warnings) {
  if (a.parallelism && *a.parallelism < 1) {
    return report_error(cmd, util::ErrorKind::kUsage,
                        fmt::format("-p {}: expected a parallelism of at least 1", *a.parallelism), kExitUsage);
  }
  if (a.params.generate > 0 && !a.params.input_dir.empty()) {
    return report_error(cmd, util::ErrorKind::kUsage, "give either --generate N or --input DIR, not both", kExitUsage);
  }
  if (auto e = localise_path_args({&a.config_file, &a.params.input_dir, &a.params.output_dir})) {
    return report_error(cmd, util::ErrorKind::kUsage, *e, kExitUsage);
  }
  pipeline::RawConfig raw;
  if (!a.config_file.empty()) raw = pipeline::raw_config_of(io::read_flink_config(a.config_file), a.config_file);
  for (const auto& d : a.defines) pipeline::apply_override(raw, d);
  if (a.parallelism) raw["parallelism.default"] = {std::to_string(*a.parallelism), "--parallelism"};
  if (a.format_version) {
    raw["ckpt.metadata.format-version"] = {std::to_string(*a.format_version), "--format-version"};
  }
  if (a.claim) raw["execution.state-recovery.claim-mode"] = {"CLAIM", "--claim"};
  if (a.allow_non_restored)
    raw["execution.state-recovery.ignore-unclaimed-state"] = {"true", "--allowNonRestoredState"};
  if (!a.restore_path.empty()) raw["execution.state-recovery.path"] = {a.restore_path, "--fromSavepoint"};
  pipeline::ResolvedConfig rc = pipeline::resolve_config(raw);
  o.config = rc.config;
  warnings = rc.warnings;
  for (const auto& w : warnings) console::warn(cmd, w);

  // The snapshot to restore (-s, `ckpt restore PATH` or execution.state-recovery.path); one in an
  // object store is restored from there (pipeline/restore.h).
  std::string restore_path = o.config.restore_path;
  if (!restore_path.empty()) {
    if (a.params.generate > 0 || !a.params.input_dir.empty()) {
      return report_error(cmd, util::ErrorKind::kUsage,
                          "a restored job reads the input of its snapshot: drop --generate / --input", kExitUsage);
    }
    if (!read_in_object_store(restore_path)) {
      if (auto e = localise_path_args({&restore_path}))
        return report_error(cmd, util::ErrorKind::kUsage, *e, kExitUsage);
    }
    o.restore = restore_path;
  }
  o.params = a.params;
  o.params.window_ms = pipeline::parse_duration_ms(a.window, "--window");
  o.params.allowed_lateness_ms = pipeline::parse_duration_ms(a.lateness, "--allowed-lateness");
  o.params.out_of_orderness_ms = pipeline::parse_duration_ms(a.out_of_orderness, "--out-of-orderness");
  o.params.max_disorder_ms = pipeline::parse_duration_ms(a.max_disorder, "--max-disorder");
  if (a.rate >= 0) {
    o.params.rate_limit = a.rate;
    o.rate_limit = a.rate;
  }
  o.job_id = a.job_id;
  o.fail_at = a.fail_at;
  o.stop_with_savepoint_on_sigterm = a.stop_on_sigterm;
  o.keep_checkpoints_on_finish = a.keep_checkpoints;
  // The job's log (checkpoints, restarts): its progress, on a terminal unless --quiet.
  if (a.verbose || (::isatty(STDERR_FILENO) && !console::quiet())) {
    o.log = [cmd](const std::string& line) { std::fprintf(stderr, "%s: %s\n", cmd, line.c_str()); };
  }
  return std::nullopt;
}

void print_run_json(const RunArgs& a, const pipeline::RunOptions& o, const pipeline::RunResult& r,
                    const std::vector<std::string>& warnings, const std::string& latest, double rate) {
  RunReport rep;
  rep.set_job_id(r.job_id);
  switch (r.status) {
    case pipeline::RunResult::Status::kFinished:
      rep.set_status(RunReport::FINISHED);
      break;
    case pipeline::RunResult::Status::kStopped:
      rep.set_status(RunReport::FINISHED);
      rep.set_stopped_with_savepoint(true);
      break;
    case pipeline::RunResult::Status::kCancelled:
      rep.set_status(RunReport::CANCELED);
      break;
    case pipeline::RunResult::Status::kFailed:
      rep.set_status(RunReport::FAILED);
      break;
  }
  rep.set_job_dir(r.job_dir.string());
  rep.set_restored_from(r.restored_from);
  rep.set_parallelism(o.config.parallelism);
  rep.set_restarts(r.restarts);
  rep.set_records(r.records);
  rep.set_seconds(r.seconds);
  rep.set_input_seconds(r.input_seconds);
  rep.set_records_per_second(rate);
  rep.set_failure(r.failure);
  rep.set_latest_checkpoint(latest);
  rep.set_local_recovered_subtasks(r.local_recovered);
  rep.set_remote_recovered_subtasks(r.remote_recovered);
  for (const auto& s : r.snapshots) {
    auto* e = rep.add_snapshots();
    e->set_id(s.id);
    e->set_savepoint(s.savepoint);
    e->set_ok(s.ok);
    (s.ok ? *e->mutable_path() : *e->mutable_error()) = s.path_or_error;
    e->set_duration_ms(s.duration_ms);
    e->set_state_bytes(s.state_bytes);
  }
  for (const auto& w : warnings) rep.add_warnings(w);
  std::fputs((json::to_json(rep, a.pretty) + "\n").c_str(), stdout);
}

void print_run_text(const pipeline::RunOptions& o, const pipeline::RunResult& r, const std::string& latest, double rate,
                    std::FILE* to) {
  int ok = 0, failed = 0, sp = 0;
  for (const auto& s : r.snapshots) {
    if (s.savepoint && s.ok) ++sp;
    else if (s.ok) ++ok;
    else ++failed;
  }
  std::string out;
  out += fmt::format("job         {}\n", r.job_id);
  out += fmt::format("status      {}\n", pipeline::status_name(r.status));
  if (!r.failure.empty()) out += fmt::format("failure     {}\n", r.failure);
  if (!r.restored_from.empty()) out += fmt::format("restored    {}\n", r.restored_from);
  if (r.local_recovered + r.remote_recovered > 0) {
    out += fmt::format("recovery    {} subtasks from local state, {} from the checkpoint storage\n", r.local_recovered,
                       r.remote_recovered);
  }
  out += fmt::format("records     {} in {:.2f} s ({:.0f} records/s), {} restarts\n", r.records, r.seconds, rate,
                     r.restarts);
  if (r.input_seconds > 0 && r.seconds - r.input_seconds >= 0.01) {
    out += fmt::format("input       processed in {:.2f} s, then the final checkpoint\n", r.input_seconds);
  }
  out += fmt::format("checkpoints {} completed, {} failed; {} savepoints\n", ok, failed, sp);
  if (!r.job_dir.empty() && (std::filesystem::exists(r.job_dir) || !latest.empty()))
    out += fmt::format("job dir     {}\n", r.job_dir.string());
  if (!latest.empty()) out += fmt::format("latest      {}\n", latest);
  for (const auto& s : r.snapshots) {
    if (s.savepoint && s.ok) out += fmt::format("savepoint   {}\n", s.path_or_error);
  }
  out += fmt::format("output      {}\n", o.params.output_dir.empty() ? "(from the snapshot)" : o.params.output_dir);
  std::fputs(out.c_str(), to);
}

// The sink directory of a run without --output: a fresh directory of the system's temp dir,
// removed with everything in it when the command ends.
struct ScratchOutput {
  io::TempDir tmp{"ckpt-run"};
  const std::filesystem::path& dir = tmp.path();
  // The committed part files, in name order.
  void print_results() const {
    std::vector<std::filesystem::path> parts;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.is_regular_file() && e.path().filename().string().starts_with("part-")) parts.push_back(e.path());
    }
    std::sort(parts.begin(), parts.end());
    for (const auto& p : parts) {
      const std::string bytes = io::read_file_bytes(p);
      std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    }
    std::fflush(stdout);
  }
};

}  // namespace

int run_job_command(RunArgs& a, bool restore) {
  const char* cmd = restore ? "ckpt restore" : "ckpt run";
  pipeline::RunOptions o;
  std::vector<std::string> warnings;
  if (auto code = resolve_run_options(a, cmd, o, warnings)) return *code;

  // No --output and nothing to restore: the results go to stdout (as Flink's WordCount example
  // prints them), from a sink directory of the system's temp dir removed afterwards; the summary
  // goes to stderr.
  std::optional<ScratchOutput> scratch;
  if (!o.restore && o.params.output_dir.empty()) {
    if (a.json) {
      return report_error(cmd, util::ErrorKind::kUsage,
                          "--json needs --output DIR (without it, the results are printed on stdout)", kExitUsage);
    }
    scratch.emplace();
    o.params.output_dir = scratch->dir.string();
  }

  const pipeline::RunResult r = pipeline::run_job(o);
  for (const auto& w : r.warnings) {
    console::warn(cmd, w);
    warnings.push_back(w);
  }

  const std::string& latest = r.latest_checkpoint;
  double rate = r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
  if (a.json) {
    print_run_json(a, o, r, warnings, latest, rate);
  } else if (scratch) {
    scratch->print_results();
    o.params.output_dir = "stdout";  // the summary's output line
    print_run_text(o, r, latest, rate, stderr);
  } else {
    print_run_text(o, r, latest, rate, stdout);
  }
  switch (r.status) {
    case pipeline::RunResult::Status::kFinished:
    case pipeline::RunResult::Status::kStopped:
      return kExitOk;
    default:
      return kExitProblems;
  }
}

void add_job_options(CLI::App* cmd, RunArgs& a, bool restore) {
  auto* p = &a.params;
  if (!restore) {
    cmd->add_option("--generate", p->generate, "Generate N records (deterministic, Zipf-distributed words)");
    cmd->add_option("--input", p->input_dir, "Read the .txt / .jsonl files of DIR (one split per file)");
    cmd->add_option("--seed", p->seed, "Generator seed")->capture_default_str();
    cmd->add_option("--vocabulary", p->vocabulary, "Generator: distinct words")->capture_default_str();
    cmd->add_option("--zipf", p->zipf_exponent, "Generator: Zipf exponent (0 = uniform)")->capture_default_str();
    cmd->add_option("--splits", p->generator_splits, "Generator: number of splits (like Kafka partitions)")
        ->capture_default_str();
    cmd->add_option("--events-per-second", p->events_per_second, "Generator: event-time rate")->capture_default_str();
    cmd->add_option("--max-disorder", a.max_disorder, "Generator: max lag of a timestamp behind its split")
        ->capture_default_str();
    cmd->add_option("--window", a.window, "Tumbling window size")->capture_default_str();
    cmd->add_option("--allowed-lateness", a.lateness, "Allowed lateness of the windows")->capture_default_str();
    cmd->add_option("--out-of-orderness", a.out_of_orderness, "Watermark bound (bounded out-of-orderness)")
        ->capture_default_str();
  }
  if (!restore) {
    cmd->add_option("-s,--fromSavepoint", a.restore_path,
                    "Restore from this checkpoint or savepoint (execution.state-recovery.path), as ckpt restore does");
  }
  cmd->add_flag("-n,--allowNonRestoredState", a.allow_non_restored,
                "Skip snapshot state of operators the job does not have "
                "(execution.state-recovery.ignore-unclaimed-state)");
  cmd->add_flag("--claim", a.claim,
                "CLAIM mode: the job owns (and may delete) the restored checkpoint "
                "(execution.state-recovery.claim-mode)");
  cmd->add_option("--output", p->output_dir,
                  restore ? "Sink directory (default: the snapshot's)"
                          : "Sink directory (committed part files); without it, the results are printed on stdout");
  cmd->add_option("--rate", a.rate, "Limit each source subtask to N records/s (0 = unlimited)");
  cmd->add_option("-p,--parallelism", a.parallelism, "Parallelism, at least 1 (parallelism.default)");
  cmd->add_option("--format-version", a.format_version,
                  "_metadata format version written: 6 (Flink 2.1+, default), 5 (2.0) or 4 (1.16-1.20) "
                  "(ckpt.metadata.format-version)");
  cmd->add_option("-c,--config", a.config_file, "Flink config.yaml (nested or flat keys)");
  cmd->add_option("-D", a.defines, "Configuration override key=value (repeatable)");
  cmd->add_option("--job-id", a.job_id, "Job id (32 hex; default random)");
  cmd->add_option("--fail-at", a.fail_at, "Inject a task failure after N records in keyed subtask 0 (first attempt)");
  cmd->add_flag("--stop-with-savepoint-on-sigterm", a.stop_on_sigterm, "SIGTERM stops the job with a savepoint");
  cmd->add_flag("--keep-checkpoints", a.keep_checkpoints,
                "Keep retained checkpoints when the job finishes (Flink discards them on FINISHED)");
  add_json_flags(*cmd, a.json, a.pretty);
  cmd->add_flag("-v,--verbose", a.verbose, "Progress on stderr even when it is not a terminal");
}

}  // namespace ckpt::cli
