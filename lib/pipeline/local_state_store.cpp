#include "pipeline/local_state_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <vector>

#include "flink/key_groups.h"
#include "flink/operator_id.h"
#include "io/mutf8.h"
#include "pipeline/tasks.h"
#include "rocks/db_files.h"
#include "snapshot/layout.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLocalStateDir = "localState";  // Flink's LOCAL_STATE_SUB_DIRECTORY_ROOT
constexpr std::string_view kCheckpointPrefix = "chk_";

std::string allocation_id(int32_t slot) { return fmt::format("{:032x}", static_cast<uint32_t>(slot)); }

std::string without_dashes(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

// The configured roots, or the system temp directory.
std::vector<fs::path> roots_of(const LocalRecoveryConfig& config) {
  if (!config.roots.empty()) return config.roots;
  return {fs::temp_directory_path()};
}

std::string counter_vertex() { return flink::to_hex(flink::operator_id_from_uid(kCounterUid)); }

// The id N of a "chk_N" directory name, or -1.
int64_t checkpoint_of(const std::string& name) {
  if (name.rfind(kCheckpointPrefix, 0) != 0 || name.size() == kCheckpointPrefix.size()) return -1;
  int64_t id = 0;
  for (std::size_t i = kCheckpointPrefix.size(); i < name.size(); ++i) {
    char c = name[i];
    if (c < '0' || c > '9' || id > (INT64_MAX - 9) / 10) return -1;
    id = id * 10 + (c - '0');
  }
  return id;
}

// Why `dir` is not a copy of `db`'s files, or "" when it is (same names, same sizes).
std::string mismatch(const rocks::DbFiles& db, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fmt::format("{}: no local copy", dir.string());
  for (const auto& f : db.files) {
    fs::path p = dir / f.name;
    if (!fs::is_regular_file(p, ec)) return fmt::format("{}: missing", p.string());
    auto size = fs::file_size(p, ec);
    if (ec) return fmt::format("{}: {}", p.string(), ec.message());
    if (size != f.size) return fmt::format("{}: {} bytes, the checkpoint has {}", p.string(), size, f.size);
  }
  return {};
}

// The job that took the checkpoint in `dir` (<checkpoints dir>/<job id>/chk-N), else `fallback`.
std::string job_of(const fs::path& dir, const std::string& fallback) {
  std::string parent = dir.parent_path().filename().string();
  return snapshot::is_job_id(parent) ? parent : fallback;
}

}  // namespace

fs::path subtask_local_dir(const fs::path& root, const std::string& job_id, const std::string& vertex_hex,
                           int32_t subtask) {
  return root / kLocalStateDir / ("aid_" + allocation_id(subtask)) / ("jid_" + job_id) /
         fmt::format("vtx_{}_sti_{}", vertex_hex, subtask);
}

TaskLocalStateStore::TaskLocalStateStore(const LocalRecoveryConfig& config, std::string job_id, std::string vertex_hex,
                                         int32_t subtask) {
  std::vector<fs::path> roots = roots_of(config);
  dir_ = subtask_local_dir(roots[static_cast<std::size_t>(subtask) % roots.size()], job_id, vertex_hex, subtask);
}

fs::path TaskLocalStateStore::snapshot_dir(int64_t checkpoint_id, const std::string& backend_id) const {
  fs::path chk = dir_ / fmt::format("{}{}", kCheckpointPrefix, checkpoint_id);
  fs::create_directories(chk);
  fs::path out = chk / without_dashes(backend_id);
  fs::remove_all(out);
  return out;
}

void TaskLocalStateStore::confirm(int64_t checkpoint_id) {
  std::error_code ec;
  // Only a checkpoint with a local copy prunes: savepoints (which have none) are confirmed too.
  if (!fs::is_directory(dir_ / fmt::format("{}{}", kCheckpointPrefix, checkpoint_id), ec)) return;
  std::vector<fs::path> old;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    int64_t id = checkpoint_of(e.path().filename().string());
    if (id >= 0 && id < checkpoint_id) old.push_back(e.path());
  }
  for (const auto& p : old) fs::remove_all(p, ec);
}

LocalRecoveryConfig local_recovery_config(const PipelineConfig& config) {
  LocalRecoveryConfig out;
  out.enabled = config.local_recovery && config.backend == BackendKind::kRocksDB;
  for (const auto& r : config.local_root_dirs) out.roots.emplace_back(r);
  return out;
}

void discard_job_local_state(const LocalRecoveryConfig& config, const std::string& job_id) {
  std::error_code ec;
  for (const auto& root : roots_of(config)) {
    fs::path base = root / kLocalStateDir;
    std::vector<fs::path> slots;
    for (const auto& aid : fs::directory_iterator(base, ec)) slots.push_back(aid.path());
    for (const auto& aid : slots) {
      fs::remove_all(aid / ("jid_" + job_id), ec);
      if (fs::is_empty(aid, ec)) fs::remove(aid, ec);
    }
    if (fs::is_empty(base, ec)) fs::remove(base, ec);
  }
}

LocalRecoveryOutcome prefer_local_state(RestorePlan& plan, const LocalRecoveryConfig& config,
                                        const std::string& current_job_id) {
  LocalRecoveryOutcome out;
  const std::vector<fs::path> roots = roots_of(config);
  const std::string job = job_of(plan.snapshot.dir, current_job_id);
  const std::string vertex = counter_vertex();
  const auto parallelism = static_cast<int32_t>(plan.keyed.size());
  for (int32_t i = 0; i < parallelism; ++i) {
    KeyedRestore& k = plan.keyed[static_cast<std::size_t>(i)];
    if (k.counter_native.empty() && k.windows_native.empty()) continue;
    flink::KeyGroupRange want = flink::range_of_subtask(plan.max_parallelism, parallelism, i);
    std::string why;
    if (plan.snapshot.savepoint) why = "a savepoint has no local copy";
    else if (k.counter_native.size() > 1 || k.windows_native.size() > 1) why = "rescaled (several old subtasks)";
    std::vector<std::pair<NativePiece*, fs::path>> found;
    for (auto* list : {&k.counter_native, &k.windows_native}) {
      for (NativePiece& piece : *list) {
        if (!why.empty()) break;
        if (piece.range.start != want.start || piece.range.count != want.count) {
          why = "rescaled (key-group range changed)";
          break;
        }
        if (!piece.files.handle) {
          why = "no native handle";
          break;
        }
        std::string backend = without_dashes(io::mutf8_to_utf8(piece.files.handle->backend_id));
        // The backend id comes from the snapshot: as a directory name it must not leave the
        // subtask's local directory.
        if (!rocks::plain_local_name(backend)) {
          why = fmt::format("backend id \"{}\" is not a plain directory name", backend);
          break;
        }
        std::string first_problem;
        for (const auto& root : roots) {
          fs::path dir = subtask_local_dir(root, job, vertex, piece.files.subtask) /
                         fmt::format("{}{}", kCheckpointPrefix, plan.snapshot.id) / backend;
          std::string m = mismatch(piece.files, dir);
          if (m.empty()) {
            found.emplace_back(&piece, dir);
            first_problem.clear();
            break;
          }
          if (first_problem.empty()) first_problem = m;
        }
        if (!first_problem.empty()) why = first_problem;
      }
    }
    if (!why.empty()) {
      ++out.remote;
      out.fallbacks.push_back(fmt::format("subtask {}: {}", i, why));
      continue;
    }
    for (auto& [piece, dir] : found) piece->files = rocks::laid_out_at(piece->files, dir);
    ++out.local;
  }
  return out;
}

}  // namespace ckpt::pipeline
