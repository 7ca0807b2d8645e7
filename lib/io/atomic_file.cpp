#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "io/decode_error.h"

namespace ckpt::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& p, const char* what) {
  throw IoError(p.string() + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

std::filesystem::path temp_sibling(const std::filesystem::path& target, std::string_view kind) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
  // Appended piecewise: "." + string + ... trips GCC 12's -Wrestrict false positive at -O3.
  std::string name = ".";
  name += target.filename().string();
  name += '.';
  name += hex;
  name += '.';
  name += kind;
  std::filesystem::path parent = target.parent_path();
  if (parent.empty()) parent = ".";
  return parent / name;
}

bool is_temp_sibling_name(std::string_view name, std::string_view target_name, std::string_view kind) {
  // "." target_name "." 16 hex "." kind
  const std::size_t size = 1 + target_name.size() + 1 + 16 + 1 + kind.size();
  if (name.size() != size || name[0] != '.' || name.substr(1, target_name.size()) != target_name) return false;
  std::string_view rest = name.substr(1 + target_name.size());
  if (rest[0] != '.' || rest[17] != '.' || rest.substr(18) != kind) return false;
  for (char c : rest.substr(1, 16)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(dir, "cannot open directory");
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) fail(dir, "cannot fsync directory");
}

void write_file_atomically(const std::filesystem::path& target, std::string_view bytes, bool overwrite,
                           std::optional<int64_t> mtime_ns) {
  std::filesystem::path tmp = temp_sibling(target, "tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(target, "cannot create");
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      fail(target, "cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    fail(target, "cannot fsync");
  }
  if (mtime_ns) {
    const struct timespec times[2] = {{0, UTIME_OMIT}, {*mtime_ns / 1000000000, *mtime_ns % 1000000000}};
    if (::futimens(fd, times) != 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      fail(target, "cannot set the modification time");
    }
  }
  ::close(fd);
  if (overwrite) {
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
      int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      fail(target, "cannot rename into place");
    }
  } else {
    // link(2) refuses an existing target, which rename(2) would silently replace.
    if (::link(tmp.c_str(), target.c_str()) != 0) {
      int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      fail(target, saved == EEXIST ? "already exists (use --force to overwrite)" : "cannot link into place");
    }
    ::unlink(tmp.c_str());
  }
  fsync_directory(target.parent_path());
}

}  // namespace ckpt::io
