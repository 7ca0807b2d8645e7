// `ckpt savepoint`: trigger a savepoint (or stop-with-savepoint) of a running `ckpt run`.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "codec/json.h"
#include "commands.h"
#include "conventions.h"
#include "output_flags.h"
#include "path_args.h"
#include "pipeline/config.h"
#include "pipeline/job_control.h"
#include "run.pb.h"

namespace ckpt::cli {
namespace {

struct SavepointArgs {
  std::string job;
  std::string target;
  bool stop = false;
  std::string type;  // "", native, canonical
  std::string timeout = "60s";
  bool json = false;
  bool pretty = false;
};

int run_savepoint(SavepointArgs& a) {
  // A job directory or target in an object store stays a URI (the job writes there).
  for (std::string* arg : {&a.job, &a.target}) {
    if (read_in_object_store(*arg)) continue;
    if (auto e = localise_path_args({arg})) return fail("savepoint", *e);
  }
  const int64_t timeout_ms = pipeline::parse_duration_ms(a.timeout, "--timeout");
  std::optional<bool> native;
  if (!a.type.empty()) native = a.type == "native";
  const pipeline::SavepointAnswer answer =
      pipeline::request_savepoint(a.job, a.target, a.stop, native, std::chrono::milliseconds(timeout_ms));
  const std::string& path = answer.path;
  if (a.json) {
    SavepointReport r;
    r.set_job_id(std::filesystem::path(a.job).filename().string());
    r.set_savepoint(path);
    r.set_stopped(a.stop);
    r.set_type(a.type);
    std::fputs((json::to_json(r, a.pretty) + "\n").c_str(), stdout);
  } else {
    std::printf("%s\n", path.c_str());
  }
  if (a.stop && !answer.job_ended) {
    std::fprintf(stderr,
                 "ckpt savepoint: %s: the savepoint is written, but the job had not ended within --timeout %s\n",
                 a.job.c_str(), a.timeout.c_str());
    return kExitProblems;
  }
  return kExitOk;
}

}  // namespace

void register_savepoint(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SavepointArgs>();
  CLI::App* cmd = app.add_subcommand("savepoint", "Trigger a savepoint of a running ckpt run job");
  long_description(
      cmd,
      "Ask the running job (a job directory <state.checkpoints.dir>/<job-id>, or the job id) for a savepoint in "
      "TARGET\n"
      "(default: the job's state.savepoints.dir) and print its directory. --type native takes it in the backend's own\n"
      "format (RocksDB: its files, self-contained); canonical (the default) in the format every backend reads.\n"
      "--stop stops the job after it.");
  cmd->add_option("job", args->job, "Job directory or job id")->required();
  cmd->add_option("target", args->target, "Savepoint directory (default: state.savepoints.dir of the job)");
  cmd->add_flag("--stop", args->stop, "Stop the job with the savepoint (flink stop)");
  cmd->add_option("--type", args->type, "Savepoint format: canonical or native (default: the job's)")
      ->check(CLI::IsMember({"canonical", "native"}));
  cmd->add_option("--timeout", args->timeout, "How long to wait for the savepoint")->capture_default_str();
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->callback([args, &exit_code] { exit_code = run_savepoint(*args); });
}

}  // namespace ckpt::cli
