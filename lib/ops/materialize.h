// `ckpt materialize`: one subtask's RocksDB state as a database directory under the files'
// original names, for RocksDB's own tools (`ldb --db=DIR`, `sst_dump --file=DIR`) or any program
// linking RocksDB. The snapshot is only read; the directory is built beside the output under a
// temporary name, checked (RocksDB lists its column families and opens it read-only) and renamed
// into place, so an interrupted run never leaves a database that looks complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flink/model.h"
#include "rocks/db_files.h"
#include "rocks/place_db.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"
#include "util/error.h"

namespace ckpt::ops {

// The subtask cannot be materialized (no such operator or subtask, state that is not a RocksDB
// database, files missing, an output that may not be written). what() is one line, or a summary
// line followed by "  - <reason>" lines.
class MaterializeError : public util::Error {
 public:
  explicit MaterializeError(const std::string& message) : util::Error(util::ErrorKind::kRefused, message) {}

 protected:
  MaterializeError(util::ErrorKind kind, const std::string& message) : util::Error(kind, message) {}
};

// "<head>: <reason>", or with several reasons "<head>:" and one "  - <reason>" line each: the form
// of MaterializeError and CompactRefused messages.
std::string refusal_message(const std::string& head, const std::vector<std::string>& reasons);

// The files were written but RocksDB does not open them as a database (a damaged snapshot):
// nothing was published.
class MaterializeCheckFailed : public MaterializeError {
 public:
  explicit MaterializeCheckFailed(const std::string& message) : MaterializeError(util::ErrorKind::kProblems, message) {}
};

// Which operator: by uid (matched against the id Flink derives from it, and against the uid a
// V5+ file records) or by 32-hex operator id. Exactly one of the two is set.
struct OperatorSelector {
  std::optional<std::string> uid;
  std::optional<std::string> operator_id;
};

// The operator `sel` names. Throws MaterializeError listing the operators when none matches.
const flink::OperatorState& select_operator(const flink::Metadata& md, const OperatorSelector& sel);

struct MaterializePlan {
  rocks::DbFiles db;          // views into the Metadata given to plan_materialize: keep it alive
  std::string operator_id;    // 32 hex
  std::string operator_uid;   // V5+ files only
  int8_t tag = 0;             // keyed handle tag (5 or 11)
  int64_t checkpoint_id = 0;  // of the handle
  std::string backend_id;
  flink::KeyGroupRange range;
  std::filesystem::path source_dir;
};

// Refuses (MaterializeError) keyed state that is not one RocksDB database, explaining what it is:
// a key-grouped full snapshot (tags 3, 7, 12: canonical savepoints, heap state, RocksDB full
// checkpoints of Flink <= 1.15) is Flink's own stream format, and a changelog handle (8, 14) is
// a database plus a log of later changes.
// The files are read only from the snapshot's root, the mappings' directories and
// `allow_outside` (snapshot/read_scope.h); any other is refused first, with one line
// (io::OutsideScopeError).
MaterializePlan plan_materialize(const flink::Metadata& md, const snapshot::Location& loc, const OperatorSelector& sel,
                                 int32_t subtask, const std::vector<snapshot::PathMapping>& mappings,
                                 const std::vector<std::filesystem::path>& allow_outside = {});

// Refuses (io::IoError) an output inside `source_dir`, containing it, or containing a file of one
// of `dbs`: the inputs-are-never-modified rule of convert (ops::check_output_location).
void check_output_outside_inputs(const std::filesystem::path& out, const std::filesystem::path& source_dir,
                                 const std::vector<const rocks::DbFiles*>& dbs);

// Refuses (MaterializeError) an output that lies inside the snapshot directory, contains it or
// one of its files, is not a directory, or is a non-empty directory - replaced only with
// `replace` and only when it holds a RocksDB database (a CURRENT file), never other data.
void check_materialize_output(const MaterializePlan& plan, const std::filesystem::path& out, bool replace);

struct MaterializeResult {
  rocks::PlaceStats placed;
  std::vector<std::string> column_families;  // empty with check=false
  std::vector<std::string> notes;            // options assumed when opening (rocks/flink_options.h)
};

// Writes the database to `out` (see the header comment). `copy`: copy table files too instead of
// hard-linking them. `check`: open the result with RocksDB before publishing it (a failure is a
// MaterializeCheckFailed and nothing is published). Throws MaterializeError, io::IoError.
MaterializeResult write_materialized(const MaterializePlan& plan, const std::filesystem::path& out, bool replace,
                                     bool copy, bool check = true);

}  // namespace ckpt::ops
