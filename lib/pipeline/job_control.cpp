#include "pipeline/job_control.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "pipeline/checkpoint_storage.h"
#include "snapshot/layout.h"
#include "storage/object_uri.h"
#include "util/error.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_usr1{false};
std::atomic<int> g_term{0};
struct sigaction g_old_usr1, g_old_term, g_old_int;

void on_signal(int sig) {
  if (sig == SIGUSR1) g_usr1 = true;
  else g_term = sig;
}

std::string read_text(const fs::path& p) {
  try {
    return io::read_file_bytes(p);
  } catch (const std::exception&) {
    return {};
  }
}

// Alive and not a zombie: a stopped job that its parent has not reaped yet has ended.
bool process_alive(int pid) {
  if (::kill(pid, 0) != 0) return false;
  std::string stat = read_text(fs::path("/proc") / std::to_string(pid) / "stat");
  std::size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

// The answer to request `response` (its file), taken (the file removed, and the runtime
// directory when the job has left it empty); nullopt while there is none.
std::optional<std::string> take_answer(const fs::path& response) {
  std::string text = read_text(response);
  if (text.empty()) return std::nullopt;
  std::error_code ec;
  fs::remove(response, ec);
  if (!fs::exists(response.parent_path() / "pid", ec)) fs::remove(response.parent_path(), ec);  // only when empty
  return text;
}

}  // namespace

fs::path runtime_dir_of(const std::string& job_id) {
  const char* env = std::getenv("CKPT_RUNTIME_DIR");
  return fs::path(env && *env ? env : "/tmp/ckpt-run") / job_id;
}

JobControl::JobControl(std::string job_id) : dir_(runtime_dir_of(job_id)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw io::IoError(fmt::format("{}: cannot create runtime directory: {}", dir_.string(), ec.message()));
  io::write_file_atomically(dir_ / "pid", std::to_string(::getpid()) + "\n");
}

JobControl::~JobControl() {
  // The pid file goes first, so that no new client takes the job for alive. Requests not taken
  // get no answer (their clients see the job end); answers not yet collected stay: the job often
  // answers a stop-with-savepoint and ends before its client polls again.
  std::error_code ec;
  fs::remove(dir_ / "pid", ec);
  std::vector<fs::path> leftovers;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().filename().string().rfind("response-", 0) != 0) leftovers.push_back(e.path());
  }
  for (const auto& p : leftovers) fs::remove(p, ec);
  fs::remove(dir_, ec);  // only when empty
}

std::vector<SavepointRequest> JobControl::take_requests() {
  std::vector<SavepointRequest> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("request-", 0) != 0 || name.find(".tmp") != std::string::npos) continue;
    SavepointRequest r;
    r.id = name.substr(8);
    std::string text = read_text(e.path());
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      if (line.rfind("target=", 0) == 0) r.target = line.substr(7);
      if (line == "stop=1") r.stop = true;
      if (line == "type=native") r.native = true;
      if (line == "type=canonical") r.native = false;
    }
    fs::remove(e.path(), ec);
    out.push_back(std::move(r));
  }
  return out;
}

void JobControl::respond(const std::string& request_id, bool ok, const std::string& text) {
  try {
    io::write_file_atomically(dir_ / ("response-" + request_id), (ok ? "ok\n" : "error\n") + text + "\n");
  } catch (const std::exception&) {
    // The client gave up and the directory is gone: nothing to answer.
  }
}

SavepointAnswer request_savepoint(const std::string& job, const fs::path& target, bool stop, std::optional<bool> native,
                                  std::chrono::milliseconds timeout) {
  std::string job_id = fs::path(job).filename().string();
  if (job_id.empty()) job_id = fs::path(job).parent_path().filename().string();
  if (!snapshot::is_job_id(job_id)) {
    throw util::Error(util::ErrorKind::kUsage,
                      fmt::format("{}: not a job directory or job id (expected 32 hex characters)", job));
  }
  fs::path dir = runtime_dir_of(job_id);
  std::string pid_text = read_text(dir / "pid");
  int pid = pid_text.empty() ? 0 : std::atoi(pid_text.c_str());
  if (pid <= 0 || !process_alive(pid)) {
    throw util::Error(
        util::ErrorKind::kUsage,
        fmt::format("job {} is not running on this machine (no live process in {})", job_id, dir.string()));
  }
  std::string id = random_hex(12);
  std::string body;
  if (!target.empty()) {
    // A directory in an object store is a URI: only a local one is made absolute (the job runs
    // in another working directory).
    body += "target=" + (storage::parse_object_uri(target.string()) ? target : fs::absolute(target)).string() + "\n";
  }
  body += stop ? "stop=1\n" : "stop=0\n";
  if (native) body += *native ? "type=native\n" : "type=canonical\n";
  io::write_file_atomically(dir / ("request-" + id), body);
  if (::kill(pid, SIGUSR1) != 0) throw util::Error(util::ErrorKind::kIo, fmt::format("cannot signal process {}", pid));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  fs::path response = dir / ("response-" + id);
  std::optional<std::string> text;
  while (!(text = take_answer(response))) {
    if (!process_alive(pid)) {
      // The job may have answered and ended between the two looks: its answer outlives it.
      if ((text = take_answer(response))) break;
      throw util::Error(util::ErrorKind::kInternal, fmt::format("job {} ended before answering", job_id));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw util::Error(util::ErrorKind::kInternal,
                        fmt::format("no answer from job {} within {} ms", job_id, timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::size_t nl = text->find('\n');
  std::string status = text->substr(0, nl);
  std::string rest = nl == std::string::npos ? "" : text->substr(nl + 1);
  while (!rest.empty() && rest.back() == '\n') rest.pop_back();
  if (status != "ok") throw util::Error(util::ErrorKind::kInternal, fmt::format("savepoint failed: {}", rest));
  SavepointAnswer answer;
  answer.path = rest;
  if (stop) {
    // Flink's `stop` returns once the job has ended; a script may restore right after.
    while (process_alive(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    answer.job_ended = !process_alive(pid);
  }
  return answer;
}

void install_job_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, &g_old_usr1);
  sigaction(SIGTERM, &sa, &g_old_term);
  sigaction(SIGINT, &sa, &g_old_int);
}

void restore_job_signal_handlers() {
  sigaction(SIGUSR1, &g_old_usr1, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  sigaction(SIGINT, &g_old_int, nullptr);
}

bool take_sigusr1() { return g_usr1.exchange(false); }
int take_termination_signal() { return g_term.exchange(0); }

}  // namespace ckpt::pipeline
