// `ckpt gc`: the shared plan/apply run of plan_cli with every complete snapshot kept.
#include "commands.h"
#include "conventions.h"
#include "ops/deletion_plan.h"
#include "plan_cli.h"

namespace ckpt::cli {

void register_gc(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand("gc", "Delete orphaned shared/taskowned files and incomplete checkpoints");
  long_description(
      cmd,
      "Delete files in shared/ and taskowned/ that no snapshot under the root (or under --protect) references,\n"
      "and incomplete chk-N directories (no _metadata). Only entries older than --grace are touched, so a running\n"
      "job's in-flight checkpoint is safe. Referenced files that are missing are reported, never fixed.");
  add_plan_flags(cmd, *args);
  cmd->callback([args, &exit_code] {
    exit_code = run_plan_command("gc", *args, "gc: keep every complete snapshot", ops::keep_all);
  });
}

}  // namespace ckpt::cli
