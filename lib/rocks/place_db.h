// Laying out one subtask's RocksDB files (rocks/db_files.h) as a database directory under their
// original names, so that RocksDB (and Debian's `ldb` / `sst_dump`) can open it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "rocks/db_files.h"

namespace ckpt::rocks {

enum class PlaceHow {
  kLink,    // hard link to the snapshot's file
  kCopy,    // whole-file copy
  kCut,     // a file-merging segment copied out of its physical file
  kInline,  // bytes from `_metadata` written out
};

// "link", "copy", "cut", "inline".
const char* place_how_name(PlaceHow h);

struct PlaceStats {
  std::vector<PlaceHow> how;  // per file of DbFiles::files, same order
  int linked = 0, copied = 0, cut = 0, inlined = 0;
  uint64_t bytes = 0;
};

// Writes the files of `db` (which must have no problems) into the existing, empty directory
// `dir`. Never writes to the snapshot's files:
//  * `.sst` files are hard-linked when `link_ssts` and the file system allows it (RocksDB never
//    modifies a table file: it writes new ones and unlinks old ones), else copied;
//  * every other file is copied: a database opened for writing gets a new MANIFEST and CURRENT
//    and may unlink or rewrite the old ones, which must not be the snapshot's inodes;
//  * CURRENT is written last, after everything else is durable: without CURRENT a directory is
//    not a database RocksDB opens, so an interrupted run never leaves one that looks complete.
// Every file and the directory are fsynced. Throws io::IoError naming the path.
PlaceStats place_db_files(const DbFiles& db, const std::filesystem::path& dir, bool link_ssts);

}  // namespace ckpt::rocks
