// What `ckpt run` and `ckpt restore` share on the command line: the job's flags, the resolution
// of Flink's configuration keys (-c, -D, -p, --claim), the one call to pipeline::run_job and the
// rendering of its result.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/job_params.h"

namespace ckpt::cli {

struct RunArgs {
  std::string restore_path;
  pipeline::JobParams params;
  std::string window = "10s", lateness = "0", out_of_orderness = "200ms", max_disorder = "100ms";
  std::optional<int> parallelism;     // -p; refused below 1
  std::optional<int> format_version;  // --format-version (ckpt.metadata.format-version)
  int64_t rate = -1;                  // --rate; -1: not given
  std::string config_file;
  std::vector<std::string> defines;
  std::string job_id;
  int64_t fail_at = -1;
  bool stop_on_sigterm = false;
  bool keep_checkpoints = false;
  bool claim = false;
  bool allow_non_restored = false;
  bool json = false;
  bool pretty = false;
  bool verbose = false;
};

// The flags of both commands; `restore` leaves out the generator's and the windows' (they come
// from the snapshot) and words --output for a restore.
void add_job_options(CLI::App* cmd, RunArgs& a, bool restore);

// Runs the job (restored from a.restore_path when `restore`): exit code per commands.h.
int run_job_command(RunArgs& a, bool restore);

}  // namespace ckpt::cli
