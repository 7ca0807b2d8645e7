// Synthetic snapshots made with the writer, for benchmarks and large-scale tests.
#pragma once

#include <cstdint>
#include <string>

#include "flink/model.h"
#include "ops/snapshot_input.h"

namespace ckpt::testsupport {

// `operators` x `subtasks`, each subtask an incremental RocksDB handle with `shared` shared and
// `private_files` private files under `file:/<root>/<job>/shared/`, plus a small meta file.
flink::Metadata synthetic_incremental(int operators, int subtasks, int shared, int private_files,
                                      const std::string& root = "/mnt/flink/checkpoints");

// `md` as a command's input that was read from "/nowhere/<label>/_metadata" (a location that
// exists only by name: for diff and other commands that never open the files).
ops::SnapshotInput input_named(flink::Metadata md, const char* label);

}  // namespace ckpt::testsupport
