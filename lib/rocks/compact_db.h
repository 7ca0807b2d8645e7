// Full compaction of one Flink RocksDB database, and the export of the result as the file set
// Flink uploads for a native snapshot.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ckpt::rocks {

struct ExportedFile {
  std::string name;  // RocksDB file name in the export directory
  uint64_t size = 0;
};

struct CompactDbResult {
  std::vector<ExportedFile> files;  // sorted by name
  uint64_t bytes = 0;
  int sst_files = 0;
  std::vector<std::string> notes;  // assumptions made about the options (rocks/flink_options.h)
};

// Opens the database in `db_dir` for writing (with Flink's options, automatic compactions off;
// rocks/flink_options.h), compacts every column family over its whole key range with the
// bottommost level compaction forced (so overwritten values, tombstones and merge operands are
// folded away and small table files are merged), then writes a RocksDB checkpoint into
// `export_dir` (which must not exist; same file system: table files are hard links): the live
// `.sst` files, MANIFEST, CURRENT and OPTIONS, exactly what Flink's own native snapshot takes with
// RocksDB's Checkpoint. `db_dir` is modified; callers pass a private copy. Throws RocksError.
CompactDbResult compact_db(const std::filesystem::path& db_dir, const std::filesystem::path& export_dir);

}  // namespace ckpt::rocks
