// Talking to a running `ckpt run` from another terminal (`ckpt savepoint`): a per-job runtime
// directory `${CKPT_RUNTIME_DIR:-/tmp/ckpt-run}/<job-id>/` holds the job's pid; a client drops a
// request file there and sends SIGUSR1; the job answers with a response file. SIGUSR1 without a
// request takes a savepoint into state.savepoints.dir. Files are written atomically.
//
// An answer outlives the job: a stop-with-savepoint answers and then ends at once, often before
// the client has polled, so the job leaves answers nobody has collected yet in the runtime
// directory when it exits, and the client reads its answer even after the job is gone (and
// removes it, and the directory once empty).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ckpt::pipeline {

std::filesystem::path runtime_dir_of(const std::string& job_id);

struct SavepointRequest {
  std::string id;
  std::filesystem::path target;  // empty: state.savepoints.dir
  bool stop = false;             // stop-with-savepoint
  std::optional<bool> native;    // format: native / canonical; unset: the job's default
};

// Job side.
class JobControl {
 public:
  explicit JobControl(std::string job_id);  // writes the pid file
  ~JobControl();                            // removes the pid file and unread requests; keeps uncollected answers
  JobControl(const JobControl&) = delete;
  JobControl& operator=(const JobControl&) = delete;

  std::vector<SavepointRequest> take_requests();
  void respond(const std::string& request_id, bool ok, const std::string& text);

 private:
  std::filesystem::path dir_;
};

struct SavepointAnswer {
  std::string path;        // the savepoint directory
  bool job_ended = false;  // stop: the job's process has ended (waited for within the timeout)
};

// Client side: `job` is a job directory (…/<job-id>) or a job id. Returns the savepoint path;
// throws util::Error with a one-line reason (no such running job, failure, timeout).
// `native`: the savepoint format (unset: the job's kubernetes.operator.savepoint.format.type).
// With `stop`, after the answer it also waits (within the same timeout) until the job's process
// has ended, so that a caller can restore right away; `job_ended` says whether it did.
SavepointAnswer request_savepoint(const std::string& job, const std::filesystem::path& target, bool stop,
                                  std::optional<bool> native, std::chrono::milliseconds timeout);

// Process-wide signal flags (installed by the job while it runs).
void install_job_signal_handlers();
void restore_job_signal_handlers();
bool take_sigusr1();
int take_termination_signal();  // SIGTERM, SIGINT or 0

}  // namespace ckpt::pipeline
