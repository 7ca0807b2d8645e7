// `ckpt compact`: a snapshot whose RocksDB subtasks (incremental / native handles, keyed tags 5
// and 11) are rebuilt from their files, fully compacted and written as a new SELF-CONTAINED
// savepoint-style directory: relative handles only, every file beside `_metadata`, properties
// of a native savepoint. Layout, file placement, the atomic publish and the self-containment
// check are those of `ckpt convert --self-contained` (ops/convert.h), which this builds on.
//
// Per RocksDB subtask:
//   1. its files are laid out as a database twice in a private work directory beside the output
//      (rocks/place_db.h: table files hard-linked, so this costs little): `before` (read only)
//      and `db` (compacted);
//   2. `db` is compacted (rocks/compact_db.h) and exported as a RocksDB checkpoint;
//   3. `before` and the export are iterated side by side (rocks/flink_db.h): every column family
//      must hold the same entries, or nothing is written (CompactMismatch);
//   4. the subtask's handle gets the exported files (`.sst` in the shared list, the rest in the
//      private list, as Flink's native savepoints list them), a new handle id and
//      checkpointedSize = meta + files (a full snapshot); the meta file, backend id, key-group
//      range and checkpoint id are kept.
// Everything else (operator state, heap keyed state, channel state, coordinator state,
// changelog handles) is carried over unchanged, exactly as convert --self-contained carries it.
//
// The input is never modified. The output is built under temporary names beside it and renamed
// into place: a killed run leaves at most hidden `.<name>.<hex>.tmp` directories beside the
// output (never a partial output), and a rerun starts afresh.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flink/model.h"
#include "ops/convert.h"
#include "rocks/db_files.h"
#include "rocks/flink_db.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"
#include "util/error.h"

namespace ckpt::ops {

// The snapshot cannot be compacted as asked (nothing to compact, files missing or remote, an
// output that may not be written, a database RocksDB cannot read). Exit status 2.
class CompactRefused : public util::Error {
 public:
  explicit CompactRefused(const std::string& message) : util::Error(util::ErrorKind::kRefused, message) {}
};

// A compacted database does not hold the same entries as the original: nothing was written.
// Exit status 1.
class CompactMismatch : public util::Error {
 public:
  explicit CompactMismatch(const std::string& message) : util::Error(util::ErrorKind::kProblems, message) {}
};

struct CompactSubtaskPlan {
  rocks::DbFiles db;         // the input files (no problems)
  std::string operator_id;   // 32 hex
  std::string operator_uid;  // V5+ files only
  int sst_before = 0;
};

struct CompactPlan {
  flink::Metadata md;  // the input model (the plan's DbFiles point into it: do not copy a plan)
  snapshot::Location location;
  std::vector<snapshot::PathMapping> mappings;
  std::vector<std::filesystem::path> allow_outside;  // --allow-outside (snapshot/read_scope.h)
  std::vector<CompactSubtaskPlan> subtasks;          // file order
  int files_before = 0;                              // RocksDB files of the compacted subtasks
  uint64_t bytes_before = 0;
  int carried_files = 0;  // every other file, carried over unchanged (meta files included)
  uint64_t carried_bytes = 0;
  std::vector<std::string> notes;

  CompactPlan() = default;
  CompactPlan(const CompactPlan&) = delete;
  CompactPlan& operator=(const CompactPlan&) = delete;
  CompactPlan(CompactPlan&&) = default;
  CompactPlan& operator=(CompactPlan&&) = default;
};

// Pure apart from opening the files. Refuses (CompactRefused, every reason listed) a snapshot
// without RocksDB incremental/native handles, and any file problem (rocks/db_files.h, and those
// convert --self-contained refuses for the carried files). Files are read only from the
// snapshot's root, the mappings' directories and `allow_outside` (snapshot/read_scope.h); a file
// elsewhere is refused first, with one line (io::OutsideScopeError), as in convert.
CompactPlan plan_compact(const flink::Metadata& md, const snapshot::Location& loc,
                         const std::vector<snapshot::PathMapping>& mappings,
                         const std::vector<std::filesystem::path>& allow_outside = {});

// Refuses (CompactRefused) what write_self_contained refuses: an output inside the snapshot
// directory or containing it or one of its files, an existing output without `replace`, and with
// `replace` one that is not a snapshot directory.
void check_compact_output(const CompactPlan& plan, const std::filesystem::path& out, bool replace);

struct CompactedFile {
  std::string name;         // RocksDB file name
  std::string output_name;  // the file's name in the output directory
  uint64_t size = 0;
};

struct CompactedSubtask {
  int plan_index = 0;  // into CompactPlan::subtasks
  int files_after = 0;
  int sst_after = 0;
  uint64_t bytes_after = 0;
  std::vector<rocks::ColumnFamilyEntries> column_families;  // verified equal before and after
  double seconds = 0;                                       // materialize + compact + verify
  std::vector<CompactedFile> files;
};

struct CompactResult {
  std::vector<CompactedSubtask> subtasks;
  SelfContainedPlan written;  // the final layout (files, `_metadata` bytes, notes)
  WriteStats stats;
  std::vector<std::string> notes;  // options assumed when opening databases
};

struct CompactRunOptions {
  bool replace = false;  // --force: replace an existing output snapshot directory
  bool copy = false;     // copy input files instead of hard-linking them (the output then shares
                         // no inode with the input)
  unsigned threads = 0;  // subtasks compacted at once (0: one per hardware thread)
  std::function<void(const std::string&)> progress;  // one line per step; called from workers
};

// Runs the plan into `out` (see the header comment). Throws CompactRefused, CompactMismatch,
// io::IoError.
CompactResult run_compact(const CompactPlan& plan, const std::filesystem::path& out, const CompactRunOptions& options);

}  // namespace ckpt::ops
