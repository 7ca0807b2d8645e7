// Which files a command that copies, links or packs a snapshot may read: the snapshot's ROOT,
// the local directories of its `--map` mappings and the user's `--allow-outside` directories
// (io/confined_open.h does the opening).
//
// The root of a snapshot:
//  * a checkpoint in a job directory (`CHECKPOINTS/<job-id>/chk-N`): CHECKPOINTS, the parent of
//    the job directory, i.e. Flink's `state.checkpoints.dir`. It holds the job's `shared/` and
//    `taskowned/` directories and those of the jobs it was restored from in CLAIM or LEGACY mode,
//    which incremental checkpoints reference. When that parent is `/`, the job directory itself;
//  * anything else (a savepoint, a `_metadata` in some directory, a single-file savepoint): the
//    directory holding the `_metadata`.
// Everything a snapshot names outside these is refused unless the user names its directory.
#pragma once

#include <filesystem>
#include <vector>

#include "io/confined_open.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"

namespace ckpt::snapshot {

std::filesystem::path snapshot_root(const Location& loc);

io::ReadScope read_scope(const Location& loc, const std::vector<PathMapping>& mappings,
                         const std::vector<std::filesystem::path>& allow_outside);

}  // namespace ckpt::snapshot
