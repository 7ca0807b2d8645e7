#include "snapshot/reference_graph.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "flink/metadata_reader.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"

namespace fs = std::filesystem;

namespace ckpt::snapshot {
namespace {

bool has_dotdot(std::string_view p) {
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (p.substr(i, j - i) == "..") return true;
    i = j + 1;
  }
  return false;
}

struct ParsedRef {
  uint32_t offset = 0, length = 0;  // the local path in Parsed::paths
  int64_t end = -1;
  bool segment = false;
};

struct Parsed {
  GraphSnapshot snap;
  std::string paths;  // every handle's local path back to back: one buffer, not a string per handle
  std::vector<ParsedRef> refs;
  std::string_view path(const ParsedRef& r) const { return std::string_view(paths).substr(r.offset, r.length); }
};

Parsed parse_one(const Location& loc, const GraphSource& src, const fs::path& scan_root,
                 const std::vector<PathMapping>& mappings) {
  Parsed out;
  GraphSnapshot& s = out.snap;
  s.loc = loc;
  s.scan_root = scan_root;
  s.protected_origin = src.protected_origin;
  s.savepoint = loc.dir_kind == DirKind::kSavepoint;
  struct stat st {};
  if (::lstat(loc.metadata.c_str(), &st) == 0) {
    s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    s.metadata_bytes = st.st_size;
    s.metadata_dev = st.st_dev;
    s.metadata_ino = st.st_ino;
  }
  try {
    flink::Metadata md = flink::read_metadata_file(loc.metadata);
    s.readable = true;
    s.checkpoint_id = md.checkpoint_id;
    if (md.trailer_state == flink::TrailerState::kParsed &&
        md.properties.kind == flink::CheckpointProperties::Kind::kSavepoint) {
      s.savepoint = true;
    }
    visit_file_refs(md, loc.directory, mappings, [&](FileRefView& f) {
      if (f.kind == ResolvedPath::Kind::kRemoteUnmapped) {
        s.problems.push_back({RefProblem::kRemoteUnmapped, std::move(f.path)});
        return;
      }
      bool inside = is_within_str(f.local, scan_root.native());
      if (!inside && (f.form == PathForm::kRelative || has_dotdot(f.path))) {
        s.problems.push_back({RefProblem::kEscapesRoot, std::move(f.path)});
        return;
      }
      ParsedRef r;
      r.offset = static_cast<uint32_t>(out.paths.size());
      r.length = static_cast<uint32_t>(f.local.size());
      out.paths += f.local;  // lexically normal (paths.h)
      r.segment = f.form == PathForm::kSegment;
      r.end = f.size < 0 ? -1 : (r.segment ? f.segment_start + f.size : f.size);
      out.refs.push_back(std::move(r));
    });
  } catch (const std::exception& e) {
    s.readable = false;
    s.error = e.what();
  }
  return out;
}

}  // namespace

fs::path absolute_normal(const fs::path& p) {
  fs::path a = fs::absolute(p).lexically_normal();
  if (!a.has_filename() && a.has_relative_path()) a = a.parent_path();
  return a;
}

std::optional<fs::path> local_path_of(const std::string& user_path, const std::vector<PathMapping>& mappings) {
  if (user_path.find("://") != std::string::npos || user_path.starts_with("file:")) {
    ResolvedPath r = resolve_absolute(user_path, mappings);
    if (r.kind != ResolvedPath::Kind::kLocal) return std::nullopt;
    return absolute_normal(r.local);
  }
  return absolute_normal(user_path);
}

std::optional<uint32_t> ReferenceGraph::find(std::string_view p) const {
  auto it = index.find(p);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

ReferenceGraph build_reference_graph(const std::vector<GraphSource>& sources, const std::vector<PathMapping>& mappings,
                                     unsigned threads) {
  struct Job {
    Location loc;
    const GraphSource* src;
    fs::path scan_root;
  };
  std::vector<Job> jobs;
  std::unordered_map<std::string, size_t> seen;  // a --protect directory may lie inside the root
  for (const GraphSource& src : sources) {
    fs::path root = absolute_normal(src.root);
    Discovery d = discover(root);
    for (Location& loc : d.snapshots) {
      auto [it, fresh] = seen.try_emplace(loc.metadata.lexically_normal().native(), jobs.size());
      if (!fresh) {
        if (src.protected_origin) jobs[it->second].src = &src;
        continue;
      }
      jobs.push_back({std::move(loc), &src, root});
    }
  }

  ReferenceGraph g;
  g.snapshots.resize(jobs.size());
  std::mutex mu;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= jobs.size()) return;
      Parsed p = parse_one(jobs[i].loc, *jobs[i].src, jobs[i].scan_root, mappings);
      std::lock_guard<std::mutex> lock(mu);
      GraphSnapshot& s = g.snapshots[i];
      s = std::move(p.snap);
      for (const ParsedRef& r : p.refs) {
        const std::string_view path = p.path(r);
        auto it = g.index.find(path);
        if (it == g.index.end()) {
          it = g.index.emplace(std::string(path), static_cast<uint32_t>(g.files.size())).first;
          GraphFile f;
          f.path = it->first;
          g.files.push_back(std::move(f));
        }
        GraphFile& f = g.files[it->second];
        f.handles++;
        f.segment = f.segment || r.segment;
        f.recorded_size = std::max(f.recorded_size, r.end);
        s.files.push_back(it->second);
      }
      std::sort(s.files.begin(), s.files.end());
      s.files.erase(std::unique(s.files.begin(), s.files.end()), s.files.end());
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(jobs.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  for (uint32_t si = 0; si < g.snapshots.size(); ++si) {
    for (uint32_t fi : g.snapshots[si].files) g.files[fi].users.push_back(si);
  }
  return g;
}

}  // namespace ckpt::snapshot
