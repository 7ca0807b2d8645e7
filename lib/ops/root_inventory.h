// What prune and gc may delete: the job directories under a root, their `shared/` and
// `taskowned/` pools, incomplete `chk-N` directories, and everything that must stop them.
//
// Contract:
//  * The walk goes through directory file descriptors opened with O_NOFOLLOW, so no symbolic
//    link is ever followed; symbolic links are recorded, never listed into.
//  * Anything that could hide a snapshot is an error (callers refuse, fail closed): a directory
//    that cannot be listed, a `_metadata` that is not a regular file, a snapshot directory that
//    discovery did not report, nesting deeper than kMaxDepth.
//  * A directory is a job directory when it holds a chk-N directory, or both `shared/` and
//    `taskowned/` (Flink creates both when checkpointing starts). Only job directories' pools
//    are inventoried: a `shared/` elsewhere is somebody else's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/large_alloc.h"

namespace ckpt::ops {

struct FsEntry {
  enum class Type : uint8_t { kFile, kDir, kSymlink, kOther };
  // Absolute, lexically normal. A string, not a std::filesystem::path: a plan holds hundreds of
  // thousands of entries, and a path keeps a parsed copy of every component beside its string.
  std::string path;
  Type type = Type::kFile;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t dev = 0, ino = 0;

  std::string_view name() const {  // the last component
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
  }
  std::string_view parent() const {  // everything before the last separator ("/" for a top entry)
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return {};
    return std::string_view(path).substr(0, slash == 0 ? 1 : slash);
  }
};

// Entry lists run to hundreds of thousands (a job's shared/, a plan's deletions): large blocks go
// to huge pages (util/large_alloc.h), which halves the page faults of a plan.
using FsEntries = std::vector<FsEntry, util::LargeAllocator<FsEntry>>;

struct JobArea {
  std::filesystem::path job_dir;
  FsEntries pool_files;           // regular files anywhere under shared/ and taskowned/
  std::vector<FsEntry> symlinks;  // symbolic links inside the pools (left alone)
};

// A directory tree listed bottom-up-ready: files and directories below `dir` (not `dir` itself).
struct Tree {
  std::filesystem::path dir;
  FsEntry self;                     // lstat of `dir`
  FsEntries entries;                // everything below, directories before their contents
  int64_t newest_mtime_ns = 0;      // over `dir` and every entry
  bool nested_snapshot = false;     // a `_metadata` (any type) below the top level
  bool top_metadata = false;        // a `_metadata` entry (any type) directly in `dir`
  std::vector<std::string> errors;  // unlistable subdirectories, too deep
};

struct Inventory {
  std::filesystem::path root;  // absolute, lexically normal
  std::vector<JobArea> jobs;
  std::vector<Tree> incomplete;                      // chk-N directories without `_metadata`
  std::vector<std::filesystem::path> snapshot_dirs;  // directories holding a regular `_metadata`
  struct JournalEntry {
    std::filesystem::path dir;  // absolute, normal, inside the root
    uint64_t ino = 0;           // the directory's inode when journaled (a recreated one differs)
  };
  std::vector<JournalEntry> journal;  // directories an interrupted apply was removing
  std::vector<std::string> errors;    // fail-closed reasons, one line each
  std::vector<std::string> warnings;  // e.g. symbolic links to directories (not followed)
};

inline constexpr int kMaxDepth = 64;

// The journal of directories being removed, kept at `<root>/<kJournalName>` while an apply runs.
// One line per directory: "<inode> <path relative to the root>".
inline constexpr const char* kJournalName = ".ckpt-prune-journal";

// Walks `root` (absolute, normal; must be a directory and not a symbolic link, checked by the
// caller). Throws io::IoError when the root itself cannot be opened or listed.
Inventory scan_root(const std::filesystem::path& root);

// Lists `dir` recursively without following links (for pruned snapshot directories).
Tree list_tree(const std::filesystem::path& dir);

}  // namespace ckpt::ops
