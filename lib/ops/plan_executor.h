// Applying a prune/gc plan (ops/deletion_plan.h) in crash-safe order. One executor for both commands.
//
// Contract:
//  * Exclusive: an flock on the root directory; a second prune/gc on the same root is refused.
//  * Journal first: the directories the plan removes are written to <root>/.ckpt-prune-journal
//    (atomically) before anything is deleted, so a rerun after a crash finishes them even though
//    our own unlinks made them look young. The journal is removed when all of them are gone.
//  * Phase 1 unlinks the pruned snapshots' `_metadata` and fsyncs their directories before any
//    other deletion: after a crash no half-deleted snapshot is restorable-looking.
//  * Every deletion re-checks the entry first, through directory descriptors opened from the root
//    with O_NOFOLLOW (a directory swapped for a symbolic link since planning fails to open): it
//    must still be the same file (device, inode), of the same type, not modified since planning.
//    A changed entry is skipped and reported, never deleted.
//  * A file whose phase-1 prerequisites failed is skipped (its snapshot is still restorable).
//  * Test hook: with CKPT_TEST_CRASH_AFTER=N in the environment the process kills itself with
//    SIGKILL right after its N-th successful deletion (tests/cli/test_prune_crash.sh).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/deletion_plan.h"
#include "util/progress.h"

namespace ckpt::ops {

// The exclusive lock of a root for the lifetime of the object.
class RootLock {
 public:
  // nullopt when another process holds it; throws io::IoError when the root cannot be opened.
  static std::optional<RootLock> try_acquire(const std::filesystem::path& root);
  RootLock(RootLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  RootLock& operator=(RootLock&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  RootLock(const RootLock&) = delete;
  ~RootLock();
  int fd() const { return fd_; }

 private:
  explicit RootLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

struct ApplyResult {
  int64_t files_deleted = 0, dirs_deleted = 0, bytes_freed = 0;
  struct Failure {
    std::filesystem::path path;
    std::string why;  // "changed since planning", "prerequisite failed", strerror, ...
  };
  std::vector<Failure> failures;
  bool ok() const { return failures.empty(); }
};

// Applies `plan` to its root, which `lock` must hold.
// `progress` (may be empty) hears (deletions done, deletions planned).
ApplyResult apply_plan(const Plan& plan, const RootLock& lock, const util::ProgressFn& progress = {});

}  // namespace ckpt::ops
