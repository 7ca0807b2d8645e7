// Rules D01-D07 (`ckpt validate --deep`): the contents of every referenced file that exists with
// its recorded size. RocksDB SST files are opened with RocksDB and every block checksum is
// verified; CURRENT / MANIFEST / OPTIONS are checked by rocks/misc_files.h (inline ones too);
// full-snapshot, operator-state and channel-state offsets are checked against the actual file.
// Files are checked in parallel, largest first; findings come out in a deterministic order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "flink/model.h"
#include "snapshot/file_refs.h"
#include "validate/file_rules.h"
#include "validate/findings.h"

namespace ckpt::validate {

struct DeepItem {
  std::filesystem::path path;  // local, regular, size as recorded
  uint64_t size = 0;
  std::vector<const snapshot::FileRef*> uses;  // every handle that references it
};

// Returns the bytes read.
int64_t check_deep(const flink::Metadata& md, const std::vector<DeepItem>& items, unsigned threads,
                   const ProgressFn& progress, Findings& out);

}  // namespace ckpt::validate
