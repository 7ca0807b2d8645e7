// The files of one subtask's RocksDB database, as a Flink incremental or native handle (keyed
// tags 5, 11; spec §6.2, §12.3) lists them: each file's ORIGINAL RocksDB name (the handle's
// `localPath`: "000012.sst", "MANIFEST-000005", "CURRENT", "OPTIONS-000007") and where its bytes
// are on this machine (a whole file, a file-merging segment, or bytes inlined in `_metadata`).
//
// This is what `ckpt materialize` lays out as a database directory and what `ckpt compact`
// rebuilds a database from. Paths come from snapshot::file_refs (the one resolution rule, with
// `--map` mappings), handles from flink::visit_streams; nothing here re-resolves a path.
//
// Contract: pure apart from opening the files through a ReadScope (io/confined_open.h), which
// place_db.h uses again to read them. Problems (a name that is not a plain file name or repeats, a
// remote file without a mapping, a file outside the scope or behind a symlinked directory, a
// missing, resized or non-regular file, a handle with no CURRENT) are collected per subtask in
// `problems`, one line each, never thrown: callers decide whether one broken subtask stops them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "io/confined_open.h"
#include "snapshot/paths.h"

namespace ckpt::rocks {

enum class FileSource {
  kFile,     // a whole local file (tags 2, 6)
  kSegment,  // [offset, offset + size) of a local physical file (tag 15, file merging)
  kInline,   // bytes held in `_metadata` (tag 1, ByteStreamStateHandle)
};

struct DbFile {
  std::string name;     // original RocksDB file name
  bool shared = false;  // from the handle's shared list (else the private list)
  FileSource source = FileSource::kFile;
  std::filesystem::path path;  // kFile, kSegment: the local file
  uint64_t offset = 0;         // kSegment
  uint64_t size = 0;           // bytes of the RocksDB file
  std::string_view bytes;      // kInline: a view into the Metadata's storage
  std::string original;        // the handle's path (or, inline, its name) as written, UTF-8
};

// One incremental / native RocksDB handle of a subtask.
struct DbFiles {
  int operator_index = -1;
  int32_t subtask = -1;
  const flink::IncrementalHandle* handle = nullptr;  // points into the Metadata given
  std::string where;                                 // "operator <hex> (uid U) subtask 3", for messages
  std::vector<DbFile> files;                         // shared list, then private list, in handle order
  uint64_t bytes = 0;                                // sum of the files' sizes (saturating)
  std::vector<std::string> problems;
  std::vector<std::string> outside;  // files outside `scope` or behind a symlink ("<where>: <name>: <why>")
  io::ReadScope scope;               // where `files` may be read from

  bool ok() const { return problems.empty() && outside.empty(); }
};

// True for names RocksDB gives table files ("*.sst"): Flink classifies files by this suffix.
bool is_sst(std::string_view name);

// A file name that can be placed in a directory as is: not empty, no '/', not "." or "..".
bool plain_local_name(std::string_view name);

// The database files of every managed keyed incremental handle (tags 5, 11) of `md`, in file
// order. Relative handles resolve against `snapshot_dir`; remote paths through `mappings`; every
// file must open through `scope` (snapshot::read_scope for a snapshot on disk).
// Handles nested inside changelog composites (tags 8, 14) are listed only with `materialized`:
// the database of the changelog's last materialization, without the changes made since, which is
// what a reader of the materialized state wants (ckpt state, inspect --states) and not a database
// a writer may stand in for the whole handle (compact, materialize; see nested_incremental_count).
std::vector<DbFiles> db_files_of(const flink::Metadata& md, const std::filesystem::path& snapshot_dir,
                                 const std::vector<snapshot::PathMapping>& mappings, const io::ReadScope& scope,
                                 bool materialized = false);

// The same database as laid out in `dir` by rocks/place_db.h: every file a whole local file
// dir/<name> (to lay out a second copy from the first), readable from `dir` only.
DbFiles laid_out_at(const DbFiles& db, const std::filesystem::path& dir);

// How many incremental handles sit inside changelog composites (not listed by db_files_of).
int nested_incremental_count(const flink::Metadata& md);

// "operator <hex> (uid U) subtask I", as the RocksDB commands name a subtask.
std::string subtask_label(const flink::OperatorState& op, int32_t subtask);

}  // namespace ckpt::rocks
