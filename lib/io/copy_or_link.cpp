#include "io/copy_or_link.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2 (glibc >= 2.28)
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "io/atomic_file.h"
#include "io/decode_error.h"

namespace ckpt::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& p, const char* what, int err) {
  throw IoError(p.string() + ": " + what + ": " + std::strerror(err));
}

using Fd = UniqueFd;

int create_target(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) fail(p, "cannot create", errno);
  return fd;
}

void write_all(int fd, const char* data, std::size_t n, const std::filesystem::path& p) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(p, "cannot write", errno);
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
}

void copy_fd_range(int in, uint64_t offset, uint64_t length, int out, const std::filesystem::path& source,
                   const std::filesystem::path& target) {
  // copy_file_range lets the kernel (or the file system, with reflinks) move the bytes; fall back
  // to read/write when it is not supported between these two files.
  loff_t in_off = static_cast<loff_t>(offset);
  uint64_t left = length;
  while (left > 0) {
    ssize_t n = ::copy_file_range(in, &in_off, out, nullptr, left > (1u << 30) ? (1u << 30) : left, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) break;
      fail(target, "cannot copy", errno);
    }
    if (n == 0)
      throw IoError(source.string() + ": file ended before the expected " + std::to_string(length) + " bytes");
    left -= static_cast<uint64_t>(n);
  }
  std::vector<char> buf(left ? (1u << 20) : 0);
  while (left > 0) {
    ssize_t n = ::pread(in, buf.data(), left < buf.size() ? left : buf.size(), in_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(source, "cannot read", errno);
    }
    if (n == 0)
      throw IoError(source.string() + ": file ended before the expected " + std::to_string(length) + " bytes");
    write_all(out, buf.data(), static_cast<std::size_t>(n), target);
    in_off += n;
    left -= static_cast<uint64_t>(n);
  }
}

void check_range(const std::filesystem::path& source, uint64_t size, uint64_t offset, uint64_t length) {
  if (offset > size || length > size - offset) {
    // offset + length may not fit: say it as "offset + length" when it does not.
    uint64_t end = 0;
    std::string want = __builtin_add_overflow(offset, length, &end)
                           ? std::to_string(offset) + " + " + std::to_string(length)
                           : std::to_string(end);
    throw IoError(source.string() + ": has " + std::to_string(size) + " bytes, expected at least " + want);
  }
}

void publish(const std::filesystem::path& tmp, const std::filesystem::path& target, bool replace, bool dir) {
  std::filesystem::path parent = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  // RENAME_NOREPLACE: an existing target is never replaced behind the user's back.
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
    fsync_directory(parent);
    return;
  }
  int err = errno;
  if (err != EEXIST && err != ENOTEMPTY) fail(target, "cannot rename into place", err);
  if (!replace) throw IoError(target.string() + ": already exists (use --force to replace it)");
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) fail(target, "cannot stat", errno);
  if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    throw IoError(target.string() + (dir ? ": exists and is not a directory; not replaced"
                                         : ": exists and is not a regular file; not replaced"));
  }
  // Swap atomically: a crash leaves either the old or the new content under `target`.
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
    fail(target, "cannot replace", errno);
  }
  fsync_directory(parent);
  remove_quietly(tmp);  // now holds the old content
}

}  // namespace

uint64_t regular_file_size(const ReadScope& scope, const std::filesystem::path& p) { return scope.open(p).size; }

uint64_t regular_file_size(const std::filesystem::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) fail(p, "cannot access", errno);
  if (S_ISLNK(st.st_mode)) throw IoError(p.string() + ": is a symbolic link (not followed)");
  if (!S_ISREG(st.st_mode)) throw IoError(p.string() + ": not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

PlaceMethod link_or_copy(const ReadScope& scope, const std::filesystem::path& source,
                         const std::filesystem::path& target, bool prefer_link) {
  ConfinedFile in = scope.open(source);
  if (prefer_link) {
    // Link the inode opened (and checked), not whatever the path names now. Without /proc
    // (ENOENT) the file is copied instead.
    std::string self = "/proc/self/fd/" + std::to_string(in.fd.get());
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0) return PlaceMethod::kLink;
    int err = errno;
    if (err != EXDEV && err != EPERM && err != EMLINK && err != EACCES && err != ENOTSUP && err != ENOENT) {
      fail(target, "cannot link", err);
    }
  }
  Fd out(create_target(target));
  copy_fd_range(in.fd.get(), 0, in.size, out.get(), source, target);
  if (::fsync(out.get()) != 0) fail(target, "cannot fsync", errno);
  return PlaceMethod::kCopy;
}

void copy_range(const ReadScope& scope, const std::filesystem::path& source, uint64_t offset, uint64_t length,
                const std::filesystem::path& target) {
  ConfinedFile in = scope.open(source);
  check_range(source, in.size, offset, length);
  Fd out(create_target(target));
  copy_fd_range(in.fd.get(), offset, length, out.get(), source, target);
  if (::fsync(out.get()) != 0) fail(target, "cannot fsync", errno);
}

void read_range(const ReadScope& scope, const std::filesystem::path& source, uint64_t offset, uint64_t length,
                const std::function<void(std::string_view)>& sink) {
  ConfinedFile in = scope.open(source);
  check_range(source, in.size, offset, length);
  ::posix_fadvise(in.fd.get(), static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(1u << 20);
  uint64_t left = length;
  auto pos = static_cast<off_t>(offset);
  while (left > 0) {
    ssize_t n = ::pread(in.fd.get(), buf.data(), left < buf.size() ? left : buf.size(), pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(source, "cannot read", errno);
    }
    if (n == 0)
      throw IoError(source.string() + ": file ended before the expected " + std::to_string(offset + length) + " bytes");
    sink(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    pos += n;
    left -= static_cast<uint64_t>(n);
  }
}

std::filesystem::path make_temp_dir_beside(const std::filesystem::path& target) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::filesystem::path tmp = io::temp_sibling(target, "tmp");
    if (::mkdir(tmp.c_str(), 0755) == 0) return tmp;
    if (errno != EEXIST) fail(target, "cannot create directory", errno);  // users know the target, not the temp
  }
  throw IoError(target.string() + ": cannot create a temporary directory beside it");
}

void publish_directory(const std::filesystem::path& tmp, const std::filesystem::path& target, bool replace) {
  publish(tmp, target, replace, true);
}

void publish_file(const std::filesystem::path& tmp, const std::filesystem::path& target, bool replace) {
  publish(tmp, target, replace, false);
}

void remove_quietly(const std::filesystem::path& p) noexcept {
  std::error_code ec;
  std::filesystem::remove_all(p, ec);  // remove_all does not follow symlinks
}

}  // namespace ckpt::io
