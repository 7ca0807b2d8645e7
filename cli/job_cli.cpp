#include "job_cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "codec/json.h"
#include "commands.h"
#include "console.h"
#include "io/file_bytes.h"
#include "output_flags.h"
#include "path_args.h"
#include "pipeline/config.h"
#include "pipeline/job.h"
#include "run.pb.h"

namespace ckpt::cli {
namespace {

// Fills `o` from the flags and Flink's configuration keys. Returns an exit code when a path
// argument cannot be used (the error line is printed), nothing when the command can run; a bad
// configuration throws (ConfigError, io::IoError) to main.
std::optional<int> resolve_run_options(RunArgs& a, bool restore, const char* cmd, pipeline::RunOptions& o,
                                       std::vector<std::string>& warnings) {
  // A snapshot in an object store is restored from there (pipeline/restore.h).
  std::string local_restore;
  if (!read_in_object_store(a.restore_path)) std::swap(local_restore, a.restore_path);
  auto e = localise_path_args({&local_restore, &a.config_file, &a.params.input_dir, &a.params.output_dir});
  if (!local_restore.empty()) a.restore_path = local_restore;
  if (e) {
    std::fprintf(stderr, "%s: %s\n", cmd, e->c_str());
    return kExitUsage;
  }
  pipeline::RawConfig raw;
  if (!a.config_file.empty()) raw = pipeline::parse_flat_yaml(io::read_file_bytes(a.config_file), a.config_file);
  for (const auto& d : a.defines) pipeline::apply_override(raw, d);
  if (a.parallelism > 0) raw["parallelism.default"] = {std::to_string(a.parallelism), "--parallelism"};
  if (a.claim) raw["execution.state-recovery.claim-mode"] = {"CLAIM", "--claim"};
  pipeline::ResolvedConfig rc = pipeline::resolve_config(raw);
  o.config = rc.config;
  warnings = rc.warnings;
  o.params = a.params;
  o.params.window_ms = pipeline::parse_duration_ms(a.window, "--window");
  o.params.allowed_lateness_ms = pipeline::parse_duration_ms(a.lateness, "--allowed-lateness");
  o.params.out_of_orderness_ms = pipeline::parse_duration_ms(a.out_of_orderness, "--out-of-orderness");
  o.params.max_disorder_ms = pipeline::parse_duration_ms(a.max_disorder, "--max-disorder");
  for (const auto& w : warnings) console::warn(cmd, w);
  if (a.rate >= 0) {
    o.params.rate_limit = a.rate;
    o.rate_limit = a.rate;
  }
  if (restore) o.restore = a.restore_path;
  o.job_id = a.job_id;
  o.fail_at = a.fail_at;
  o.stop_with_savepoint_on_sigterm = a.stop_on_sigterm;
  o.keep_checkpoints_on_finish = a.keep_checkpoints;
  if (a.verbose || ::isatty(STDERR_FILENO)) {
    o.log = [cmd](const std::string& line) { std::fprintf(stderr, "%s: %s\n", cmd, line.c_str()); };
  }
  return std::nullopt;
}

void print_run_json(const RunArgs& a, const pipeline::RunOptions& o, const pipeline::RunResult& r,
                    const std::vector<std::string>& warnings, const std::string& latest, double rate) {
  RunReport rep;
  rep.set_job_id(r.job_id);
  rep.set_status(std::string(pipeline::status_name(r.status)));
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

void print_run_text(const pipeline::RunOptions& o, const pipeline::RunResult& r, const std::string& latest,
                    double rate) {
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
  std::fputs(out.c_str(), stdout);
}

}  // namespace

int run_job_command(RunArgs& a, bool restore) {
  const char* cmd = restore ? "ckpt restore" : "ckpt run";
  pipeline::RunOptions o;
  std::vector<std::string> warnings;
  if (auto code = resolve_run_options(a, restore, cmd, o, warnings)) return *code;

  const pipeline::RunResult r = pipeline::run_job(o);

  const std::string& latest = r.latest_checkpoint;
  double rate = r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
  if (a.json) {
    print_run_json(a, o, r, warnings, latest, rate);
  } else {
    print_run_text(o, r, latest, rate);
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
  cmd->add_option("--output", p->output_dir,
                  restore ? "Sink directory (default: the snapshot's)" : "Sink directory (committed part files)");
  cmd->add_option("--rate", a.rate, "Limit each source subtask to N records/s (0 = unlimited)");
  cmd->add_option("-p,--parallelism", a.parallelism, "Parallelism (parallelism.default)");
  cmd->add_option("-c,--config", a.config_file, "Flink config.yaml with flat keys");
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
