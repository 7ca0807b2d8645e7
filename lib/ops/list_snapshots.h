// `ckpt inspect ROOT`: every snapshot discovery found under a root, read and summarised, newest
// first. An unreadable snapshot is listed with its error, never dropped.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ops/inspect.h"
#include "ops/snapshot_source.h"
#include "snapshot/discovery.h"

namespace ckpt::ops {

struct ListedSnapshot {
  snapshot::Location location;
  std::optional<InspectResult> result;  // absent: the `_metadata` could not be read
  std::string error;                    // then: one line naming the file, the offset and why
};

struct SnapshotList {
  std::vector<ListedSnapshot> snapshots;          // newest first (see list_snapshots)
  std::vector<std::filesystem::path> incomplete;  // chk-N directories without `_metadata`
  std::vector<std::string> unsearched;            // directories discovery could not list
  int unreadable = 0;
};

// Reads every snapshot of `found` (summaries only, on small arenas), then orders them by
// `_metadata` modification time, newest first, then checkpoint id (highest first), then path;
// unreadable snapshots sort as the oldest. `source` reads each `_metadata` (an object store's);
// without one, local files are read.
SnapshotList list_snapshots(const snapshot::Discovery& found, SnapshotSource* source = nullptr);

}  // namespace ckpt::ops
