// `ckpt run`: the bundled streaming job. Its flags, run and rendering are shared with
// `ckpt restore` (job_cli.h).
#include <memory>

#include "commands.h"
#include "conventions.h"
#include "job_cli.h"

namespace ckpt::cli {

void register_run(CLI::App& app, int& exit_code) {
  auto run_args = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand("run", "Run the bundled streaming job with Flink-style checkpoints");
  long_description(
      run,
      "Run source -> keyBy(word) -> counter -> windows -> sink with exactly-once checkpoints in Flink's layout.\n"
      "Checkpoint options are Flink's keys, from -c config.yaml and -D key=value (see man ckpt-run).\n"
      "Without --output the results are printed on stdout. -s PATH restores from a checkpoint or savepoint.");
  add_job_options(run, *run_args, false);
  run->callback([run_args, &exit_code] { exit_code = run_job_command(*run_args, false); });
}

}  // namespace ckpt::cli
