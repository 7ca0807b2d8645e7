#include "ops/plan_executor.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <set>

#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "util/saturating.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

// Opens directories below the root one component at a time with O_NOFOLLOW, caching the last.
class DirCursor {
 public:
  DirCursor(int root_fd, fs::path root) : root_fd_(root_fd), root_(std::move(root)) {}
  ~DirCursor() { reset(); }
  DirCursor(const DirCursor&) = delete;
  DirCursor& operator=(const DirCursor&) = delete;

  // The descriptor of `dir` (absolute, inside the root), or -1 with `err` set.
  int open(std::string_view dir, std::string& err) {
    last_errno = 0;
    if (fd_ >= 0 && dir == cur_) return fd_;
    reset();
    fs::path rel = fs::path(dir).lexically_relative(root_);
    if (rel.empty() || *rel.begin() == "..") {
      err = "outside the root";
      last_errno = EPERM;
      return -1;
    }
    int fd = root_fd_;
    for (const auto& c : rel) {
      if (c == ".") continue;
      int next = ::openat(fd, c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int e = errno;
      if (fd != root_fd_) ::close(fd);
      if (next < 0) {
        err = std::string("cannot open ") + c.string() + ": " + std::strerror(e);
        last_errno = e;
        return -1;
      }
      fd = next;
    }
    if (fd == root_fd_) fd = ::dup(root_fd_);
    fd_ = fd;
    cur_ = dir;
    return fd_;
  }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    cur_.clear();
  }
  int root_fd_;
  fs::path root_;
  int fd_ = -1;
  std::string cur_;

 public:
  int last_errno = 0;
};

long crash_after() {
  const char* v = std::getenv("CKPT_TEST_CRASH_AFTER");
  return v && *v ? std::strtol(v, nullptr, 10) : -1;
}

class Executor {
 public:
  Executor(const Plan& plan, const RootLock& lock, const util::ProgressFn& progress)
      : plan_(plan), cursor_(lock.fd(), plan.root), root_fd_(lock.fd()), progress_(progress) {}

  ApplyResult run() {
    remove_stale_journal_temps();
    write_journal();
    const auto& dels = plan_.deletions;
    std::vector<char> ok(dels.size(), 0);
    size_t i = 0;
    // Phase 1: every pruned `_metadata`, made durable before anything it guarded goes.
    std::set<std::string> phase1_dirs;
    for (; i < dels.size() && dels[i].reason == DeleteReason::kPrunedMetadata; ++i) {
      ok[i] = remove(dels[i]);
      if (progress_) progress_(i + 1, dels.size());
      if (ok[i]) phase1_dirs.insert(std::string(dels[i].entry.parent()));
    }
    for (const auto& d : phase1_dirs) sync_dir(d);
    // Phases 2 and 3, in plan order.
    std::set<std::string> touched;
    for (; i < dels.size(); ++i) {
      bool ready = true;
      for (uint32_t a : dels[i].after) ready = ready && ok[a];
      if (!ready) {
        result_.failures.push_back({dels[i].entry.path, "kept: the pruned _metadata it depends on was not deleted"});
        continue;
      }
      ok[i] = remove(dels[i]);
      if (progress_) progress_(i + 1, dels.size());
      if (ok[i]) touched.insert(std::string(dels[i].entry.parent()));
    }
    for (const auto& d : touched) sync_dir(d);
    finish_journal();
    return result_;
  }

 private:
  bool remove(const Deletion& d) {
    const FsEntry& e = d.entry;
    std::string err;
    int dfd = cursor_.open(e.parent(), err);
    if (dfd < 0) {
      // A directory that vanished took the entry with it (a rerun after a crash finds that).
      if (cursor_.last_errno != ENOENT) result_.failures.push_back({e.path, err});
      return false;
    }
    std::string name(e.name());
    struct stat st {};
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      int en = errno;
      if (en != ENOENT) result_.failures.push_back({e.path, std::string("cannot stat: ") + std::strerror(en)});
      // A `_metadata` already gone no longer guards anything: its dependants may go.
      return en == ENOENT && d.reason == DeleteReason::kPrunedMetadata;
    }
    bool is_dir = e.type == FsEntry::Type::kDir;
    int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    bool same = st.st_dev == e.dev && st.st_ino == e.ino && (is_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) &&
                (is_dir || mtime == e.mtime_ns);
    if (!same) {
      result_.failures.push_back({e.path, "changed since planning: left alone"});
      return false;
    }
    if (::unlinkat(dfd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0) {
      result_.failures.push_back({e.path, std::strerror(errno)});
      return false;
    }
    if (is_dir) {
      result_.dirs_deleted++;
    } else {
      result_.files_deleted++;
      util::sat_accumulate(result_.bytes_freed, e.size);
    }
    if (crash_after_ >= 0 && ++deleted_ >= crash_after_) ::raise(SIGKILL);
    return true;
  }

  void sync_dir(const std::string& dir) {
    std::string err;
    int fd = cursor_.open(dir, err);
    if (fd >= 0) ::fsync(fd);
  }

  fs::path journal_path() const { return plan_.root / kJournalName; }

  void write_journal() {
    if (plan_.journal.empty()) return;
    std::string text;
    for (const auto& j : plan_.journal) {
      text += std::to_string(j.ino) + " " + fs::path(j.path).lexically_relative(plan_.root).string() + "\n";
    }
    io::write_file_atomically(journal_path(), text);
  }

  // A run killed while writing its journal leaves the temporary file of that write in the root;
  // nothing else would ever remove it. We hold the root's lock, so no live writer owns one.
  void remove_stale_journal_temps() {
    int fd = ::dup(root_fd_);
    if (fd < 0) return;
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return;
    }
    ::rewinddir(d);
    std::vector<std::string> stale;
    while (struct dirent* de = ::readdir(d)) {
      if (io::is_temp_sibling_name(de->d_name, kJournalName, "tmp")) stale.emplace_back(de->d_name);
    }
    ::closedir(d);
    for (const auto& name : stale) {
      struct stat st {};
      if (::fstatat(root_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
        ::unlinkat(root_fd_, name.c_str(), 0);
      }
    }
  }

  void finish_journal() {
    struct stat st {};
    if (::fstatat(root_fd_, kJournalName, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return;
    for (const auto& j : plan_.journal) {
      if (::lstat(j.path.c_str(), &st) == 0 && st.st_ino == j.ino) return;  // still pending: keep it
    }
    // Every journaled directory is gone, or the journal is stale (a plan with nothing left of it).
    ::unlinkat(root_fd_, kJournalName, 0);
    ::fsync(root_fd_);
  }

  const Plan& plan_;
  DirCursor cursor_;
  int root_fd_;
  util::ProgressFn progress_;
  ApplyResult result_;
  long crash_after_ = crash_after();
  long deleted_ = 0;
};

}  // namespace

std::optional<RootLock> RootLock::try_acquire(const fs::path& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw io::IoError(root.string() + ": cannot open as a directory: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return RootLock(fd);
}

RootLock::~RootLock() {
  if (fd_ >= 0) ::close(fd_);
}

ApplyResult apply_plan(const Plan& plan, const RootLock& lock, const util::ProgressFn& progress) {
  return Executor(plan, lock, progress).run();
}

}  // namespace ckpt::ops
