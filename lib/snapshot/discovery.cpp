#include "snapshot/discovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "flink/metadata_reader.h"
#include "io/decode_error.h"
#include "snapshot/layout.h"

namespace fs = std::filesystem;

namespace ckpt::snapshot {
namespace {

constexpr int kMaxDepth = 12;

[[noreturn]] void fail(const fs::path& p, const std::string& why) { throw io::IoError(p.string() + ": " + why); }

bool is_regular_no_follow(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool has_metadata_magic(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  char b[4] = {};
  ssize_t n = ::read(fd, b, 4);
  ::close(fd);
  return n == 4 && flink::starts_with_metadata_magic(std::string_view(b, 4));
}

void walk(const fs::path& dir, int depth, Discovery& out) {
  if (depth > kMaxDepth) {
    out.unsearched.push_back(dir.string() + ": nested deeper than " + std::to_string(kMaxDepth) +
                             " levels below the root");
    return;
  }
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) {
    if (depth == 0) fail(dir, "cannot list: " + ec.message());
    out.unsearched.push_back(dir.string() + ": cannot list: " + ec.message());
    return;
  }
  std::vector<fs::path> subdirs;
  for (const auto& e : it) {
    std::error_code sec;
    if (e.is_symlink(sec)) continue;
    if (e.is_regular_file(sec)) {
      // Flink 1.2 wrote savepoints as one file with no `_metadata` name.
      if (has_metadata_magic(e.path())) out.snapshots.push_back(locate(e.path()));
      continue;
    }
    if (!e.is_directory(sec)) continue;
    std::string name = e.path().filename().string();
    if (name == kSharedDirName || name == kTaskOwnedDirName) continue;
    subdirs.push_back(e.path());
  }
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& d : subdirs) {
    fs::path md = d / std::string(kMetadataFileName);
    if (is_regular_no_follow(md)) {
      out.snapshots.push_back(locate(md));
    } else if (checkpoint_number(d.filename().string())) {
      out.incomplete.push_back(d);
    } else {
      walk(d, depth + 1, out);
    }
  }
}

}  // namespace

Location locate(const fs::path& metadata_file) {
  Location loc;
  loc.metadata = metadata_file;
  loc.directory = metadata_file.parent_path();
  if (loc.directory.empty()) loc.directory = ".";
  fs::path dir = loc.directory.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  std::string name = dir.filename().string();
  if (auto n = checkpoint_number(name)) {
    loc.dir_kind = DirKind::kCheckpoint;
    loc.checkpoint_number = n;
    loc.job_dir = dir.parent_path();
  } else if (name.starts_with(kSavepointDirPrefix)) {
    loc.dir_kind = DirKind::kSavepoint;
  }
  return loc;
}

Discovery discover(const fs::path& path) {
  Discovery out;
  out.root = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, std::string("cannot access: ") + std::strerror(errno));
  if (S_ISREG(st.st_mode)) {
    out.single = true;
    out.snapshots.push_back(locate(path));
    return out;
  }
  if (!S_ISDIR(st.st_mode)) fail(path, "is neither a file nor a directory");
  fs::path md = path / std::string(kMetadataFileName);
  if (is_regular_no_follow(md)) {
    out.single = true;
    out.snapshots.push_back(locate(md));
    return out;
  }
  if (checkpoint_number(path.lexically_normal().filename().string())) {
    out.single = true;
    out.incomplete.push_back(path);
    return out;
  }
  walk(path, 0, out);
  return out;
}

}  // namespace ckpt::snapshot
