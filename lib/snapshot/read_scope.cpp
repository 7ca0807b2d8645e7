#include "snapshot/read_scope.h"

namespace fs = std::filesystem;

namespace ckpt::snapshot {

fs::path snapshot_root(const Location& loc) {
  if (!loc.job_dir.empty()) {
    fs::path job = fs::absolute(loc.job_dir).lexically_normal();
    fs::path parent = job.parent_path();
    return parent.empty() || parent == parent.root_path() ? job : parent;
  }
  return fs::absolute(loc.directory).lexically_normal();
}

io::ReadScope read_scope(const Location& loc, const std::vector<PathMapping>& mappings,
                         const std::vector<fs::path>& allow_outside) {
  io::ReadScope scope;
  scope.allow(snapshot_root(loc));
  for (const auto& m : mappings) scope.allow(m.local_dir);
  for (const auto& d : allow_outside) scope.allow(d);
  return scope;
}

}  // namespace ckpt::snapshot
