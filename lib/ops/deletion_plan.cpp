#include "ops/deletion_plan.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "flink/metadata_reader.h"
#include "flink/operator_id.h"
#include "io/decode_error.h"
#include "io/mutf8.h"
#include "snapshot/job_lock.h"
#include "snapshot/layout.h"
#include "util/error.h"
#include "util/parallel.h"
#include "util/saturating.h"
#include "util/time_format.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

using snapshot::GraphSnapshot;
using snapshot::ReferenceGraph;

constexpr int kGatherRetries = 3;  // re-reads of a root whose refusals may be a live job's doing

struct Identity {
  uint64_t dev, ino;
  bool operator<(const Identity& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
};

// Whether `s` owns a directory prune may empty: a chk-N of a job, or a savepoint directory, never
// the root itself and never a single-file savepoint's parent.
bool owns_directory(const GraphSnapshot& s, const fs::path& root) {
  if (s.loc.metadata.filename() != snapshot::kMetadataFileName) return false;
  fs::path dir = s.loc.directory.lexically_normal();
  if (dir == root || !snapshot::is_within(dir, root)) return false;
  if (s.loc.dir_kind == snapshot::DirKind::kCheckpoint && !s.savepoint) return true;
  return s.savepoint;
}

// Components below "/" of an absolute, normal path: orders directories deepest first.
size_t depth(std::string_view p) { return static_cast<size_t>(std::count(p.begin(), p.end(), '/')); }

// Flink's layout below a job directory: the last directory component of `p` that is `shared`,
// `taskowned` or `chk-N` splits it into the job directory and the rest ("shared/<name>").
std::optional<std::pair<std::string_view, std::string_view>> split_at_job(std::string_view p) {
  size_t end = p.rfind('/');  // the file name itself never splits
  while (end != std::string_view::npos && end > 0) {
    size_t start = p.rfind('/', end - 1);
    if (start == std::string_view::npos) break;
    std::string_view comp = p.substr(start + 1, end - start - 1);
    if (comp == snapshot::kSharedDirName || comp == snapshot::kTaskOwnedDirName || snapshot::checkpoint_number(comp)) {
      if (start == 0) break;
      return std::pair{p.substr(0, start), p.substr(start + 1)};
    }
    end = start;
  }
  return std::nullopt;
}

class LocalFs final : public PlanFs {
 public:
  std::optional<FsEntry> lstat(const std::string& path) const override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    return entry(path, st);
  }
  std::optional<FsEntry> stat(const std::string& path) const override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return entry(path, st);
  }
  Tree list_tree(const fs::path& dir) const override { return ops::list_tree(dir); }
  bool directories() const override { return true; }

 private:
  static FsEntry entry(const std::string& path, const struct stat& st) {
    FsEntry e;
    e.path = path;
    e.type = S_ISREG(st.st_mode)   ? FsEntry::Type::kFile
             : S_ISDIR(st.st_mode) ? FsEntry::Type::kDir
             : S_ISLNK(st.st_mode) ? FsEntry::Type::kSymlink
                                   : FsEntry::Type::kOther;
    e.size = st.st_size;
    e.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    e.dev = st.st_dev;
    e.ino = st.st_ino;
    return e;
  }
};

bool regular_file(const PlanFs& pfs, const std::string& path, FsEntry& st) {
  auto e = pfs.lstat(path);
  if (!e || e->type != FsEntry::Type::kFile) return false;
  st = std::move(*e);
  return true;
}

// Moved or copied directories (see deletion_plan.h). A pair (old job directory, new job directory) is
// believed only when a file that a kept checkpoint references under the old one exists under the
// new one by the same layout; it becomes a prefix at the checkpoints directory when the job
// directory kept its name (a moved state.checkpoints.dir), else at the job directory. Every kept
// reference under a moved prefix has its file at the new place handed to `protect`.
std::vector<MovedPrefix> find_moved_prefixes(const PlanFs& pfs, const ReferenceGraph& g,
                                             const std::vector<char>& kept_ref,
                                             const std::function<void(const FsEntry&)>& protect) {
  std::vector<std::string> job_of(g.snapshots.size());
  for (size_t i = 0; i < g.snapshots.size(); ++i) {
    const GraphSnapshot& s = g.snapshots[i];
    if (s.loc.dir_kind == snapshot::DirKind::kCheckpoint && !s.loc.job_dir.empty()) {
      job_of[i] = s.loc.job_dir.lexically_normal().native();
    }
  }
  std::set<std::pair<std::string, std::string>> pairs;
  FsEntry st;
  for (size_t f = 0; f < g.files.size(); ++f) {
    if (!kept_ref[f]) continue;
    const std::string_view p = g.files[f].path;
    const std::string* job = nullptr;
    for (uint32_t u : g.files[f].users) {
      if (!job_of[u].empty()) {
        job = &job_of[u];
        break;
      }
    }
    if (!job || snapshot::is_within_normal(p, *job)) continue;
    auto split = split_at_job(p);
    if (!split) continue;
    std::pair<std::string, std::string> pair{std::string(split->first), *job};
    if (pairs.count(pair)) continue;
    // The same name and at least the recorded size: a copy of the file, not a namesake.
    if (regular_file(pfs, *job + "/" + std::string(split->second), st) && st.size >= g.files[f].recorded_size) {
      pairs.insert(std::move(pair));
    }
  }
  std::vector<MovedPrefix> moved;
  for (const auto& [from, to] : pairs) {
    MovedPrefix m{from, to};
    const fs::path a(from), b(to);
    if (a.filename() == b.filename() && a.parent_path() != a.root_path() && b.parent_path() != b.root_path()) {
      m = {a.parent_path().native(), b.parent_path().native()};
    }
    bool dup = false;
    for (const auto& x : moved) dup = dup || (x.from == m.from && x.to == m.to);
    if (!dup) moved.push_back(std::move(m));
  }
  if (moved.empty()) return moved;
  std::string mapped;
  for (size_t f = 0; f < g.files.size(); ++f) {
    if (!kept_ref[f]) continue;
    const std::string_view p = g.files[f].path;
    for (auto& m : moved) {
      if (!snapshot::is_within_normal(p, m.from) || p.size() == m.from.size()) continue;
      mapped = m.to;
      mapped.append(p.substr(m.from.size()));
      if (!regular_file(pfs, mapped, st)) continue;
      protect(st);
      ++m.files;
      if (!pfs.lstat(std::string(p))) ++m.missing;
    }
  }
  std::erase_if(moved, [](const MovedPrefix& m) { return m.files == 0; });
  return moved;
}

// One entry that could be deleted, before its verdict.
struct PlanCandidate {
  const FsEntry* entry = nullptr;
  int64_t file_id = -1;
  FsEntry* movable = nullptr;  // the plan's own listing (pruned trees): moved into its deletion, not copied
};

// The state of one make_plan call, one method per step of the plan (the numbered sections below).
// Each step reads what the steps before it left in these members.
struct PlanningPass {
  PlanningPass(const ReferenceGraph& graph, const Inventory& inventory, Decisions decided, const PlanOptions& opts)
      : g(graph),
        inv(inventory),
        options(opts),
        root(inventory.root),
        pfs(opts.fs ? *opts.fs : local_fs()),
        cutoff(opts.now_ns - opts.grace_ns),
        nfiles(graph.files.size()) {
    plan.root = inv.root;
    plan.warnings = std::move(decided.warnings);
    decisions = std::move(decided.snapshots);
  }

  Plan run() {
    decide_snapshots();
    mark_kept_references();
    gather_candidates();
    check_kept_references();
    plan_metadata_deletions();
    plan_pruned_trees();
    plan_incomplete_trees();
    plan_pools();
    order_and_total();
    return std::move(plan);
  }

  const ReferenceGraph& g;
  const Inventory& inv;
  const PlanOptions& options;
  const fs::path& root;
  const PlanFs& pfs;
  const int64_t cutoff;
  const size_t nfiles;

  Plan plan;
  std::vector<SnapshotDecision> decisions;
  std::vector<Tree> pruned_trees;
  std::set<std::string> unreadable_jobs;
  std::vector<char> kept_ref;
  std::vector<char> seen;
  std::vector<Tree> extra_incomplete;         // journaled directories that are not chk-N (savepoints)
  std::map<std::string, uint64_t> journaled;  // directory -> inode when journaled
  std::vector<const Tree*> incomplete;
  std::vector<std::vector<PlanCandidate>> tree_cands, inc_cands, pool_cands;
  std::set<Identity> protected_ids;
  std::map<uint32_t, MissingFile> missing;
  std::vector<int8_t> still_there;
  std::unordered_set<std::string> missing_names;
  size_t phase2_begin = 0;
  std::vector<FsEntry> phase3;
  static constexpr uint32_t kNoIndex = UINT32_MAX;
  std::vector<uint32_t> metadata_index;  // snapshot -> phase-1 index

  // --- 1. Final decisions: forced keeps, and the directory listing of every pruned snapshot.
  void decide_snapshots() {
    pruned_trees.resize(decisions.size());
    for (auto& d : decisions) {
      const GraphSnapshot& s = g.snapshots[d.snapshot];
      if (s.protected_origin) d.rules |= keep_rule::kProtected;
      if (!s.readable) {
        d.rules |= keep_rule::kUnreadable;
        fs::path job = s.loc.dir_kind == snapshot::DirKind::kCheckpoint ? s.loc.job_dir : s.loc.directory;
        unreadable_jobs.insert(job.lexically_normal().native());
      }
      if (!d.keep && s.mtime_ns > cutoff) d.rules |= keep_rule::kGrace;
      if (!d.keep && !owns_directory(s, root)) d.rules |= keep_rule::kUnmanaged;
      if (d.rules & (keep_rule::kProtected | keep_rule::kUnreadable | keep_rule::kGrace | keep_rule::kUnmanaged)) {
        d.keep = true;
      }
    }
    keep_newer();
    list_pruned_trees();
    keep_newer();
    for (auto& d : decisions) {
      if (d.keep) pruned_trees[d.snapshot] = Tree();
    }
    for (auto& d : decisions) {
      if (!d.keep) d.rules = 0;
    }
  }

  // Never prune a checkpoint while a lower-id checkpoint of its job stays, whichever rule keeps
  // that one (the policy's own kNewer covers the policy; this covers grace, unsafe directories...).
  void keep_newer() {
    std::vector<IdRanked> ranked;
    std::vector<SnapshotDecision*> decision_of;
    for (auto& d : decisions) {
      const GraphSnapshot& s = g.snapshots[d.snapshot];
      if (!s.readable || s.savepoint || s.loc.dir_kind != snapshot::DirKind::kCheckpoint) continue;
      ranked.push_back({d.group, s.checkpoint_id, d.keep});
      decision_of.push_back(&d);
    }
    for (size_t k : newer_than_kept(ranked)) {
      decision_of[k]->keep = true;
      decision_of[k]->rules |= keep_rule::kNewer;
    }
  }

  // A pruned snapshot whose directory cannot be listed completely, or holds a nested snapshot, is
  // kept instead.
  void list_pruned_trees() {
    // Listing the pruned directories is most of a plan's system time (an lstat per file): spread
    // over the threads, one directory per item.
    std::vector<uint32_t> to_list;
    for (const auto& d : decisions) {
      if (!d.keep) to_list.push_back(d.snapshot);
    }
    util::parallel_for(to_list.size(), options.threads, [&](size_t i) {
      const uint32_t si = to_list[i];
      pruned_trees[si] = pfs.list_tree(g.snapshots[si].loc.directory.lexically_normal());
    });
    for (auto& d : decisions) {
      if (d.keep) continue;
      Tree& t = pruned_trees[d.snapshot];
      if (!t.errors.empty() || t.nested_snapshot || t.self.type != FsEntry::Type::kDir) {
        d.keep = true;
        d.rules |= keep_rule::kUnsafeDir;
        for (const auto& e : t.errors) plan.warnings.push_back(e + " (snapshot kept)");
        if (t.nested_snapshot) plan.warnings.push_back(t.dir.string() + ": holds a nested snapshot (kept)");
        t = Tree();
      }
    }
  }

  // --- 2. Which files kept snapshots use.
  void mark_kept_references() {
    kept_ref.assign(nfiles, 0);
    for (const auto& d : decisions) {
      if (!d.keep) continue;
      for (uint32_t f : g.snapshots[d.snapshot].files) kept_ref[f] = 1;
    }
  }

  // --- 3. Candidates: every entry that could be deleted, before verdicts.
  int64_t lookup(const FsEntry& e) const {
    auto id = g.find(std::string_view(e.path));
    return id ? static_cast<int64_t>(*id) : -1;
  }

  void gather_candidates() {
    seen.assign(nfiles, 0);
    find_journaled_trees();
    // Identity protection and the missing-file report for kept references no candidate matched.
    for (const auto& t : inv.incomplete) incomplete.push_back(&t);
    for (const auto& t : extra_incomplete) incomplete.push_back(&t);
    look_up_candidates();
    // Marked here, not in the workers: two candidates (a pool file and a journaled tree) may name
    // one node.
    auto mark_seen = [&](const std::vector<PlanCandidate>& cands) {
      for (const auto& c : cands) {
        if (c.file_id >= 0) seen[static_cast<size_t>(c.file_id)] = 1;
      }
    };
    for (const auto& c : tree_cands) mark_seen(c);
    for (const auto& c : inc_cands) mark_seen(c);
    for (const auto& c : pool_cands) mark_seen(c);
  }

  // Directories an interrupted apply journaled and the inventory did not list as incomplete.
  void find_journaled_trees() {
    for (const auto& j : inv.journal) journaled[j.dir.native()] = j.ino;
    std::set<std::string> covered;
    for (const auto& t : inv.incomplete) covered.insert(t.dir.native());
    for (const auto& d : inv.snapshot_dirs) covered.insert(d.lexically_normal().native());
    for (const auto& j : inv.journal) {
      if (covered.count(j.dir.native()) || !snapshot::is_within(j.dir, root) || j.dir == root) continue;
      auto st = pfs.lstat(j.dir.native());
      if (!st || st->type != FsEntry::Type::kDir || st->ino != j.ino) continue;
      Tree t = pfs.list_tree(j.dir);
      if (t.top_metadata || t.nested_snapshot || !t.errors.empty()) continue;
      extra_incomplete.push_back(std::move(t));
    }
  }

  void look_up_candidates() {
    tree_cands.resize(decisions.size());
    inc_cands.resize(incomplete.size());
    pool_cands.resize(inv.jobs.size());
    // Graph lookups of every candidate: hundreds of thousands of hashes and probes, read-only on
    // the graph, so spread over the threads (pools in chunks: one job's shared/ can hold them all).
    std::vector<uint32_t> pruned;
    for (const auto& d : decisions) {
      if (!d.keep) pruned.push_back(d.snapshot);
    }
    constexpr size_t kChunk = 8192;
    struct PoolChunk {
      size_t job, from, to;
    };
    std::vector<PoolChunk> pool_chunks;
    for (size_t i = 0; i < inv.jobs.size(); ++i) {
      const size_t n = inv.jobs[i].pool_files.size();
      pool_cands[i].resize(n);
      for (size_t from = 0; from < n; from += kChunk) pool_chunks.push_back({i, from, std::min(n, from + kChunk)});
    }
    util::parallel_for(pruned.size() + incomplete.size() + pool_chunks.size(), options.threads, [&](size_t item) {
      if (item < pruned.size()) {
        auto& cands = tree_cands[pruned[item]];
        auto& entries = pruned_trees[pruned[item]].entries;
        cands.reserve(entries.size());
        for (auto& e : entries) cands.push_back({&e, lookup(e), &e});
        return;
      }
      item -= pruned.size();
      if (item < incomplete.size()) {
        for (const auto& e : incomplete[item]->entries) inc_cands[item].push_back({&e, lookup(e)});
        return;
      }
      const PoolChunk& c = pool_chunks[item - incomplete.size()];
      const auto& files = inv.jobs[c.job].pool_files;
      for (size_t k = c.from; k < c.to; ++k) pool_cands[c.job][k] = {&files[k], lookup(files[k])};
    });
  }

  // A kept snapshot whose `_metadata` is gone (or replaced) since the graph read it was retired by
  // its job meanwhile (Flink and ckpt run delete `_metadata` before the state): its files are not
  // needed any more, so their absence is no problem. Checked once per snapshot, lazily: only
  // snapshots with a missing file pay the lstat.
  bool present(uint32_t u) {
    if (still_there[u] < 0) {
      const GraphSnapshot& s = g.snapshots[u];
      auto st = pfs.lstat(s.loc.metadata.native());
      still_there[u] = st && st->ino == s.metadata_ino;
    }
    return still_there[u] == 1;
  }

  void note_missing(uint32_t f, int64_t actual) {
    MissingFile m;
    m.path = fs::path(g.files[f].path);
    m.recorded_size = g.files[f].recorded_size;
    m.actual_size = actual;
    for (uint32_t u : g.files[f].users) {
      if (decisions[u].keep && present(u)) m.users.push_back(u);
    }
    if (!m.users.empty()) missing.emplace(f, std::move(m));
  }

  // Identities of the kept references, and the ones missing or shorter than recorded.
  void check_kept_references() {
    still_there.assign(g.snapshots.size(), -1);
    for (uint32_t f = 0; f < nfiles; ++f) {
      if (!kept_ref[f] || seen[f]) continue;
      const std::string path(g.files[f].path);
      errno = 0;
      auto st = pfs.stat(path);
      if (!st) {
        if (errno == ENOENT || errno == ENOTDIR) note_missing(f, -1);
        else plan.warnings.push_back(path + ": cannot stat a referenced file: " + std::strerror(errno));
        continue;
      }
      protected_ids.insert({st->dev, st->ino});
      if (st->type == FsEntry::Type::kFile && g.files[f].recorded_size >= 0 && st->size < g.files[f].recorded_size) {
        note_missing(f, st->size);
      }
    }
    auto check_size = [&](const PlanCandidate& c) {
      if (c.file_id < 0 || !kept_ref[c.file_id] || c.entry->type != FsEntry::Type::kFile) return;
      int64_t rec = g.files[c.file_id].recorded_size;
      if (rec >= 0 && c.entry->size < rec) note_missing(static_cast<uint32_t>(c.file_id), c.entry->size);
    };
    // Every short file is known before any verdict: the names of missing references protect below.
    for (const auto* lists : {&tree_cands, &inc_cands, &pool_cands}) {
      for (const auto& cands : *lists) {
        for (const auto& c : cands) check_size(c);
      }
    }
    plan.moved = find_moved_prefixes(pfs, g, kept_ref, [&](const FsEntry& st) {
      protected_ids.insert({st.dev, st.ino});
    });
    // A missing reference's file may sit elsewhere under the root under its own name (a UUID in
    // shared/): never delete a file of that name, whatever else the plan thinks of it.
    for (const auto& [f, m] : missing) missing_names.insert(m.path.filename().string());
  }

  bool is_protected(const PlanCandidate& c) const {
    if (c.file_id >= 0 && kept_ref[c.file_id]) return true;
    if (!missing_names.empty() && missing_names.count(std::string(c.entry->name()))) return true;
    return protected_ids.count({c.entry->dev, c.entry->ino}) > 0;
  }

  // --- 4. Verdicts. Phases 1 and 2 are collected in plan.deletions itself (phase 2 sorted in
  // place below): a plan may hold hundreds of thousands of deletions, and a second vector of them
  // would double the peak.
  void plan_metadata_deletions() {
    Deletions& phase1 = plan.deletions;
    {
      // Every candidate at most once, plus per pruned snapshot its `_metadata` and per tree its own
      // directory (phase 3, appended last).
      size_t bound = 2 * decisions.size() + incomplete.size();
      for (const auto& c : tree_cands) bound += c.size();
      for (const auto& c : inc_cands) bound += c.size();
      for (const auto& c : pool_cands) bound += c.size();
      plan.deletions.reserve(bound);
    }
    metadata_index.assign(g.snapshots.size(), kNoIndex);

    for (const auto& d : decisions) {
      if (d.keep) continue;
      const GraphSnapshot& s = g.snapshots[d.snapshot];
      Deletion del;
      del.entry = pruned_trees[d.snapshot].self;  // replaced below by the _metadata entry
      for (const auto& e : pruned_trees[d.snapshot].entries) {
        if (e.parent() == pruned_trees[d.snapshot].dir.native() && e.name() == snapshot::kMetadataFileName) {
          del.entry = e;
        }
      }
      if (del.entry.type != FsEntry::Type::kFile || del.entry.ino != s.metadata_ino) {
        plan.warnings.push_back(s.loc.metadata.string() + ": changed while planning (snapshot kept)");
        continue;
      }
      del.reason = DeleteReason::kPrunedMetadata;
      del.users = {d.snapshot};
      metadata_index[d.snapshot] = static_cast<uint32_t>(phase1.size());
      phase1.push_back(std::move(del));
    }
    phase2_begin = phase1.size();
  }

  // Empties one tree: files go unless protected or young, directories go when emptied.
  void empty_tree(const Tree& t, const std::vector<PlanCandidate>& cands, DeleteReason reason,
                  std::vector<uint32_t> after, bool apply_grace, const fs::path* skip_file) {
    Deletions& phase2 = plan.deletions;            // from index phase2_begin on
    std::unordered_map<std::string, bool> dir_ok;  // directory -> everything below goes
    dir_ok[t.dir.native()] = true;
    for (const auto& c : cands) {
      if (c.entry->type == FsEntry::Type::kDir) dir_ok[c.entry->path] = true;
    }
    auto spoil = [&](fs::path p) {
      for (p = p.parent_path(); snapshot::is_within(p, t.dir); p = p.parent_path()) {
        dir_ok[p.native()] = false;
        if (p == t.dir) break;
      }
    };
    for (const auto& c : cands) {
      const FsEntry& e = *c.entry;
      if (e.type == FsEntry::Type::kDir) continue;
      if (skip_file && e.path == skip_file->native()) continue;
      if (e.type != FsEntry::Type::kFile) {
        plan.left.push_back(e);
        spoil(e.path);
        continue;
      }
      if (is_protected(c)) {
        spoil(e.path);
        continue;
      }
      if (apply_grace && e.mtime_ns > cutoff) {
        plan.young.push_back(e);
        spoil(e.path);
        continue;
      }
      Deletion del;
      del.entry = c.movable ? std::move(*c.movable) : e;
      del.reason = reason;
      del.after = after;
      phase2.push_back(std::move(del));
    }
    // A directory goes only when every sub-directory goes too.
    std::vector<const FsEntry*> dirs;
    for (const auto& c : cands) {
      if (c.entry->type == FsEntry::Type::kDir) dirs.push_back(c.entry);
    }
    std::sort(dirs.begin(), dirs.end(),
              [](const FsEntry* a, const FsEntry* b) { return depth(a->path) > depth(b->path); });
    for (const FsEntry* e : dirs) {
      if (!dir_ok[e->path]) spoil(e->path);
    }
    for (const FsEntry* e : dirs) {
      if (dir_ok[e->path] && pfs.directories()) phase3.push_back(*e);
    }
    if (!pfs.directories()) return;  // an object store: a prefix vanishes with its last object
    if (dir_ok[t.dir.native()]) {
      phase3.push_back(t.self);
      plan.journal.push_back(t.self);
    }
  }

  void plan_pruned_trees() {
    for (const auto& d : decisions) {
      if (d.keep || metadata_index[d.snapshot] == kNoIndex) continue;
      const Tree& t = pruned_trees[d.snapshot];
      fs::path md = t.dir / std::string(snapshot::kMetadataFileName);
      empty_tree(t, tree_cands[d.snapshot], DeleteReason::kPrunedFile, {metadata_index[d.snapshot]}, true, &md);
    }
  }

  void plan_incomplete_trees() {
    for (size_t i = 0; i < incomplete.size(); ++i) {
      const Tree& t = *incomplete[i];
      fs::path job = t.dir.parent_path();
      if (unreadable_jobs.count(job.native())) {
        plan.warnings.push_back(t.dir.string() + ": left alone: its job holds an unreadable snapshot");
        continue;
      }
      auto jit = journaled.find(t.dir.native());
      bool is_journaled = jit != journaled.end() && jit->second == t.self.ino;
      if (!is_journaled && t.newest_mtime_ns > cutoff) {
        plan.young.push_back(t.self);
        continue;
      }
      empty_tree(t, inc_cands[i], DeleteReason::kIncomplete, {}, false, nullptr);
    }
  }

  void plan_pools() {
    Deletions& phase2 = plan.deletions;  // from index phase2_begin on
    for (size_t i = 0; i < inv.jobs.size(); ++i) {
      const JobArea& area = inv.jobs[i];
      if (unreadable_jobs.count(area.job_dir.native())) {
        plan.warnings.push_back(area.job_dir.string() +
                                ": shared/ and taskowned/ kept whole: the job holds an unreadable snapshot");
        continue;
      }
      for (const auto& l : area.symlinks) plan.left.push_back(l);
      for (const auto& c : pool_cands[i]) {
        if (is_protected(c)) continue;
        if (c.entry->mtime_ns > cutoff) {
          plan.young.push_back(*c.entry);
          continue;
        }
        Deletion del;
        del.entry = *c.entry;
        del.reason = DeleteReason::kOrphan;
        if (c.file_id >= 0) {
          del.users.reserve(g.files[c.file_id].users.size());
          del.after.reserve(g.files[c.file_id].users.size());
          for (uint32_t u : g.files[c.file_id].users) {
            del.users.push_back(u);
            if (metadata_index[u] != kNoIndex) del.after.push_back(metadata_index[u]);
          }
          if (!del.users.empty()) del.reason = DeleteReason::kReleased;
          // A user that is pruned but whose _metadata is not deleted in this plan (it changed
          // while planning) still protects the file.
          if (del.after.size() != del.users.size()) continue;
        }
        phase2.push_back(std::move(del));
      }
    }
  }

  // --- 5. Order and totals.
  void order_and_total() {
    sort_phase2();
    std::stable_sort(phase3.begin(), phase3.end(),
                     [](const FsEntry& a, const FsEntry& b) { return depth(a.path) > depth(b.path); });
    for (auto& e : phase3) {
      Deletion d;
      d.entry = std::move(e);
      d.reason = DeleteReason::kDirectory;
      plan.deletions.push_back(std::move(d));
    }
    for (const auto& d : plan.deletions) {
      // Belt and braces: every rule above only produces entries found under the root.
      if (!snapshot::is_within_str(d.entry.path, root.native()) || d.entry.path == root.native()) {
        throw util::Error(util::ErrorKind::kInternal, "plan would delete outside the root: " + d.entry.path);
      }
      if (d.entry.type == FsEntry::Type::kDir) {
        plan.dirs_deleted++;
      } else {
        plan.files_deleted++;
        util::sat_accumulate(plan.bytes_freed, d.entry.size);
      }
    }
    for (auto& [f, m] : missing) plan.missing.push_back(std::move(m));
    if (!plan.missing.empty() && !options.allow_missing) {
      // Fail closed: a kept snapshot already lacks a file, so what this plan "knows" is in doubt
      // (a moved directory, a half-restored backup, a deleting job). Nothing goes.
      plan.withheld = static_cast<int64_t>(plan.deletions.size());
      plan.deletions.clear();
      plan.journal.clear();
      plan.files_deleted = plan.dirs_deleted = plan.bytes_freed = 0;
    }
    for (const auto& w : inv.warnings) plan.warnings.push_back(w);
    plan.snapshots = std::move(decisions);
  }

  // Phase 2: exclusive files of pruned and incomplete checkpoints before released pool files,
  // then by path so the executor reuses one directory descriptor. Paths are unique, so the order
  // is total. Sorted as indices, then permuted in place: a Deletion is heavy to move around.
  void sort_phase2() {
    Deletions& phase2 = plan.deletions;  // from index phase2_begin on
    Deletion* d2 = phase2.data() + phase2_begin;
    const size_t n2 = phase2.size() - phase2_begin;
    auto before = [](const Deletion& a, const Deletion& b) {
      bool ax = a.reason == DeleteReason::kReleased || a.reason == DeleteReason::kOrphan;
      bool bx = b.reason == DeleteReason::kReleased || b.reason == DeleteReason::kOrphan;
      if (ax != bx) return !ax;
      return a.entry.path < b.entry.path;
    };
    std::vector<uint32_t> order;
    // Usually sorted already (trees and pools are listed in path order): one pass says so.
    if (!std::is_sorted(d2, d2 + n2, before)) {
      order.resize(n2);
      for (uint32_t i = 0; i < n2; ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](uint32_t ia, uint32_t ib) { return before(d2[ia], d2[ib]); });
    }
    // Position j receives d2[order[j]]; each cycle of the permutation is rotated once.
    for (uint32_t i = 0; i < order.size(); ++i) {
      if (order[i] == i) continue;
      Deletion held = std::move(d2[i]);
      uint32_t j = i;
      for (;;) {
        uint32_t k = order[j];
        order[j] = j;
        if (k == i) {
          d2[j] = std::move(held);
          break;
        }
        d2[j] = std::move(d2[k]);
        j = k;
      }
    }
  }
};

}  // namespace

const PlanFs& local_fs() {
  static const LocalFs fs;
  return fs;
}

std::vector<size_t> newer_than_kept(const std::vector<IdRanked>& entries) {
  std::map<std::string_view, int64_t> lowest_kept;
  for (const IdRanked& e : entries) {
    if (!e.kept) continue;
    auto [it, fresh] = lowest_kept.emplace(e.group, e.id);
    if (!fresh) it->second = std::min(it->second, e.id);
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].kept) continue;
    auto it = lowest_kept.find(entries[i].group);
    if (it != lowest_kept.end() && entries[i].id > it->second) out.push_back(i);
  }
  return out;
}

std::string describe_rules(uint32_t rules) {
  static const std::pair<uint32_t, const char*> names[] = {{keep_rule::kLast, "retain"},
                                                           {keep_rule::kWithin, "keep-within"},
                                                           {keep_rule::kHourly, "keep-hourly"},
                                                           {keep_rule::kDaily, "keep-daily"},
                                                           {keep_rule::kSavepoint, "savepoint"},
                                                           {keep_rule::kProtected, "protected"},
                                                           {keep_rule::kGrace, "grace"},
                                                           {keep_rule::kUnmanaged, "unmanaged"},
                                                           {keep_rule::kUnreadable, "unreadable"},
                                                           {keep_rule::kUnsafeDir, "unsafe-directory"},
                                                           {keep_rule::kGc, "gc"},
                                                           {keep_rule::kNewer, "newer-than-kept"}};
  std::string out;
  for (const auto& [bit, name] : names) {
    if (!(rules & bit)) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string relocation_command(const MovedPrefix& m, const fs::path& root) {
  return "ckpt convert --relocate " + m.from + "=" + m.to + " --in-place " + root.string();
}

std::string_view reason_name(DeleteReason r) {
  switch (r) {
    case DeleteReason::kPrunedMetadata:
      return "pruned-metadata";
    case DeleteReason::kPrunedFile:
      return "pruned-file";
    case DeleteReason::kReleased:
      return "released";
    case DeleteReason::kOrphan:
      return "orphan";
    case DeleteReason::kIncomplete:
      return "incomplete";
    case DeleteReason::kDirectory:
      return "directory";
  }
  return "?";
}

std::string group_of(const GraphSnapshot& s) {
  if (s.loc.dir_kind == snapshot::DirKind::kCheckpoint && !s.savepoint)
    return s.loc.job_dir.lexically_normal().string();
  fs::path dir = s.loc.directory.lexically_normal();
  if (s.savepoint) {
    std::string name = dir.filename().string();
    if (snapshot::is_flink_savepoint_name(name)) {
      return (dir.parent_path() / std::string(name.substr(0, snapshot::kSavepointDirPrefix.size() + 6))).string();
    }
    return dir.parent_path().string();
  }
  return dir.string();
}

Decisions keep_all(const ReferenceGraph& g) {
  Decisions out;
  out.snapshots.resize(g.snapshots.size());
  for (uint32_t i = 0; i < out.snapshots.size(); ++i) {
    SnapshotDecision& d = out.snapshots[i];
    d.snapshot = i;
    d.group = group_of(g.snapshots[i]);
    d.keep = true;
    d.rules = keep_rule::kGc;
  }
  return out;
}

std::vector<std::string> refusals(const ReferenceGraph& g, const Inventory& inv, const PlanOptions& options) {
  std::vector<std::string> out = inv.errors;
  std::unordered_set<std::string> known;
  for (const auto& s : g.snapshots) known.insert(s.loc.directory.lexically_normal().native());
  for (const auto& d : inv.snapshot_dirs) {
    if (!known.count(d.lexically_normal().native())) {
      out.push_back(d.string() + ": snapshot directory not reached by discovery; refusing to guess what it uses");
    }
  }
  for (const auto& job : inv.jobs) {
    if (options.fs && !options.fs->directories()) break;  // no `ckpt run` writes to an object store
    auto live = snapshot::live_job(job.job_dir);
    if (!live || options.grace_ns >= live->min_grace_ns) continue;
    out.push_back(
        fmt::format("{}: a running job{} holds this job directory, and --grace {} is shorter than its "
                    "checkpoint timeout: files of its in-flight checkpoint could be deleted; pass --grace {} "
                    "or more",
                    job.job_dir.string(), live->pid ? fmt::format(" (pid {})", live->pid) : "",
                    util::duration_text(options.grace_ns), util::duration_text(live->min_grace_ns)));
  }
  for (const auto& s : g.snapshots) {
    if (!s.readable && !options.skip_unreadable) {
      out.push_back(s.error +
                    " (cannot tell which files this snapshot uses; fix it, move it away, or pass "
                    "--skip-unreadable to keep it and everything of its job)");
    }
    for (const auto& p : s.problems) {
      if (p.kind == snapshot::RefProblem::kEscapesRoot) {
        out.push_back(s.loc.metadata.string() + ": handle path " + p.detail + " leaves " + s.scan_root.string());
      } else {
        out.push_back(s.loc.metadata.string() + ": handle path " + p.detail +
                      " is remote and no --map PREFIX=DIR covers it; cannot tell whether it uses files here");
      }
    }
  }
  // One line per distinct reason is enough to act on; a broken job can repeat one reason a lot.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Plan make_plan(const ReferenceGraph& g, const Inventory& inv, Decisions decided, const PlanOptions& options) {
  return PlanningPass(g, inv, std::move(decided), options).run();
}

fs::path checked_root(const fs::path& given) {
  const fs::path root = snapshot::absolute_normal(given);
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) {
    throw io::IoError(root.string() + ": cannot access: " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    throw io::IoError(root.string() +
                      ": is a symbolic link; prune and gc never follow one: pass the directory it points to");
  }
  if (!S_ISDIR(st.st_mode)) throw io::IoError(root.string() + ": not a directory, expected a job directory or a root");
  if (::lstat((root / std::string(snapshot::kMetadataFileName)).c_str(), &st) == 0) {
    throw io::IoError(root.string() +
                      ": is a snapshot directory, expected the job directory holding chk-N "
                      "directories or a root holding jobs");
  }
  return root;
}

PlanRun gather_root(const PlanRequest& request) {
  const fs::path root = checked_root(request.root);
  std::vector<snapshot::GraphSource> sources{{root, false}};
  for (const auto& p : request.protect) sources.push_back({p, true});
  PlanRun run;
  // The inventory's walk is system time, the graph's parse user time: overlapping them keeps
  // both cores busy. An exception in either is rethrown here after both ended.
  std::exception_ptr scan_error;
  std::thread scanner([&] {
    try {
      run.inventory = scan_root(root);
    } catch (...) {
      scan_error = std::current_exception();
    }
  });
  try {
    run.graph = snapshot::build_reference_graph(sources, request.mappings, request.options.threads);
  } catch (...) {
    scanner.join();
    throw;
  }
  scanner.join();
  if (scan_error) std::rethrow_exception(scan_error);
  run.refusals = refusals(run.graph, run.inventory, request.options);
  return run;
}

PlanRun plan_root(const PlanRequest& request, const std::function<Decisions(const ReferenceGraph&)>& decide) {
  PlanRun run = gather_root(request);
  // A live job completes, retires and aborts checkpoints while the root is read: a snapshot
  // directory the walk saw but discovery did not, a `_metadata` deleted between listing and
  // reading, a directory gone before it could be listed. Such refusals are re-checked on a fresh
  // read; only what persists is reported.
  // The same refusals twice in a row are not transient: they are final at once.
  for (int retry = 0; retry < kGatherRetries && !run.refusals.empty(); ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << retry));
    PlanRun again = gather_root(request);
    const bool same = again.refusals == run.refusals;
    run = std::move(again);
    if (same) break;
  }
  if (run.refusals.empty()) run.plan = make_plan(run.graph, run.inventory, decide(run.graph), request.options);
  return run;
}

Explanation explain(const PlanRun& run, const fs::path& file, const std::vector<snapshot::PathMapping>& mappings,
                    const snapshot::MetadataReader& read) {
  Explanation e;
  e.path = file;
  e.file = run.graph.find(file);
  if (e.file) {
    for (uint32_t u : run.graph.files[*e.file].users) {
      const GraphSnapshot& s = run.graph.snapshots[u];
      try {
        flink::Metadata md = read ? read(s.loc) : flink::read_metadata_file(s.loc.metadata);
        for (auto& r : snapshot::file_refs(md, s.loc.directory, mappings)) {
          if (r.resolved.kind != snapshot::ResolvedPath::Kind::kLocal) continue;
          if (r.resolved.local.lexically_normal() != file) continue;
          FileUse& use = e.uses.emplace_back();
          use.snapshot = u;
          use.local_name = io::mutf8_to_utf8(r.ref.local_path);
          if (r.ref.operator_index >= 0) use.operator_id = flink::to_hex(md.operators[r.ref.operator_index].id);
          r.ref.handle = nullptr;  // views into `md`, which goes away
          r.ref.keyed = nullptr;
          r.ref.local_path = {};
          use.ref = std::move(r);
        }
      } catch (const std::exception&) {
        // Read once already; a snapshot changed since is reported by the plan, not here.
      }
    }
  }
  const Plan& p = run.plan;
  for (const auto& d : p.deletions) {
    if (d.entry.path == file.native()) {
      e.verdict = "deleted (" + std::string(reason_name(d.reason)) + ")";
      return e;
    }
  }
  for (const auto& y : p.young) {
    if (y.path == file.native() || snapshot::is_within_str(file.native(), y.path)) {
      e.verdict = "left: younger than the grace period";
      return e;
    }
  }
  for (const auto& l : p.left) {
    if (l.path == file.native()) {
      e.verdict = "left: not a regular file";
      return e;
    }
  }
  int kept = 0;
  if (e.file) {
    for (uint32_t u : run.graph.files[*e.file].users) kept += p.snapshots.size() > u && p.snapshots[u].keep;
  }
  if (kept) e.verdict = "kept: used by " + std::to_string(kept) + " kept snapshot" + (kept == 1 ? "" : "s");
  else e.verdict = "not deleted: outside what prune and gc manage (pools, pruned and incomplete checkpoints)";
  return e;
}

}  // namespace ckpt::ops
