#include "ops/compact.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "flink/builder.h"
#include "flink/handles.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/checksum.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "io/mutf8.h"
#include "ops/materialize.h"
#include "rocks/compact_db.h"
#include "rocks/flink_options.h"
#include "rocks/place_db.h"
#include "snapshot/read_scope.h"
#include "snapshot/reference_graph.h"
#include "util/error.h"
#include "util/parallel.h"
#include "util/saturating.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

// The incremental handle of `md` at the position `db` was planned from.
flink::IncrementalHandle& handle_at(flink::Metadata& md, const rocks::DbFiles& db) {
  for (auto& s : md.operators.at(static_cast<std::size_t>(db.operator_index)).subtasks) {
    if (s.index == db.subtask && !s.finished) return std::get<flink::IncrementalHandle>(s.managed_keyed.body);
  }
  throw util::Error(util::ErrorKind::kInternal, "compact: planned subtask vanished from the model");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

CompactPlan plan_compact(const flink::Metadata& md, const snapshot::Location& loc,
                         const std::vector<snapshot::PathMapping>& mappings,
                         const std::vector<fs::path>& allow_outside) {
  CompactPlan plan;
  plan.md = md;
  plan.location = loc;
  plan.mappings = mappings;
  plan.allow_outside = allow_outside;
  const int nested = rocks::nested_incremental_count(md);
  std::vector<std::string> problems, outside;
  for (auto& db :
       rocks::db_files_of(plan.md, loc.directory, mappings, snapshot::read_scope(loc, mappings, allow_outside))) {
    for (const auto& p : db.problems) problems.push_back(db.where + ": " + p);
    outside.insert(outside.end(), db.outside.begin(), db.outside.end());
    if (!db.ok()) continue;
    const flink::OperatorState& op = plan.md.operators[static_cast<std::size_t>(db.operator_index)];
    CompactSubtaskPlan sp;
    sp.operator_id = flink::to_hex(op.id);
    sp.operator_uid = io::mutf8_to_utf8(op.uid);
    for (const auto& f : db.files) sp.sst_before += rocks::is_sst(f.name) ? 1 : 0;
    plan.files_before += static_cast<int>(db.files.size());
    util::sat_accumulate(plan.bytes_before, db.bytes);
    sp.db = std::move(db);
    plan.subtasks.push_back(std::move(sp));
  }
  if (!outside.empty()) throw io::outside_error(std::move(outside));  // one line, before any other reason
  if (plan.subtasks.empty() && problems.empty()) {
    throw CompactRefused(fmt::format(
        "{}: nothing to compact: no RocksDB incremental or native handles (keyed tags 5, 11){}", loc.metadata.string(),
        nested ? fmt::format("; {} sit inside changelog handles, which only Flink can replay", nested) : ""));
  }
  if (!problems.empty()) throw CompactRefused(refusal_message(loc.metadata.string() + ": cannot compact", problems));
  if (nested) {
    plan.notes.push_back(
        fmt::format("{} RocksDB handles inside changelog handles are carried over uncompacted", nested));
  }

  // What is carried over: the snapshot without the compacted databases' files, planned (and
  // checked) exactly as convert --self-contained plans it.
  flink::Metadata carried = plan.md;
  for (const auto& sp : plan.subtasks) {
    flink::IncrementalHandle& h = handle_at(carried, sp.db);
    h.shared.clear();
    h.private_files.clear();
  }
  try {
    SelfContainedPlan sc = plan_self_contained(carried, loc, SelfContainOptions{mappings, allow_outside});
    plan.carried_files = static_cast<int>(sc.files.size());
    plan.carried_bytes = sc.total_bytes;
  } catch (const ConvertError& e) {
    throw CompactRefused(e.what());
  }
  return plan;
}

void check_compact_output(const CompactPlan& plan, const fs::path& out, bool replace) {
  std::vector<const rocks::DbFiles*> dbs;
  for (const auto& sp : plan.subtasks) dbs.push_back(&sp.db);
  try {
    check_output_outside_inputs(out, plan.location.directory, dbs);
  } catch (const io::IoError& e) {
    throw CompactRefused(e.what());
  }
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(out, ec))) return;
  if (!replace) throw CompactRefused(out.string() + ": already exists (use --force to replace it)");
  if (!fs::is_regular_file(fs::symlink_status(out / "_metadata", ec))) {
    throw CompactRefused(out.string() +
                         ": exists and is not a snapshot directory (no _metadata); not replaced even with --force");
  }
}

namespace {

// One subtask through materialize -> compact -> verify, in its own directory under `work`.
// Returns the exported database's files (in `dir`/export) with the verified entry counts.
CompactedSubtask compact_one(const CompactSubtaskPlan& sp, const fs::path& dir, bool copy, rocks::CompactDbResult& cr) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path before = dir / "before", db = dir / "db", exported = dir / "export";
  fs::create_directories(before);
  fs::create_directory(db);
  rocks::place_db_files(sp.db, before, !copy);
  rocks::place_db_files(rocks::laid_out_at(sp.db, before), db, /*link_ssts=*/true);
  rocks::DbComparison cmp;
  try {
    cr = rocks::compact_db(db, exported);
    cmp = rocks::compare_dbs(before, exported);
  } catch (const rocks::RocksError& e) {
    throw CompactRefused(sp.db.where + ": " + e.what());
  }
  if (!cmp.equal) {
    throw CompactMismatch(fmt::format("{}: the compacted database differs from the original: {}; nothing written",
                                      sp.db.where, cmp.difference));
  }
  io::remove_quietly(before);
  io::remove_quietly(db);
  CompactedSubtask cs;
  cs.column_families = std::move(cmp.column_families);
  cs.files_after = static_cast<int>(cr.files.size());
  cs.sst_after = cr.sst_files;
  cs.bytes_after = cr.bytes;
  cs.seconds = seconds_since(t0);
  return cs;
}

}  // namespace

CompactResult run_compact(const CompactPlan& plan, const fs::path& out, const CompactRunOptions& options) {
  check_compact_output(plan, out, options.replace);
  CompactResult result;
  // Normal as well as absolute: `-o comp` gives "./.comp.<hex>.tmp", and a "/./" in the work
  // paths would no longer match the planned paths they are compared with.
  const fs::path work = snapshot::absolute_normal(io::make_temp_dir_beside(out));
  try {
    // Phase 1, in parallel: every database compacted and verified in its own directory.
    const std::size_t n = plan.subtasks.size();
    result.subtasks.resize(n);
    std::vector<rocks::CompactDbResult> exports(n);
    std::mutex progress_mutex;
    std::size_t started = 0;
    util::parallel_for(n, util::worker_count(options.threads, n), [&](std::size_t i) {
      if (options.progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(fmt::format("compacting {} ({}/{})", plan.subtasks[i].db.where, ++started, n));
      }
      result.subtasks[i] = compact_one(plan.subtasks[i], work / std::to_string(i), options.copy, exports[i]);
      result.subtasks[i].plan_index = static_cast<int>(i);
    });

    // Phase 2, in plan order (so names and ids are deterministic): the new handles, pointing at
    // the exported files under fresh names.
    flink::Metadata md = plan.md;
    flink::Builder b(md);
    std::mt19937_64 rng(io::xxh64(flink::write_metadata(plan.md)) ^ 0x636f6d70616374ull);
    fs::create_directory(work / "files");
    std::vector<std::string> work_files;  // what the new handles must resolve to
    std::set<std::string> notes;
    for (std::size_t i = 0; i < n; ++i) {
      const rocks::CompactDbResult& cr = exports[i];
      CompactedSubtask& cs = result.subtasks[i];
      notes.insert(cr.notes.begin(), cr.notes.end());
      std::vector<flink::NamedStream> shared, private_files;
      for (const auto& f : cr.files) {
        fs::path target = work / "files" / flink::random_uuid(rng);
        // Our own export (in the work directory beside the output): no snapshot path involved.
        io::link_or_copy(io::ReadScope::unconfined(), work / std::to_string(i) / "export" / f.name, target, true);
        work_files.push_back(target.string());
        auto& list = rocks::is_sst(f.name) ? shared : private_files;
        list.push_back(b.named(f.name, b.file("file:" + target.string(), static_cast<int64_t>(f.size))));
        cs.files.push_back(CompactedFile{.name = f.name, .output_name = target.string(), .size = f.size});
      }
      flink::IncrementalHandle& h = handle_at(md, plan.subtasks[i].db);
      h.shared = std::move(shared);
      h.private_files = std::move(private_files);
      // A full (native) snapshot: everything in it is newly persisted (spec §6.2).
      h.checkpointed_size = flink::add_sizes(flink::stream_size(h.meta), static_cast<int64_t>(cr.bytes));
      if (!h.handle_id.empty()) h.handle_id = b.str(flink::random_uuid(rng));
    }
    result.notes.assign(notes.begin(), notes.end());

    // Phase 3: the self-contained directory, as convert --self-contained writes it.
    try {
      // The new handles name files in the work directory: read from there too.
      std::vector<fs::path> allowed = plan.allow_outside;
      allowed.push_back(work / "files");
      result.written = plan_self_contained(md, plan.location, SelfContainOptions{plan.mappings, allowed});
    } catch (const ConvertError& e) {
      throw CompactRefused(e.what());
    }
    std::unordered_map<std::string, std::string> out_name;  // work file -> name in the output
    for (const auto& f : result.written.files) out_name[f.source.string()] = f.name;
    for (const auto& w : work_files) {
      // A --map prefix must not capture the work files' own paths.
      if (!out_name.count(w))
        throw CompactRefused(w + ": a --map prefix matches the work directory; choose another output");
    }
    for (auto& cs : result.subtasks) {
      for (auto& f : cs.files) f.output_name = out_name[f.output_name];
    }
    if (options.progress) options.progress(fmt::format("writing {}", out.string()));
    try {
      result.stats = write_self_contained(result.written, out, options.replace, options.copy);
    } catch (const ConvertError& e) {
      throw CompactRefused(e.what());
    }
  } catch (...) {
    io::remove_quietly(work);
    throw;
  }
  io::remove_quietly(work);
  return result;
}

}  // namespace ckpt::ops
