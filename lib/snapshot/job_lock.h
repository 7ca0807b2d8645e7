// A running job's claim on its job directory.
//
// `ckpt run` holds an flock(2) on <job dir>/.ckpt-job.lock for as long as it runs. The file says
// the job's pid and the shortest grace period that protects its in-flight checkpoint: a file a
// checkpoint uploads is at most execution.checkpointing.timeout old when the checkpoint completes
// (or is aborted), so prune and gc with a shorter grace could delete it before any `_metadata`
// references it. prune and gc read the lock (live_job) and refuse such a grace.
//
// The lock is advisory and local: it says nothing about jobs on other machines (a real Flink
// cluster writes no such file; the grace period alone protects its checkpoints).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace ckpt::snapshot {

inline constexpr std::string_view kJobLockName = ".ckpt-job.lock";

// What a reader assumes when the lock is held but its content cannot be read yet (the job is
// between taking the lock and writing it): Flink's default checkpoint timeout.
inline constexpr int64_t kDefaultMinGraceNs = 10LL * 60 * 1000000000;

// Held for the object's lifetime; the file is removed when it is released.
class JobLock {
 public:
  // Creates <job_dir>/.ckpt-job.lock (never through a symbolic link), takes the lock and writes
  // "pid <pid>\nmin-grace-ms <n>\n". Throws io::IoError naming the file when it cannot be created,
  // or when another process holds it (another job runs in this directory).
  static JobLock acquire(const std::filesystem::path& job_dir, int64_t min_grace_ns);

  JobLock(JobLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  JobLock& operator=(JobLock&& o) noexcept;
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;
  ~JobLock();

 private:
  JobLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

struct LiveJob {
  int64_t pid = 0;  // 0 when the file could not be read
  int64_t min_grace_ns = kDefaultMinGraceNs;
};

// The live job holding `job_dir`'s lock; nullopt when there is no lock file or nobody holds it
// (a job that was killed leaves the file, but the kernel released its lock).
std::optional<LiveJob> live_job(const std::filesystem::path& job_dir);

}  // namespace ckpt::snapshot
