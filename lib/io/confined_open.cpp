#include "io/confined_open.h"

#include <fcntl.h>
#include <linux/openat2.h>  // struct open_how, RESOLVE_* (glibc may lack an openat2 wrapper)
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fs = std::filesystem;

namespace ckpt::io {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

std::vector<std::string_view> components(std::string_view rel) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= rel.size()) {
    std::size_t j = rel.find('/', i);
    if (j == std::string_view::npos) j = rel.size();
    out.push_back(rel.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// An O_PATH | O_NOFOLLOW open of a final symlink yields the link itself: refuse it as well.
int refuse_symlink_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
    ::close(fd);
    return -ELOOP;
  }
  return fd;
}

int open_openat2(int dirfd, const std::string& rel, int flags) {
#ifdef SYS_openat2
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: the kernel saw a rename race while checking the walk stays beneath; retried a few
  // times, then reported (a persistent race is an attack, not a file to read).
  for (int attempt = 0;; ++attempt) {
    long r = ::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
    if (r >= 0) return refuse_symlink_fd(static_cast<int>(r));
    if (errno == EINTR || (errno == EAGAIN && attempt < 16)) continue;
    return -errno;
  }
#else
  (void)dirfd, (void)rel, (void)flags;
  return -ENOSYS;
#endif
}

// One component at a time: directories with O_PATH | O_DIRECTORY | O_NOFOLLOW (a symlink then
// fails with ENOTDIR, told apart from a real non-directory by fstatat), the last with `flags`.
int open_walk(int dirfd, std::string_view rel, int flags) {
  std::vector<std::string_view> parts = components(rel);
  for (auto c : parts) {
    if (c.empty() || c == ".") return -EINVAL;
    if (c == "..") return -EXDEV;
  }
  UniqueFd owned;
  int cur = dirfd;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string name(parts[i]);
    const bool last = i + 1 == parts.size();
    int f = last ? ::openat(cur, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC)
                 : ::openat(cur, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0) {
      int err = errno;
      struct stat st {};
      if ((err == ENOTDIR || err == ELOOP) && ::fstatat(cur, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        return -ELOOP;
      }
      return -err;
    }
    if (last) return refuse_symlink_fd(f);
    owned = UniqueFd(f);
    cur = owned.get();
  }
  return -EINVAL;
}

// The first component of `rel` below `dirfd` that is a symbolic link ("" when none is).
std::string first_symlink(int dirfd, std::string_view rel) {
  std::string prefix;
  for (auto c : components(rel)) {
    prefix += prefix.empty() ? "" : "/";
    prefix += c;
    struct stat st {};
    if (::fstatat(dirfd, prefix.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return {};
    if (S_ISLNK(st.st_mode)) return prefix;
  }
  return {};
}

fs::path normal_absolute(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  if (ec) a = p;
  a = a.lexically_normal();
  std::string s = a.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The prefix test of snapshot::is_within_normal, which this lower layer cannot include; both
// paths come from normal_absolute.
bool lexically_within(const fs::path& p, const fs::path& dir) {
  const std::string& ps = p.native();
  const std::string& ds = dir.native();
  if (ds == "/") return true;
  return ps.size() >= ds.size() && ps.compare(0, ds.size(), ds) == 0 &&
         (ps.size() == ds.size() || ps[ds.size()] == '/');
}

[[noreturn]] void fail_open(const fs::path& p, int err) {
  throw IoError(p.string() + ": cannot open: " + std::strerror(err));
}

}  // namespace

int open_beneath(int dirfd, std::string_view relative, int flags, BeneathMethod method) {
  if (relative.empty() || relative.front() == '/') return -EXDEV;
  if (method == BeneathMethod::kWalk) return open_walk(dirfd, relative, flags);
  int r = open_openat2(dirfd, std::string(relative), flags);
  if (r == -ENOSYS && method == BeneathMethod::kAuto) return open_walk(dirfd, relative, flags);
  return r;
}

ReadScope ReadScope::unconfined() {
  ReadScope s;
  s.confined_ = false;
  return s;
}

void ReadScope::allow(const fs::path& dir) {
  auto add = [&](fs::path d) {
    if (d.empty() || std::find(dirs_.begin(), dirs_.end(), d) != dirs_.end()) return;
    dirs_.push_back(std::move(d));
  };
  fs::path d = normal_absolute(dir);
  add(d);
  // The same directory spelt without symlinks: handles written by Flink name the real path.
  std::error_code ec;
  fs::path real = fs::canonical(d, ec);
  if (!ec) add(normal_absolute(real));
  std::sort(dirs_.begin(), dirs_.end(),
            [](const fs::path& a, const fs::path& b) { return a.native().size() > b.native().size(); });
}

fs::path ReadScope::containing(const fs::path& p) const {
  const fs::path a = normal_absolute(p);
  for (const auto& d : dirs_) {
    if (lexically_within(a, d)) return d;
  }
  return {};
}

// Opens `p` with `flags` as ReadScope::open does. Returns the descriptor, or -1 with either
// `refusal` set (outside, or through a symlink: the reason, without the path) or `err` set (any
// other errno).
int ReadScope::open_fd(const fs::path& p, int flags, std::string& refusal, int& err) const {
  const fs::path a = normal_absolute(p);
  if (!confined_) {
    int fd = ::open(a.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ELOOP) refusal = "is a symbolic link (not followed)";
      err = errno;
      return -1;
    }
    fd = refuse_symlink_fd(fd);
    if (fd < 0) refusal = "is a symbolic link (not followed)";
    return fd < 0 ? -1 : fd;
  }
  const fs::path dir = containing(a);
  if (dir.empty() || dir == a) {
    std::string list;
    for (const auto& d : dirs_) list += (list.empty() ? "" : ", ") + d.string();
    refusal = "resolves outside " + what_ + " (" + list + "); pass --allow-outside DIR to read it";
    return -1;
  }
  const std::string rel = a.lexically_relative(dir).string();
  UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() < 0) {
    err = errno;
    return -1;
  }
  int fd = open_beneath(dirfd.get(), rel, flags);
  if (fd >= 0) return fd;
  if (fd == -ELOOP) {
    std::string link = first_symlink(dirfd.get(), rel);
    refusal = (dir / (link.empty() ? rel : link)).string() + " is a symbolic link (not followed)";
  } else if (fd == -EXDEV) {
    refusal = "resolves outside " + what_ + " " + dir.string();
  } else {
    err = -fd;
  }
  return -1;
}

ConfinedFile ReadScope::open(const fs::path& p) const {
  ConfinedFile out;
  out.path = p;
  std::string refusal;
  int err = 0;
  int fd = open_fd(p, O_RDONLY | O_NONBLOCK, refusal, err);
  if (fd < 0) {
    if (!refusal.empty()) {
      if (!confined_) throw IoError(p.string() + ": " + refusal);
      throw OutsideScopeError(p.string() + ": " + refusal);
    }
    fail_open(p, err);
  }
  out.fd = UniqueFd(fd);
  struct stat st {};
  if (::fstat(out.fd.get(), &st) != 0) throw IoError(p.string() + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw IoError(p.string() + ": not a regular file");
  out.size = static_cast<uint64_t>(st.st_size);
  return out;
}

std::string ReadScope::unlink(const fs::path& p) const {
  const fs::path a = normal_absolute(p);
  const fs::path dir = confined_ ? containing(a) : a.root_path();
  if (dir.empty() || dir == a) return p.string() + ": lies outside " + what_ + "; not deleted";
  const fs::path rel = a.lexically_relative(dir);
  UniqueFd parent(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (parent.get() < 0) return p.string() + ": cannot open " + dir.string() + ": " + std::strerror(errno);
  if (!rel.parent_path().empty()) {
    int fd = open_beneath(parent.get(), rel.parent_path().string(), O_PATH | O_DIRECTORY);
    if (fd == -ENOENT) return {};
    if (fd < 0)
      return p.string() + ": its directory is not reached without a symbolic link (" + std::strerror(-fd) +
             "); not deleted";
    parent = UniqueFd(fd);
  }
  if (::unlinkat(parent.get(), rel.filename().c_str(), 0) != 0 && errno != ENOENT) {
    return p.string() + ": cannot delete: " + std::strerror(errno);
  }
  return {};
}

OutsideScopeError outside_error(std::vector<std::string> reasons) {
  std::sort(reasons.begin(), reasons.end());
  reasons.erase(std::unique(reasons.begin(), reasons.end()), reasons.end());
  if (reasons.empty()) return OutsideScopeError("no file outside the scope");
  std::string msg = reasons.front();
  if (reasons.size() > 1) msg += " (and " + std::to_string(reasons.size() - 1) + " more files outside)";
  return OutsideScopeError(msg);
}

std::string ReadScope::refusal(const fs::path& p) const {
  std::string why;
  int err = 0;
  int fd = open_fd(p, O_PATH, why, err);
  if (fd >= 0) ::close(fd);
  return why;
}

}  // namespace ckpt::io
