#include "storage/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"

namespace ckpt::storage {
namespace fs = std::filesystem;
namespace {

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Pages of this many objects keep a listing of millions of files from being held twice.
constexpr size_t kPage = 1000;

}  // namespace

void LocalStore::list(std::string_view prefix, const std::function<void(std::span<const ObjectInfo>)>& page) {
  // "dir/" lists the directory; "dir/ab" lists the files of dir whose paths start with it.
  std::string p(prefix);
  fs::path dir = p.empty() ? fs::path(".") : (p.back() == '/' ? fs::path(p) : fs::path(p).parent_path());
  if (dir.empty()) dir = ".";
  std::vector<ObjectInfo> all;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return;  // an empty prefix, as on S3
    throw io::IoError(dir.string() + ": cannot list: " + ec.message());
  }
  for (; it != end; it.increment(ec)) {
    if (ec) throw io::IoError(it->path().string() + ": cannot list: " + ec.message());
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    std::string key = p.empty() ? it->path().lexically_relative(".").string() : it->path().string();
    if (!key.starts_with(p)) continue;
    struct stat st {};
    if (::lstat(key.c_str(), &st) != 0) continue;  // gone since it was listed
    all.push_back({std::move(key), static_cast<uint64_t>(st.st_size), mtime_ns(st), {}});
  }
  std::sort(all.begin(), all.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  for (size_t i = 0; i < all.size(); i += kPage) {
    page(std::span<const ObjectInfo>(all).subspan(i, std::min(kPage, all.size() - i)));
  }
}

std::optional<ObjectInfo> LocalStore::stat(std::string_view key) {
  std::string k(key);
  struct stat st {};
  if (::stat(k.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw io::IoError(k + ": cannot stat: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return ObjectInfo{k, static_cast<uint64_t>(st.st_size), mtime_ns(st), {}};
}

std::string LocalStore::read(std::string_view key, uint64_t max_bytes) {
  return io::read_file_bytes(std::string(key), max_bytes);
}

std::vector<std::string> LocalStore::read_all(std::span<const std::string> keys, uint64_t max_bytes) {
  std::vector<std::string> out;
  for (const std::string& k : keys) out.push_back(read(k, max_bytes));
  return out;
}

std::string LocalStore::read_range(std::string_view key, uint64_t offset, uint64_t length) {
  std::string k(key);
  int fd = ::open(k.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io::IoError(k + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw io::IoError(k + ": cannot stat: " + std::strerror(e));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t n = offset >= size ? 0 : std::min(length, size - offset);
  std::string out(n, '\0');
  uint64_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = r < 0 ? errno : 0;
      ::close(fd);
      throw io::IoError(k + ": byte " + std::to_string(offset + done) +
                        ": cannot read: " + (e ? std::strerror(e) : "file shrank while read"));
    }
    done += static_cast<uint64_t>(r);
  }
  ::close(fd);
  return out;
}

void LocalStore::write_atomic(std::string_view key, std::string_view bytes, bool overwrite) {
  fs::path target{std::string(key)};
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  io::write_file_atomically(target, bytes, overwrite);
}

void LocalStore::copy(std::string_view from_key, std::string_view to_key) {
  std::string bytes = io::read_file_bytes(std::string(from_key));
  write_atomic(to_key, bytes, true);
}

void LocalStore::download(std::span<const std::string> keys, std::span<const std::string> files) {
  for (size_t i = 0; i < keys.size() && i < files.size(); ++i) {
    std::error_code ec;
    fs::copy_file(keys[i], files[i], fs::copy_options::overwrite_existing, ec);
    if (ec) throw io::IoError(keys[i] + ": cannot copy to " + files[i] + ": " + ec.message());
  }
}

void LocalStore::upload(std::span<const std::string> files, std::span<const std::string> keys) {
  for (size_t i = 0; i < keys.size() && i < files.size(); ++i)
    write_atomic(keys[i], io::read_file_bytes(files[i]), true);
}

std::vector<DeleteFailure> LocalStore::remove(std::span<const std::string> keys) {
  std::vector<DeleteFailure> failed;
  for (const std::string& k : keys) {
    if (::unlink(k.c_str()) != 0 && errno != ENOENT) failed.push_back({k, std::strerror(errno)});
  }
  return failed;
}

}  // namespace ckpt::storage
