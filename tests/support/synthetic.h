// Synthetic snapshots made with the writer, for benchmarks and large-scale tests.
#pragma once

#include <cstdint>
#include <string>

#include "flink/model.h"

namespace ckpt::testsupport {

// `operators` x `subtasks`, each subtask an incremental RocksDB handle with `shared` shared and
// `private_files` private files under `file:/<root>/<job>/shared/`, plus a small meta file.
flink::Metadata synthetic_incremental(int operators, int subtasks, int shared, int private_files,
                                      const std::string& root = "/mnt/flink/checkpoints");

}  // namespace ckpt::testsupport
