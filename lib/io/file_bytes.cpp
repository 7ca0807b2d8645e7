#include "io/file_bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/decode_error.h"

namespace ckpt::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw IoError(path.string() + ": " + why);
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string read_file_bytes(const std::filesystem::path& path, uint64_t max_bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path, "is a directory, expected a file");
  if (!S_ISREG(st.st_mode)) fail(path, "is not a regular file");
  auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    fail(path, "is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) + " allowed");
  }
  std::string out;
  out.resize(size);
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(f.fd, out.data() + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, std::string("cannot read: ") + std::strerror(errno));
    }
    if (n == 0) break;  // shrank while reading
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace ckpt::io
