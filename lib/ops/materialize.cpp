#include "ops/materialize.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "flink/operator_id.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "io/mutf8.h"
#include "ops/convert.h"
#include "rocks/flink_db.h"
#include "rocks/flink_options.h"
#include "snapshot/read_scope.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

std::string operator_list(const flink::Metadata& md) {
  std::string s;
  for (std::size_t i = 0; i < md.operators.size() && i < 20; ++i) {
    std::string uid = io::mutf8_to_utf8(md.operators[i].uid);
    s += fmt::format("{}{}{}", i ? ", " : "", flink::to_hex(md.operators[i].id),
                     uid.empty() ? "" : " (uid " + uid + ")");
  }
  if (md.operators.size() > 20) s += fmt::format(", ... ({} operators)", md.operators.size());
  return s.empty() ? "none" : s;
}

// Why a keyed handle of tag `tag` is not one RocksDB database.
std::string not_a_database(int8_t tag) {
  namespace kt = flink::keyed_tag;
  switch (tag) {
    case kt::kSavepointKeyGroups:
      return "a canonical savepoint (keyed tag 7): one key-grouped stream in Flink's own format, written the same "
             "way by every state backend, not RocksDB files; take a native savepoint or a checkpoint of a RocksDB "
             "job to get a database";
    case kt::kKeyGroupsV2:
    case kt::kKeyGroups:
      return fmt::format(
          "a key-grouped full snapshot (keyed tag {}): heap (HashMap) backend state, or a RocksDB full checkpoint "
          "of Flink <= 1.15, in Flink's own stream format, not RocksDB files; RocksDB databases are in incremental "
          "checkpoints and native savepoints (tag 11)",
          tag);
    case kt::kChangelogV1:
    case kt::kChangelogV2:
      return fmt::format(
          "a changelog backend handle (keyed tag {}): a materialized base plus a log of the changes since, which "
          "only Flink can replay; the base alone is not the subtask's state",
          tag);
    default:
      return fmt::format("keyed tag {}, which holds no RocksDB database", tag);
  }
}

}  // namespace

std::string refusal_message(const std::string& head, const std::vector<std::string>& reasons) {
  std::string out = head + ":";
  if (reasons.size() == 1) return out + " " + reasons.front();
  for (const auto& r : reasons) out += "\n  - " + r;
  return out;
}

const flink::OperatorState& select_operator(const flink::Metadata& md, const OperatorSelector& sel) {
  std::optional<flink::OperatorId> id;
  std::string what;
  if (sel.uid) {
    id = flink::operator_id_from_uid(*sel.uid);
    what = fmt::format("uid \"{}\" (operator id {})", *sel.uid, flink::to_hex(*id));
  } else if (sel.operator_id) {
    id = flink::parse_operator_id(*sel.operator_id);
    if (!id) throw MaterializeError(fmt::format("--operator {}: expected 32 hex digits", *sel.operator_id));
    what = "operator id " + flink::to_hex(*id);
  } else {
    throw MaterializeError("name the operator with --uid NAME or --operator ID");
  }
  for (const auto& op : md.operators) {
    if (op.id == *id || (sel.uid && flink::uid_names(op, *sel.uid))) return op;
  }
  throw MaterializeError(fmt::format("no operator with {}; operators: {}", what, operator_list(md)));
}

MaterializePlan plan_materialize(const flink::Metadata& md, const snapshot::Location& loc, const OperatorSelector& sel,
                                 int32_t subtask, const std::vector<snapshot::PathMapping>& mappings,
                                 const std::vector<fs::path>& allow_outside) {
  const flink::OperatorState& op = select_operator(md, sel);
  const std::string label = rocks::subtask_label(op, subtask);
  if (subtask < 0 || subtask >= op.parallelism) {
    throw MaterializeError(fmt::format("{}: no such subtask (parallelism {})", label, op.parallelism));
  }
  auto st = std::find_if(op.subtasks.begin(), op.subtasks.end(), [&](const auto& s) { return s.index == subtask; });
  if (op.fully_finished() || (st != op.subtasks.end() && st->finished)) {
    throw MaterializeError(label + ": finished (no state)");
  }
  if (st == op.subtasks.end() || st->managed_keyed.is_null()) {
    throw MaterializeError(label + ": has no keyed state (only operator or channel state, or nothing)");
  }
  if (!std::holds_alternative<flink::IncrementalHandle>(st->managed_keyed.body)) {
    throw MaterializeError(
        fmt::format("{}: cannot be materialized: its keyed state is {}", label, not_a_database(st->managed_keyed.tag)));
  }
  MaterializePlan plan;
  for (auto& db : rocks::db_files_of(md, loc.directory, mappings, snapshot::read_scope(loc, mappings, allow_outside))) {
    if (db.handle == &std::get<flink::IncrementalHandle>(st->managed_keyed.body)) plan.db = std::move(db);
  }
  if (!plan.db.outside.empty()) throw io::outside_error(plan.db.outside);  // one line, exit 2
  if (!plan.db.ok()) throw MaterializeError(refusal_message(label + ": cannot be materialized", plan.db.problems));
  const flink::IncrementalHandle& h = *plan.db.handle;
  plan.operator_id = flink::to_hex(op.id);
  plan.operator_uid = io::mutf8_to_utf8(op.uid);
  plan.tag = st->managed_keyed.tag;
  plan.checkpoint_id = h.checkpoint_id;
  plan.backend_id = io::mutf8_to_utf8(h.backend_id);
  plan.range = h.range;
  plan.source_dir = loc.directory;
  return plan;
}

void check_output_outside_inputs(const fs::path& out, const fs::path& source_dir,
                                 const std::vector<const rocks::DbFiles*>& dbs) {
  SelfContainedPlan sources;
  sources.source_dir = source_dir;
  for (const auto* db : dbs) {
    for (const auto& f : db->files) {
      if (f.source == rocks::FileSource::kInline) continue;
      PlannedFile pf;
      pf.source = f.path;
      sources.files.push_back(std::move(pf));
    }
  }
  check_output_location(sources, out);
}

void check_materialize_output(const MaterializePlan& plan, const fs::path& out, bool replace) {
  try {
    check_output_outside_inputs(out, plan.source_dir, {&plan.db});
  } catch (const io::IoError& e) {
    throw MaterializeError(e.what());
  }
  struct stat st {};
  if (::lstat(out.c_str(), &st) != 0) return;  // absent: fine
  if (!S_ISDIR(st.st_mode)) throw MaterializeError(out.string() + ": exists and is not a directory");
  std::error_code ec;
  if (fs::is_empty(out, ec)) return;
  if (!replace) throw MaterializeError(out.string() + ": is not empty (use --force to replace an earlier database)");
  struct stat cur {};
  if (::lstat((out / "CURRENT").c_str(), &cur) != 0 || !S_ISREG(cur.st_mode)) {
    throw MaterializeError(out.string() +
                           ": is not empty and holds no RocksDB database (no CURRENT); not replaced even with --force");
  }
}

MaterializeResult write_materialized(const MaterializePlan& plan, const fs::path& out, bool replace, bool copy,
                                     bool check) {
  check_materialize_output(plan, out, replace);
  MaterializeResult r;
  fs::path tmp = io::make_temp_dir_beside(out);
  try {
    r.placed = rocks::place_db_files(plan.db, tmp, !copy);
    if (check) {
      try {
        rocks::OpenDb db(tmp, rocks::OpenDb::Mode::kReadOnly);
        for (auto* h : db.handles()) r.column_families.push_back(h->GetName());
        r.notes = db.options().notes;
      } catch (const rocks::RocksError& e) {
        throw MaterializeCheckFailed(
            fmt::format("{}: the files do not form a database RocksDB opens ({}); nothing written "
                        "(--no-check writes them anyway)",
                        plan.db.where, e.what()));
      }
    }
    // An existing (empty, or with `replace` an earlier database) directory is swapped out.
    io::publish_directory(tmp, out, fs::exists(fs::symlink_status(out)));
  } catch (...) {
    io::remove_quietly(tmp);
    throw;
  }
  return r;
}

}  // namespace ckpt::ops
