#include "ops/root_inventory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "snapshot/layout.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

int64_t mtime_of(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// `dir`/`name` as a string (`dir` absolute and normal).
std::string child_path(const fs::path& dir, std::string_view name) {
  const std::string& d = dir.native();
  std::string p;
  p.reserve(d.size() + 1 + name.size());  // one allocation per entry, not a copy and a regrowth
  p += d;
  if (p.empty() || p.back() != '/') p += '/';
  p += name;
  return p;
}

FsEntry entry_of(std::string p, const struct stat& st) {
  FsEntry e;
  e.path = std::move(p);
  e.type = S_ISREG(st.st_mode)   ? FsEntry::Type::kFile
           : S_ISDIR(st.st_mode) ? FsEntry::Type::kDir
           : S_ISLNK(st.st_mode) ? FsEntry::Type::kSymlink
                                 : FsEntry::Type::kOther;
  e.size = st.st_size;
  e.mtime_ns = mtime_of(st);
  e.dev = st.st_dev;
  e.ino = st.st_ino;
  return e;
}

int open_dir_at(int parent, const char* name) {
  return ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// Lists one directory (already open as `fd`, which this takes over) with lstat of every entry.
// Appends to `out`. Names are read first and `out` grows once per directory: a job's shared/
// holds 100 K entries, and regrowing the vector entry by entry moved each of them several times.
bool list_fd(int fd, const fs::path& dir, FsEntries& out, std::string& err) {
  DIR* d = ::fdopendir(fd);
  if (!d) {
    err = dir.string() + ": cannot list: " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  std::string names;  // every name, NUL-terminated, back to back
  std::vector<uint32_t> starts;
  errno = 0;
  while (struct dirent* de = ::readdir(d)) {
    std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    starts.push_back(static_cast<uint32_t>(names.size()));
    names.append(name.data(), name.size() + 1);
    errno = 0;
  }
  if (errno != 0) {
    err = dir.string() + ": cannot list: " + std::strerror(errno);
    ::closedir(d);
    return false;
  }
  const size_t need = out.size() + starts.size();
  if (need > out.capacity()) out.reserve(std::max(need, 2 * out.capacity()));
  for (uint32_t start : starts) {
    const char* name = names.c_str() + start;
    struct stat st {};
    if (::fstatat(::dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      err = child_path(dir, name) + ": cannot stat: " + std::strerror(errno);
      ::closedir(d);
      return false;
    }
    out.push_back(entry_of(child_path(dir, name), st));
  }
  ::closedir(d);
  return true;
}

void tree_walk(int parent, const char* name, const fs::path& dir, int depth, Tree& t) {
  if (depth > kMaxDepth) {
    t.errors.push_back(dir.string() + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");
    return;
  }
  int fd = open_dir_at(parent, name);
  if (fd < 0) {
    t.errors.push_back(dir.string() + ": cannot open: " + std::strerror(errno));
    return;
  }
  int keep = ::dup(fd);
  FsEntries entries;
  std::string err;
  if (!list_fd(fd, dir, entries, err)) {
    t.errors.push_back(err);
    if (keep >= 0) ::close(keep);
    return;
  }
  std::sort(entries.begin(), entries.end(), [](const FsEntry& a, const FsEntry& b) { return a.path < b.path; });
  t.entries.reserve(t.entries.size() + entries.size());
  for (FsEntry& e : entries) {
    t.newest_mtime_ns = std::max(t.newest_mtime_ns, e.mtime_ns);
    if (e.name() == snapshot::kMetadataFileName) {
      if (depth == 0) t.top_metadata = true;
      else t.nested_snapshot = true;
    }
    bool is_dir = e.type == FsEntry::Type::kDir;
    std::string child(e.name());
    t.entries.push_back(std::move(e));
    if (is_dir && keep >= 0) tree_walk(keep, child.c_str(), fs::path(t.entries.back().path), depth + 1, t);
  }
  if (keep >= 0) ::close(keep);
}

Tree list_tree_at(int parent, const char* name, const fs::path& dir) {
  Tree t;
  t.dir = dir;
  struct stat st {};
  if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    t.errors.push_back(dir.string() + ": cannot stat: " + std::strerror(errno));
    return t;
  }
  t.self = entry_of(dir.native(), st);
  t.newest_mtime_ns = t.self.mtime_ns;
  tree_walk(parent, name, dir, 0, t);
  return t;
}

class Scanner {
 public:
  explicit Scanner(Inventory& inv) : inv_(inv) {}

  void walk(int fd, const fs::path& dir, int depth) {
    if (depth > kMaxDepth) {
      inv_.errors.push_back(dir.string() + ": nested deeper than " + std::to_string(kMaxDepth) +
                            " levels; snapshots below could not be seen");
      ::close(fd);
      return;
    }
    // A snapshot directory: discovery does not look inside, and neither do we (listing every
    // kept checkpoint's files would dominate the cost of a plan).
    struct stat mst {};
    if (::fstatat(fd, std::string(snapshot::kMetadataFileName).c_str(), &mst, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(mst.st_mode)) {
        inv_.snapshot_dirs.push_back(dir);
      } else {
        inv_.errors.push_back((dir / std::string(snapshot::kMetadataFileName)).string() +
                              ": _metadata is not a regular file (a symbolic link?); refusing to decide what this "
                              "snapshot uses");
      }
      ::close(fd);
      return;
    }
    int keep = ::dup(fd);
    FsEntries entries;
    std::string err;
    if (!list_fd(fd, dir, entries, err)) {
      inv_.errors.push_back(err + "; snapshots in it could not be seen");
      if (keep >= 0) ::close(keep);
      return;
    }
    if (keep < 0) {
      inv_.errors.push_back(dir.string() + ": cannot duplicate a descriptor: " + std::strerror(errno));
      return;
    }
    std::sort(entries.begin(), entries.end(), [](const FsEntry& a, const FsEntry& b) { return a.path < b.path; });
    bool job = false, has_shared = false, has_owned = false;
    for (const FsEntry& e : entries) {
      if (e.type != FsEntry::Type::kDir) continue;
      std::string name(e.name());
      if (snapshot::checkpoint_number(name)) job = true;
      if (name == snapshot::kSharedDirName) has_shared = true;
      if (name == snapshot::kTaskOwnedDirName) has_owned = true;
    }
    job = job || (has_shared && has_owned);
    JobArea area;
    area.job_dir = dir;
    for (const FsEntry& e : entries) {
      std::string name(e.name());
      if (depth == 0 && name == kJournalName && e.type == FsEntry::Type::kFile) read_journal(fs::path(e.path));
      if (e.type == FsEntry::Type::kSymlink) {
        struct stat st {};
        if (::stat(e.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
          inv_.warnings.push_back(e.path +
                                  ": symbolic link to a directory, not followed (snapshots behind it are not "
                                  "seen; pass --protect for any that use files here)");
        }
        continue;
      }
      if (e.type != FsEntry::Type::kDir) continue;
      if (job && (name == snapshot::kSharedDirName || name == snapshot::kTaskOwnedDirName)) {
        Tree t = list_tree_at(keep, name.c_str(), fs::path(e.path));
        for (auto& x : t.errors) inv_.errors.push_back(x);
        if (t.nested_snapshot || t.top_metadata) {
          inv_.errors.push_back(e.path + ": holds a _metadata file; refusing to treat it as a state pool");
        }
        area.pool_files.reserve(area.pool_files.size() + t.entries.size());
        for (auto& f : t.entries) {
          if (f.type == FsEntry::Type::kFile) area.pool_files.push_back(std::move(f));
          else if (f.type == FsEntry::Type::kSymlink) area.symlinks.push_back(std::move(f));
        }
        continue;
      }
      if (snapshot::checkpoint_number(name)) {
        struct stat cst {};
        std::string md_rel = name + "/" + std::string(snapshot::kMetadataFileName);
        if (::fstatat(keep, md_rel.c_str(), &cst, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
          // A complete checkpoint, or a _metadata we must refuse over: walk() decides which.
          int sub = open_dir_at(keep, name.c_str());
          if (sub < 0) inv_.errors.push_back(e.path + ": cannot open: " + std::strerror(errno));
          else walk(sub, fs::path(e.path), depth + 1);
          continue;
        }
        Tree t = list_tree_at(keep, name.c_str(), fs::path(e.path));
        for (auto& x : t.errors) inv_.errors.push_back(x);
        if (t.nested_snapshot) {
          inv_.errors.push_back(e.path + ": incomplete checkpoint directory holds a nested _metadata");
          continue;
        }
        inv_.incomplete.push_back(std::move(t));
        continue;
      }
      int sub = open_dir_at(keep, name.c_str());
      if (sub < 0) {
        inv_.errors.push_back(e.path + ": cannot open: " + std::strerror(errno) +
                              "; snapshots in it could not be seen");
        continue;
      }
      walk(sub, fs::path(e.path), depth + 1);
    }
    if (job) inv_.jobs.push_back(std::move(area));
    ::close(keep);
  }

 private:
  void read_journal(const fs::path& p) {
    try {
      std::string text = io::read_file_bytes(p);
      size_t i = 0;
      while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string::npos) j = text.size();
        std::string line = text.substr(i, j - i);
        i = j + 1;
        size_t sp = line.find(' ');
        if (sp == std::string::npos || sp + 1 == line.size()) continue;
        uint64_t ino = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + sp, ino);
        if (ec != std::errc() || end != line.data() + sp) continue;
        fs::path rel(line.substr(sp + 1));
        // Only plain relative paths below the root count; anything else is ignored.
        if (rel.is_absolute()) continue;
        bool bad = false;
        for (const auto& c : rel) bad = bad || c == "..";
        if (!bad) inv_.journal.push_back({(inv_.root / rel).lexically_normal(), ino});
      }
    } catch (const std::exception& e) {
      inv_.warnings.push_back(std::string("cannot read the journal: ") + e.what());
    }
  }

  Inventory& inv_;
};

}  // namespace

Inventory scan_root(const fs::path& root) {
  Inventory inv;
  inv.root = root;
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw io::IoError(root.string() + ": cannot open as a directory: " + std::strerror(errno));
  Scanner(inv).walk(fd, root, 0);
  return inv;
}

Tree list_tree(const fs::path& dir) {
  fs::path parent = dir.parent_path();
  int pfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) {
    Tree t;
    t.dir = dir;
    t.errors.push_back(parent.string() + ": cannot open: " + std::strerror(errno));
    return t;
  }
  Tree t = list_tree_at(pfd, dir.filename().c_str(), dir);
  ::close(pfd);
  return t;
}

}  // namespace ckpt::ops
