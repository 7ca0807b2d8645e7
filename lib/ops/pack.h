// `ckpt pack` / `ckpt unpack`: one zstd-compressed archive holding a snapshot in self-contained
// form (the `_metadata` of plan_self_contained plus every file it names), with an XXH64 checksum
// per file. The byte format is formats/pack-format.md.
//
// Contract:
//  * pack writes the archive to a temporary name beside `out` and renames it into place
//    (never replacing an existing file unless `replace`). Sources are re-checked while being
//    read: a file that changed size since planning aborts the pack.
//  * unpack treats the archive as hostile: names must be plain file names (no '/', no "..", no
//    leading '.'), unique, at most 255 bytes; sizes must add up to the total declared in the
//    header, which must fit the free space of the target file system; no symlinks or other
//    special files can be expressed. Every file's checksum, the end record and zstd's frame
//    checksum are verified, and the result must pass check_self_contained, all inside a
//    temporary directory beside `out` that is renamed into place only at the end.
//  * Errors: PackError with one line naming the archive and, for format errors, the byte offset
//    in the decompressed stream.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ops/convert.h"
#include "util/error.h"
#include "util/progress.h"

namespace ckpt::ops {

class PackError : public util::Error {
 public:
  explicit PackError(const std::string& message) : util::Error(util::ErrorKind::kInput, message) {}
};

struct PackOptions {
  int level = 3;              // zstd level (1..19), as `zstd -3`
  int threads = 0;            // zstd worker threads; 0 = one per core
  util::ProgressFn progress;  // payload bytes written of the total
};

struct PackStats {
  uint64_t files = 0;      // including `_metadata`
  uint64_t bytes_in = 0;   // uncompressed payload bytes
  uint64_t bytes_out = 0;  // archive size
};

PackStats pack_snapshot(const SelfContainedPlan& plan, const std::filesystem::path& out, bool replace,
                        const PackOptions& options);

struct UnpackEntry {
  std::string name;
  uint64_t size = 0;
  uint64_t xxh64 = 0;
};

struct UnpackStats {
  std::vector<UnpackEntry> entries;
  uint64_t bytes = 0;
};

// Extracts into `out` (a new directory; with `replace` an existing snapshot directory is swapped
// out atomically). With `list_only`, verifies the archive completely and extracts nothing.
UnpackStats unpack_archive(const std::filesystem::path& archive, const std::filesystem::path& out, bool replace,
                           bool list_only = false, const util::ProgressFn& progress = {});

}  // namespace ckpt::ops
