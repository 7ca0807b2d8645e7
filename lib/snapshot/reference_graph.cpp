#include "snapshot/reference_graph.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "flink/metadata_reader.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"
#include "util/saturating.h"

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

// How many handles ahead the merge prefetches index slots (twice this) and key bytes (this).
constexpr size_t kPrefetchAhead = 8;

struct ParsedRef {
  uint32_t offset = 0, length = 0;  // the local path in Parsed::paths
  uint64_t hash = 0;                // PathIndex::hash of it, computed outside the graph's lock
  int64_t end = -1;
  bool segment = false;
};

struct Parsed {
  GraphSnapshot snap;
  std::string paths;  // every handle's local path back to back: one buffer, not a string per handle
  std::vector<ParsedRef> refs;
  std::string_view path(const ParsedRef& r) const { return std::string_view(paths).substr(r.offset, r.length); }
};

// Fills `out`, which a worker reuses from one snapshot to the next: its buffers keep their
// capacity (a fresh 100 KB path buffer per snapshot cost page faults, not just copies).
void parse_one(const Location& loc, const GraphSource& src, const fs::path& scan_root,
               const std::vector<PathMapping>& mappings, const MetadataReader* read, Parsed& out) {
  out.snap = GraphSnapshot();
  out.paths.clear();
  out.refs.clear();
  GraphSnapshot& s = out.snap;
  s.loc = loc;
  s.scan_root = scan_root;
  s.protected_origin = src.protected_origin;
  s.savepoint = loc.dir_kind == DirKind::kSavepoint;
  struct stat st {};
  if (loc.in_object_store) {
    s.mtime_ns = loc.listed_mtime_ns;
    s.metadata_bytes = static_cast<int64_t>(loc.listed_bytes);
    s.metadata_dev = kObjectDev;
    s.metadata_ino = object_identity(loc.metadata.native());
  } else if (::lstat(loc.metadata.c_str(), &st) == 0) {
    s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    s.metadata_bytes = st.st_size;
    s.metadata_dev = st.st_dev;
    s.metadata_ino = st.st_ino;
  }
  try {
    flink::Metadata md = read ? (*read)(loc) : flink::read_metadata_file(loc.metadata);
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
      // f.local is absolute and lexically normal (paths.h), scan_root too (absolute_normal).
      bool inside = is_within_normal(f.local, scan_root.native());
      if (!inside && (f.form == PathForm::kRelative || has_dotdot(f.path))) {
        s.problems.push_back({RefProblem::kEscapesRoot, std::move(f.path)});
        return;
      }
      ParsedRef r;
      r.offset = static_cast<uint32_t>(out.paths.size());
      r.length = static_cast<uint32_t>(f.local.size());
      out.paths += f.local;  // lexically normal (paths.h)
      r.hash = PathIndex::hash(f.local);
      r.segment = f.form == PathForm::kSegment;
      r.end = f.size < 0 ? -1 : (r.segment ? util::sat_add(f.segment_start, f.size) : f.size);
      out.refs.push_back(std::move(r));
    });
  } catch (const std::exception& e) {
    s.readable = false;
    s.error = e.what();
  }
}

}  // namespace

fs::path absolute_normal(const fs::path& p) {
  fs::path a = fs::absolute(p).lexically_normal();
  if (!a.has_filename() && a.has_relative_path()) a = a.parent_path();
  return a;
}

std::optional<fs::path> local_path_of(const std::string& user_path, const std::vector<PathMapping>& mappings) {
  UserPath u = local_of_user_path(user_path, mappings);
  if (!u.ok()) return std::nullopt;
  return absolute_normal(u.local);
}

uint64_t object_identity(std::string_view path) {
  // FNV-1a, then splitmix's finaliser: stable within a run, which is all identity needs here.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : path) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h | 1;
}

namespace {

struct Job {
  Location loc;
  const GraphSource* src;
  fs::path scan_root;
};

ReferenceGraph build_graph(const std::vector<Job>& jobs, const std::vector<PathMapping>& mappings, unsigned threads,
                           const MetadataReader* read);

}  // namespace

ReferenceGraph build_reference_graph(std::vector<LocatedSnapshot> snaps, const std::vector<PathMapping>& mappings,
                                     const MetadataReader& read, unsigned threads) {
  static const GraphSource kept_source{{}, false};
  static const GraphSource protected_source{{}, true};
  std::vector<Job> jobs;
  std::unordered_map<std::string, size_t> seen;  // a --protect prefix may lie inside the root
  for (LocatedSnapshot& s : snaps) {
    const GraphSource* src = s.protected_origin ? &protected_source : &kept_source;
    auto [it, fresh] = seen.try_emplace(s.loc.metadata.native(), jobs.size());
    if (!fresh) {
      if (s.protected_origin) jobs[it->second].src = src;
      continue;
    }
    jobs.push_back({std::move(s.loc), src, std::move(s.scan_root)});
  }
  return build_graph(jobs, mappings, threads, &read);
}

ReferenceGraph build_reference_graph(const std::vector<GraphSource>& sources, const std::vector<PathMapping>& mappings,
                                     unsigned threads) {
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
  return build_graph(jobs, mappings, threads, nullptr);
}

namespace {

ReferenceGraph build_graph(const std::vector<Job>& jobs, const std::vector<PathMapping>& mappings, unsigned threads,
                           const MetadataReader* read) {
  ReferenceGraph g;
  g.snapshots.resize(jobs.size());
  std::mutex mu;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    Parsed p;
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= jobs.size()) return;
      parse_one(jobs[i].loc, *jobs[i].src, jobs[i].scan_root, mappings, read, p);
      GraphSnapshot& s = g.snapshots[i];
      s = std::move(p.snap);
      s.files.reserve(p.refs.size());
      std::unique_lock<std::mutex> lock(mu);
      const size_t n = p.refs.size();
      for (size_t k = 0; k < std::min<size_t>(n, 2 * kPrefetchAhead); ++k) g.index.prefetch_slot(p.refs[k].hash);
      for (size_t k = 0; k < std::min<size_t>(n, kPrefetchAhead); ++k) g.index.prefetch_key(p.refs[k].hash);
      for (size_t k = 0; k < n; ++k) {
        if (k + 2 * kPrefetchAhead < n) g.index.prefetch_slot(p.refs[k + 2 * kPrefetchAhead].hash);
        if (k + kPrefetchAhead < n) g.index.prefetch_key(p.refs[k + kPrefetchAhead].hash);
        const ParsedRef& r = p.refs[k];
        const std::string_view path = p.path(r);
        auto [id, fresh] = g.index.insert(path, r.hash);
        if (fresh) {
          GraphFile f;
          f.path = g.index.key(id);
          g.files.push_back(std::move(f));
        }
        GraphFile& f = g.files[id];
        f.handles++;
        f.segment = f.segment || r.segment;
        f.recorded_size = std::max(f.recorded_size, r.end);
        s.files.push_back(id);
      }
      lock.unlock();
      std::sort(s.files.begin(), s.files.end());
      s.files.erase(std::unique(s.files.begin(), s.files.end()), s.files.end());
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(jobs.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  // Counting sort of (file, snapshot) pairs: snapshots are visited in ascending order, so each
  // file's users come out ascending.
  std::vector<uint32_t> start(g.files.size() + 1, 0);
  for (const auto& s : g.snapshots) {
    for (uint32_t fi : s.files) start[fi + 1]++;
  }
  for (size_t f = 0; f < g.files.size(); ++f) start[f + 1] += start[f];
  g.user_lists.resize(start.back());
  std::vector<uint32_t> fill(start.begin(), start.end() - 1);
  for (uint32_t si = 0; si < g.snapshots.size(); ++si) {
    for (uint32_t fi : g.snapshots[si].files) g.user_lists[fill[fi]++] = si;
  }
  for (size_t f = 0; f < g.files.size(); ++f) {
    g.files[f].users = std::span<const uint32_t>(g.user_lists).subspan(start[f], start[f + 1] - start[f]);
  }
  return g;
}

}  // namespace

}  // namespace ckpt::snapshot
