// `ckpt restore`: resumes the bundled streaming job from a snapshot. Its flags, run and rendering
// are shared with `ckpt run` (job_cli.h).
#include <memory>

#include "commands.h"
#include "conventions.h"
#include "job_cli.h"

namespace ckpt::cli {

void register_restore(CLI::App& app, int& exit_code) {
  auto restore_args = std::make_shared<RunArgs>();
  CLI::App* restore = app.add_subcommand("restore", "Resume the bundled job from a checkpoint or savepoint");
  long_description(
      restore,
      "Resume the bundled job from a chk-N directory, a savepoint directory, a _metadata file or a job directory\n"
      "(its latest checkpoint); the short form of `ckpt run -s PATH`.\n"
      "From the snapshot: the job's parameters (input, windows, output directory), its state, the maximum\n"
      "parallelism, and the state backend unless state.backend.type is set (native RocksDB state: rocksdb).\n"
      "Given again: the configuration (-c, -D: checkpointing, directories, restart strategy), -p, the claim mode.");
  restore->add_option("path", restore_args->restore_path, "chk-N, savepoint, _metadata or job directory")->required();
  add_job_options(restore, *restore_args, true);
  restore->callback([restore_args, &exit_code] { exit_code = run_job_command(*restore_args, true); });
}

}  // namespace ckpt::cli
