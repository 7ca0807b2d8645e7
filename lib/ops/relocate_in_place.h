// `ckpt convert --relocate FROM=TO --in-place DIR`: the repair of a moved or copied checkpoint
// directory (what prune and gc suggest when they find one, ops/deletion_plan.h MovedPrefix).
//
// Contract:
//  * Every snapshot discovery finds under DIR (a snapshot, a job directory or a root) has the
//    absolute paths of its handles rewritten by `relocations` (ops::relocate); relative handles
//    are left as they are. A snapshot where nothing matches is not written at all.
//  * Each `_metadata` is replaced atomically by rename(2): after a crash it holds the old or the
//    new bytes, never a torn mix. The new file keeps the old one's modification time, so
//    retention by time and grace periods still see when the checkpoint was taken.
//  * Idempotent: a rerun rewrites nothing (the paths no longer start with FROM). A temporary file
//    a killed run left beside a `_metadata` is removed by the next run.
//  * A job directory whose live job holds its lock (snapshot/job_lock.h) is refused: the job
//    writes `_metadata` files there itself.
//  * Nothing but `_metadata` files is written; no state file is read, moved or deleted.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ops/convert.h"

namespace ckpt::ops {

struct InPlaceItem {
  std::filesystem::path metadata;
  int handles = 0;       // absolute handle paths rewritten
  int directories = 0;   // tag-17 directories rewritten
  bool written = false;  // false: nothing matched, or dry run, or an error
  std::string error;     // unreadable, unwritable, or refused (one line)
};

struct InPlaceResult {
  std::vector<InPlaceItem> snapshots;   // in discovery order
  std::vector<std::string> unsearched;  // directories discovery could not list
  int rewritten = 0, unchanged = 0, failed = 0;
};

// Throws io::IoError when `dir` cannot be listed at all. Per-snapshot failures are recorded in
// their item and counted; the other snapshots are still done.
InPlaceResult relocate_in_place(const std::filesystem::path& dir, const std::vector<Relocation>& relocations,
                                bool dry_run);

}  // namespace ckpt::ops
