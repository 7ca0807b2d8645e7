#include "ops/root_summary.h"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>
#include <unordered_set>

#include "snapshot/discovery.h"
#include "snapshot/layout.h"
#include "util/error.h"

namespace ckpt::ops {
namespace fs = std::filesystem;

namespace {

void add(JobSummary& to, const JobSummary& j) {
  to.checkpoints += j.checkpoints;
  to.savepoints += j.savepoints;
  to.incomplete += j.incomplete;
  to.files += j.files;
  to.total_bytes += j.total_bytes;
  to.shared_bytes += j.shared_bytes;
  to.exclusive_bytes += j.exclusive_bytes;
  to.orphaned_bytes += j.orphaned_bytes;
  to.other_bytes += j.other_bytes;
}

}  // namespace

RootSummary summarise(const snapshot::ReferenceGraph& graph, const std::vector<fs::path>& incomplete_dirs,
                      const FilesUnder& files_under) {
  std::unordered_set<std::string> used;  // absolute normal paths: referenced files and `_metadata`
  std::map<fs::path, JobSummary> jobs;   // unit directory -> its summary
  RootSummary out;
  for (const auto& s : graph.snapshots) {
    const fs::path unit = s.loc.job_dir.empty() ? s.loc.directory : s.loc.job_dir;
    JobSummary& j = jobs[unit];
    j.job_dir = unit;
    if (!s.readable) {
      out.unreadable.push_back(s.loc.metadata.string() + ": " + s.error);
      continue;
    }
    (s.savepoint ? j.savepoints : j.checkpoints) += 1;
    used.insert(s.loc.metadata.string());
    for (uint32_t id : s.files) used.insert(std::string(graph.files[id].path));
  }
  std::set<fs::path> incomplete;
  for (const auto& d : incomplete_dirs) {
    incomplete.insert(d);
    JobSummary& j = jobs[d.parent_path()];
    j.job_dir = d.parent_path();
    ++j.incomplete;
  }

  for (auto& [unit, j] : jobs) {
    for (const RootFile& f : files_under(unit)) {
      ++j.files;
      j.total_bytes += f.size;
      const fs::path rel = f.path.lexically_relative(unit);
      const std::string first = rel.begin() == rel.end() ? std::string() : rel.begin()->string();
      const bool referenced = used.contains(f.path.string());
      const bool state_dir = first == snapshot::kSharedDirName || first == snapshot::kTaskOwnedDirName;
      if (referenced) {
        (first == snapshot::kSharedDirName ? j.shared_bytes : j.exclusive_bytes) += f.size;
      } else if (state_dir || incomplete.contains(unit / first)) {
        j.orphaned_bytes += f.size;
      } else {
        j.other_bytes += f.size;
      }
    }
  }
  for (auto& [unit, j] : jobs) {
    add(out.total, j);
    out.jobs.push_back(std::move(j));
  }
  return out;
}

RootSummary summarise_root(const fs::path& root, const std::vector<snapshot::PathMapping>& mappings) {
  snapshot::ReferenceGraph graph = snapshot::build_reference_graph({{root, false}}, mappings);
  std::vector<fs::path> incomplete;
  for (const auto& dir : snapshot::discover(root).incomplete) incomplete.push_back(snapshot::absolute_normal(dir));
  return summarise(graph, incomplete, [](const fs::path& unit) {
    std::vector<RootFile> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(unit, fs::directory_options::none, ec), end;
    if (ec) throw util::Error(util::ErrorKind::kIo, unit.string() + ": cannot list: " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) throw util::Error(util::ErrorKind::kIo, unit.string() + ": cannot list: " + ec.message());
      if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
      files.push_back({snapshot::absolute_normal(it->path()), it->file_size(ec)});
    }
    return files;
  });
}

std::vector<FileUser> who_uses(const snapshot::ReferenceGraph& graph, const fs::path& file) {
  std::vector<FileUser> out;
  auto id = graph.find(file);
  if (!id) return out;
  for (uint32_t s : graph.files[*id].users) {
    const auto& snap = graph.snapshots[s];
    out.push_back({snap.loc.directory, snap.checkpoint_id, snap.savepoint});
  }
  std::sort(out.begin(), out.end(), [](const FileUser& a, const FileUser& b) {
    return a.checkpoint_id != b.checkpoint_id ? a.checkpoint_id > b.checkpoint_id : a.snapshot < b.snapshot;
  });
  return out;
}

}  // namespace ckpt::ops
