// The RocksDB files of a persisted native snapshot, listed as a restore piece lists them (what a
// restore reads from the `_metadata` handle through rocks/db_files): for the tests and the
// benchmark that restore a NativeKeyedResult without writing its `_metadata`.
#pragma once

#include <string>

#include "pipeline/checkpoint_storage.h"
#include "pipeline/snapshot_result.h"
#include "rocks/db_files.h"

namespace ckpt::testsupport {

// Shared files first, then private ones; inline streams carry their bytes, files their path
// (relative names resolved against `loc.dir`, "file:" URIs made local).
rocks::DbFiles native_db_files(const pipeline::NativeKeyedResult& r, const pipeline::SnapshotLocation& loc,
                               const std::string& where);

}  // namespace ckpt::testsupport
