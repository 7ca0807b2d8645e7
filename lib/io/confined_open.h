// Opening a file a snapshot names without letting the snapshot choose which file: the one reader
// of referenced state files for the commands that copy, link or pack them (convert
// --self-contained, pack, materialize, compact, unpack's check).
//
// A `_metadata` is input, not a command: a crafted handle `file:/etc/passwd` or a directory
// symlink `JOB/shared -> /elsewhere` must not make ckpt copy or link a file the user never named.
// So a ReadScope lists the directories a command may read from, and opens a path only
//  * when it lies lexically inside one of them (after lexical normalisation, so "a/../.." cannot
//    climb out), and
//  * by resolving the rest of the path below that directory WITHOUT following a symbolic link in
//    any component: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (Linux >= 5.6), or,
//    where the kernel answers ENOSYS, a walk that opens one component at a time with O_NOFOLLOW.
// The allowed directory itself is opened as the user spelt it (symlinks in it are the user's).
//
// The file opened is the file used: callers read, copy and hard-link through the descriptor
// (io/copy_or_link.h), so nothing can be swapped between the check and the use.
//
// Errors: OutsideScopeError for a path outside every allowed directory or reached through a
// symbolic link (the commands' refusal, exit 2), io::IoError for everything else (missing, not a
// regular file), each one line naming the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "io/decode_error.h"

namespace ckpt::io {

class OutsideScopeError : public IoError {
 public:
  using IoError::IoError;
};

// The one refusal of a command that found several files outside its scope: the first reason (in
// sorted order) and how many more, so that the refusal stays one line.
OutsideScopeError outside_error(std::vector<std::string> reasons);

// A descriptor closed on scope exit.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_ = -1;
};

// How a path below an open directory is resolved.
enum class BeneathMethod { kAuto, kOpenat2, kWalk };

// Opens `relative` (no leading '/', no ".." component) below the directory `dirfd` with `flags`
// (O_RDONLY, O_PATH, ... ; O_NOFOLLOW and O_CLOEXEC are added), following no symbolic link in
// any component. kAuto uses openat2 and falls back to the walk when the kernel lacks it (ENOSYS);
// the other two force one method (tests exercise the walk directly). Returns the descriptor or
// -errno: ELOOP for a symlinked component, EXDEV for an escape, ENOENT, ...
int open_beneath(int dirfd, std::string_view relative, int flags, BeneathMethod method = BeneathMethod::kAuto);

// An open regular file and what it is.
struct ConfinedFile {
  UniqueFd fd;
  uint64_t size = 0;
  std::filesystem::path path;  // as the caller named it (for messages)
};

class ReadScope {
 public:
  // A scope that allows everything, for files ckpt wrote itself (the pipeline's own state,
  // temporary work directories): paths are still opened without following a final symlink.
  static ReadScope unconfined();

  // Allows `dir` and everything below it. Relative directories are made absolute now.
  void allow(const std::filesystem::path& dir);

  bool confined() const { return confined_; }
  const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

  // The allowed directory `p` lies in (longest first), or an empty path.
  std::filesystem::path containing(const std::filesystem::path& p) const;

  // Opens the regular file `p` for reading (O_NONBLOCK, so a FIFO cannot block us). Throws
  // OutsideScopeError "<p>: resolves outside <what> (<dirs>); pass --allow-outside DIR to read
  // it" or "<p>: <dir>/<component> is a symbolic link (not followed)", and IoError "<p>: not a
  // regular file", "<p>: cannot open: <strerror>".
  ConfinedFile open(const std::filesystem::path& p) const;

  // Removes the file (or symlink: never followed) `p` under the same confinement: inside the
  // allowed directories, its directory reached through no symbolic link. For deleting what a
  // snapshot names (a checkpoint restored in CLAIM mode, subsumed later). Returns "" when removed
  // or already absent, else why not (one line naming `p`); never throws.
  std::string unlink(const std::filesystem::path& p) const;

  // Why `p` may not be read (outside, or reached through a symbolic link; the reason without the
  // path), or "" when it may or when it fails for another reason (missing, ...): the check
  // `ckpt validate` reports. Opens with O_PATH only (no read permission needed, nothing read).
  std::string refusal(const std::filesystem::path& p) const;

  // What the scope's directories are, for messages: "the snapshot's root".
  void set_description(std::string what) { what_ = std::move(what); }
  const std::string& description() const { return what_; }

 private:
  int open_fd(const std::filesystem::path& p, int flags, std::string& refusal, int& err) const;

  bool confined_ = true;
  std::vector<std::filesystem::path> dirs_;  // absolute, lexically normal
  std::string what_ = "the snapshot's root";
};

}  // namespace ckpt::io
