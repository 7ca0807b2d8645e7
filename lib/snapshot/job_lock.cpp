#include "snapshot/job_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "io/decode_error.h"

namespace fs = std::filesystem;

namespace ckpt::snapshot {
namespace {

fs::path lock_path(const fs::path& job_dir) { return job_dir / std::string(kJobLockName); }

// The number after `key ` on its own line, if any.
std::optional<int64_t> field(std::string_view text, std::string_view key) {
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ' ') continue;
    std::string_view v = line.substr(key.size() + 1);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && end == v.data() + v.size() && n >= 0) return n;
  }
  return std::nullopt;
}

}  // namespace

JobLock JobLock::acquire(const fs::path& job_dir, int64_t min_grace_ns) {
  const fs::path path = lock_path(job_dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw io::IoError(path.string() + ": cannot create the job lock: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) throw io::IoError(path.string() + ": another running job holds this job directory");
    throw io::IoError(path.string() + ": cannot lock: " + std::strerror(err));
  }
  const std::string text =
      "pid " + std::to_string(::getpid()) + "\nmin-grace-ms " + std::to_string(min_grace_ns / 1000000) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    int err = errno;
    ::close(fd);
    throw io::IoError(path.string() + ": cannot write the job lock: " + std::strerror(err));
  }
  return JobLock(fd, path);
}

JobLock& JobLock::operator=(JobLock&& o) noexcept {
  if (this != &o) {
    this->~JobLock();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

JobLock::~JobLock() {
  if (fd_ < 0) return;
  // Unlinked while still locked: a reader that opens the file now finds it gone or, having opened
  // it before, gets the lock after close and sees no live job.
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

std::optional<LiveJob> live_job(const fs::path& job_dir) {
  const fs::path path = lock_path(job_dir);
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {  // nobody holds it: a stale file of a killed job
    ::close(fd);
    return std::nullopt;
  }
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  LiveJob job;
  if (n > 0) {
    std::string_view text(buf, static_cast<size_t>(n));
    job.pid = field(text, "pid").value_or(0);
    if (auto ms = field(text, "min-grace-ms"); ms && *ms < INT64_MAX / 1000000) job.min_grace_ns = *ms * 1000000;
  }
  return job;
}

}  // namespace ckpt::snapshot
