#include "ops/store_plan.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "flink/metadata_reader.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"
#include "snapshot/store_discovery.h"
#include "storage/background_prefetch.h"
#include "storage/object_uri.h"
#include "storage/open_store.h"
#include "util/error.h"
#include "util/replace_all.h"
#include "util/saturating.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

constexpr const char* kVirtualBase = "/.ckpt-object-store/";
constexpr uint64_t kMaxMetadataBytes = uint64_t{1} << 30;
constexpr int kGatherRetries = 3;

std::string_view name_of(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

// A key the virtual path spells faithfully: no empty, "." or ".." component, no trailing '/'
// (a "directory marker"). Others are never candidates (a warning names them).
bool plain_key(std::string_view k) {
  if (k.empty() || k.back() == '/' || k.front() == '/') return false;
  size_t i = 0;
  while (i <= k.size()) {
    size_t j = k.find('/', i);
    if (j == std::string_view::npos) j = k.size();
    std::string_view c = k.substr(i, j - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = j + 1;
  }
  return true;
}

FsEntry entry_of(const StoreRoot& root, const storage::ObjectInfo& o) {
  FsEntry e;
  e.path = root.virtual_path(o.key);
  e.type = FsEntry::Type::kFile;
  e.size = static_cast<int64_t>(std::min<uint64_t>(o.size, INT64_MAX));
  e.mtime_ns = o.modified_unix_ns;
  e.dev = snapshot::kObjectDev;
  e.ino = snapshot::object_identity(e.path);
  return e;
}

// A Tree of the entries [lo, hi) under `dir` (virtual), all files.
template <typename It>
Tree tree_of(const std::string& dir, It lo, It hi) {
  Tree t;
  t.dir = dir;
  t.self.path = dir;
  t.self.type = FsEntry::Type::kDir;
  t.self.dev = snapshot::kObjectDev;
  t.self.ino = snapshot::object_identity(dir + "/");
  for (It it = lo; it != hi; ++it) {
    const FsEntry& e = *it;
    t.newest_mtime_ns = std::max(t.newest_mtime_ns, e.mtime_ns);
    if (e.name() == snapshot::kMetadataFileName) {
      if (e.parent() == dir) t.top_metadata = true;
      else t.nested_snapshot = true;
    }
    t.entries.push_back(e);
  }
  t.self.mtime_ns = t.newest_mtime_ns;
  return t;
}

// Scanner over the sorted entries (virtual paths), with scan_root's rules.
struct ListingScanner {
  Inventory& inv;
  const std::vector<FsEntry>& all;

  void walk(const std::string& dir, size_t lo, size_t hi, int depth) {
    if (depth > kMaxDepth) {
      inv.errors.push_back(dir + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");
      return;
    }
    const std::string base = dir + "/";
    struct Child {
      std::string name;
      size_t lo, hi;
    };
    std::vector<Child> children;
    bool has_metadata = false;
    for (size_t i = lo; i < hi;) {
      std::string_view rel = std::string_view(all[i].path).substr(base.size());
      size_t slash = rel.find('/');
      if (slash == std::string_view::npos) {
        if (rel == snapshot::kMetadataFileName) has_metadata = true;
        ++i;
        continue;
      }
      std::string prefix = base + std::string(rel.substr(0, slash + 1));
      size_t j = i;
      while (j < hi && std::string_view(all[j].path).starts_with(prefix)) ++j;
      children.push_back({std::string(rel.substr(0, slash)), i, j});
      i = j;
    }
    if (has_metadata) {
      inv.snapshot_dirs.emplace_back(dir);
      return;
    }
    bool job = false, has_shared = false, has_owned = false;
    for (const auto& c : children) {
      if (snapshot::checkpoint_number(c.name)) job = true;
      if (c.name == snapshot::kSharedDirName) has_shared = true;
      if (c.name == snapshot::kTaskOwnedDirName) has_owned = true;
    }
    job = job || (has_shared && has_owned);
    JobArea area;
    area.job_dir = dir;
    for (const auto& c : children) {
      const std::string cdir = base + c.name;
      if (job && (c.name == snapshot::kSharedDirName || c.name == snapshot::kTaskOwnedDirName)) {
        Tree t = tree_of(cdir, all.begin() + static_cast<ptrdiff_t>(c.lo), all.begin() + static_cast<ptrdiff_t>(c.hi));
        if (t.nested_snapshot || t.top_metadata) {
          inv.errors.push_back(cdir + ": holds a _metadata object; refusing to treat it as a state pool");
        }
        for (auto& f : t.entries) area.pool_files.push_back(std::move(f));
        continue;
      }
      if (snapshot::checkpoint_number(c.name)) {
        bool complete = false;
        const std::string md = cdir + "/" + std::string(snapshot::kMetadataFileName);
        for (size_t k = c.lo; k < c.hi && !complete; ++k) complete = all[k].path == md;
        if (complete) {
          walk(cdir, c.lo, c.hi, depth + 1);
          continue;
        }
        Tree t = tree_of(cdir, all.begin() + static_cast<ptrdiff_t>(c.lo), all.begin() + static_cast<ptrdiff_t>(c.hi));
        if (t.nested_snapshot) {
          inv.errors.push_back(cdir + ": incomplete checkpoint prefix holds a nested _metadata");
          continue;
        }
        inv.incomplete.push_back(std::move(t));
        continue;
      }
      walk(cdir, c.lo, c.hi, depth + 1);
    }
    if (job) inv.jobs.push_back(std::move(area));
  }
};

std::vector<FsEntry> entries_of(const StoreRoot& root, const std::vector<storage::ObjectInfo>& objects,
                                std::vector<std::string>* skipped) {
  std::vector<FsEntry> out;
  out.reserve(objects.size());
  const std::string lease = root.key() + "/" + kLeaseName;
  for (const auto& o : objects) {
    if (o.key == lease) continue;
    if (!plain_key(o.key)) {
      if (skipped) skipped->push_back(root.display(root.virtual_path("")) + o.key);
      continue;
    }
    out.push_back(entry_of(root, o));
  }
  std::sort(out.begin(), out.end(), [](const FsEntry& a, const FsEntry& b) { return a.path < b.path; });
  return out;
}

// Every object under the root; `on_page` sees each page as it arrives.
std::vector<storage::ObjectInfo> list_root(
    StoreRoot& root, const std::function<void(std::span<const storage::ObjectInfo>)>& on_page = {}) {
  std::vector<storage::ObjectInfo> objects;
  root.store().list(root.key() + "/", [&](std::span<const storage::ObjectInfo> page) {
    if (on_page) on_page(page);
    objects.insert(objects.end(), page.begin(), page.end());
  });
  if (objects.empty()) {
    throw util::Error(util::ErrorKind::kIo,
                      root.uri() + ": no objects under this prefix (is the bucket or prefix right?)");
  }
  for (const auto& o : objects) {
    if (o.key == root.key() + "/" + std::string(snapshot::kMetadataFileName)) {
      throw util::Error(util::ErrorKind::kIo, root.uri() +
                                                  ": is a snapshot prefix, expected the job prefix holding chk-N "
                                                  "or a root holding jobs");
    }
  }
  return objects;
}

snapshot::Location virtualised(const StoreRoot& root, snapshot::Location loc) {
  auto conv = [&](const fs::path& p) -> fs::path {
    if (p.empty()) return p;
    auto u = storage::parse_object_uri(p.native());
    return u ? fs::path(root.virtual_path(u->key)) : p;
  };
  loc.metadata = conv(loc.metadata);
  loc.directory = conv(loc.directory);
  loc.job_dir = conv(loc.job_dir);
  return loc;
}

struct Gathered {
  PlanRun run;
  std::vector<storage::ObjectInfo> objects;
};

Gathered gather_store(StoreRoot& root, const StorePlanRequest& request) {
  Gathered out;
  // Each `_metadata` the listing shows is read by a second client while the listing goes on
  // (a plan is then about its listing's time, not listing + reads).
  storage::BackgroundPrefetch early(root.another_client(), kMaxMetadataBytes, root.cache());
  const std::string metadata_suffix = "/" + std::string(snapshot::kMetadataFileName);
  out.objects = list_root(root, [&](std::span<const storage::ObjectInfo> page) {
    for (const auto& o : page) {
      if (o.key.ends_with(metadata_suffix)) early.add(o);
    }
  });
  PlanRun& run = out.run;
  std::vector<std::string> skipped;
  std::vector<FsEntry> entries = entries_of(root, out.objects, &skipped);
  run.inventory.root = root.virtual_root();
  ListingScanner{run.inventory, entries}.walk(root.virtual_root(), 0, entries.size(), 0);
  for (const auto& s : skipped) run.inventory.warnings.push_back(s + ": key not a plain path, left alone");
  snapshot::Discovery d = snapshot::discover_in_listing(root.store(), root.key(), out.objects);
  std::vector<snapshot::LocatedSnapshot> locs;
  for (auto& loc : d.snapshots) locs.push_back({virtualised(root, std::move(loc)), root.virtual_root(), false});
  // --protect prefixes of the same bucket: their snapshots are kept, and so is what they use.
  for (const auto& p : request.protect) {
    auto u = storage::parse_object_uri(p);
    std::string key = u ? u->key : std::string();
    while (!key.empty() && key.back() == '/') key.pop_back();
    if (!u || !root.same_bucket(*u) || !plain_key(key)) {
      throw util::Error(util::ErrorKind::kUsage, "--protect " + p + ": on an object-store root, name a prefix of " +
                                                     root.display(root.virtual_path("")));
    }
    snapshot::Discovery pd = snapshot::discover_in_store(root.store(), key);
    for (auto& loc : pd.snapshots) {
      snapshot::Location v = virtualised(root, std::move(loc));
      fs::path scan = v.metadata.native() == root.virtual_path(key) ? v.directory : fs::path(root.virtual_path(key));
      locs.push_back({std::move(v), std::move(scan), true});
    }
  }
  std::vector<snapshot::PathMapping> maps = root.mappings();
  maps.insert(maps.end(), request.mappings.begin(), request.mappings.end());
  // Every `_metadata` fetched first, many requests in flight (one at a time, the round trips
  // made a plan several times its listing); a slice that fails is left to the reader below,
  // which names the object that cannot be read.
  std::unordered_map<std::string, std::string> fetched = early.take();
  std::vector<std::string> metadata_keys;
  for (const auto& l : locs) {
    auto key = root.key_of(l.loc.metadata.native());
    if (key && !fetched.contains(*key)) metadata_keys.push_back(*key);
  }
  for (auto& [k, v] : storage::prefetch(root.store(), metadata_keys, kMaxMetadataBytes))
    fetched.emplace(k, std::move(v));
  // The graph parses on several threads; the store's client is used by one at a time (its
  // requests are parallel inside one call), the parse runs outside the lock.
  std::mutex store_mu;
  snapshot::MetadataReader read = [&root, &store_mu, &fetched](const snapshot::Location& loc) {
    auto key = root.key_of(loc.metadata.native());
    std::string bytes;
    try {
      std::lock_guard<std::mutex> lock(store_mu);
      auto it = key ? fetched.find(*key) : fetched.end();
      if (it != fetched.end()) {
        bytes = std::move(it->second);
        fetched.erase(it);
      } else {
        bytes = root.store().read(key ? *key : loc.metadata.native(), kMaxMetadataBytes);
      }
    } catch (const util::Error& e) {
      throw flink::MetadataError(e.what(), 0);
    }
    return flink::parse_metadata(std::move(bytes), root.display(loc.metadata.native()));
  };
  run.graph = snapshot::build_reference_graph(std::move(locs), maps, read, request.options.threads);
  PlanOptions opts = request.options;
  opts.fs = nullptr;
  ListingFs lfs(root, out.objects);
  opts.fs = &lfs;
  run.refusals = refusals(run.graph, run.inventory, opts);
  for (auto& r : run.refusals) r = root.display(r);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

StoreRoot::StoreRoot(std::string_view uri, const std::map<std::string, std::string>& config)
    : StoreRoot(storage::open_store(uri, config)) {
  config_ = config;
}

std::unique_ptr<storage::ObjectStore> StoreRoot::another_client() const {
  if (!config_) return nullptr;
  return storage::open_store(uri(), *config_).store;
}

StoreRoot::StoreRoot(storage::OpenedStore opened) : opened_(std::move(opened)) {
  if (!opened_.uri) throw util::Error(util::ErrorKind::kUsage, opened_.key + ": not an object-store URI");
  scheme_ = opened_.uri->scheme;
  bucket_ = opened_.uri->bucket;
  key_ = opened_.uri->key;
  while (!key_.empty() && key_.back() == '/') key_.pop_back();
  if (key_.empty() || !plain_key(key_)) {
    throw util::Error(
        util::ErrorKind::kUsage,
        opened_.uri->str() + ": name a prefix inside the bucket (a job or a root of jobs), not the bucket");
  }
  vbucket_ = std::string(kVirtualBase) + bucket_;
  vroot_ = vbucket_ + "/" + key_;
}

bool StoreRoot::same_bucket(const storage::ObjectUri& u) const { return storage::same_bucket(*opened_.uri, u); }

std::string StoreRoot::uri() const { return scheme_ + "://" + bucket_ + "/" + key_; }

std::string StoreRoot::virtual_path(std::string_view key) const {
  if (key.empty()) return vbucket_ + "/";
  return vbucket_ + "/" + std::string(key);
}

std::optional<std::string> StoreRoot::key_of(std::string_view v) const {
  if (v.size() <= vbucket_.size() + 1 || !v.starts_with(vbucket_) || v[vbucket_.size()] != '/') return std::nullopt;
  return std::string(v.substr(vbucket_.size() + 1));
}

std::string StoreRoot::display(std::string_view v) const {
  // Virtual paths inside messages too: every occurrence of the bucket's virtual directory.
  return util::replace_all(v, vbucket_, scheme_ + "://" + bucket_);
}

std::vector<snapshot::PathMapping> StoreRoot::mappings() const {
  std::vector<snapshot::PathMapping> m;
  const bool gs = scheme_ == "gs" || scheme_ == "GS";
  for (const char* s : gs ? std::vector<const char*>{"gs"} : std::vector<const char*>{"s3", "s3a", "s3p"}) {
    m.push_back({std::string(s) + "://" + bucket_, fs::path(vbucket_)});
  }
  return m;
}

Inventory inventory_of_listing(const StoreRoot& root, const std::vector<storage::ObjectInfo>& objects) {
  Inventory inv;
  inv.root = root.virtual_root();
  std::vector<FsEntry> entries = entries_of(root, objects, nullptr);
  ListingScanner{inv, entries}.walk(root.virtual_root(), 0, entries.size(), 0);
  return inv;
}

ListingFs::ListingFs(StoreRoot& root, const std::vector<storage::ObjectInfo>& objects)
    : root_(root), entries_(entries_of(root, objects, nullptr)) {}

std::optional<FsEntry> ListingFs::lstat(const std::string& path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                             [](const FsEntry& e, const std::string& p) { return e.path < p; });
  if (it != entries_.end() && it->path == path) return *it;
  const std::string& vr = root_.virtual_root();
  const bool under_root = path.size() > vr.size() && path.starts_with(vr) && path[vr.size()] == '/';
  auto key = root_.key_of(path);
  if (!under_root && key && plain_key(*key)) {
    // In the bucket, outside the listed root: one HEAD (a reference to a sibling prefix).
    if (auto o = root_.store().stat(*key)) return entry_of(root_, *o);
  }
  errno = ENOENT;
  return std::nullopt;
}

Tree ListingFs::list_tree(const fs::path& dir) const {
  const std::string prefix = dir.native() + "/";
  auto lo = std::lower_bound(entries_.begin(), entries_.end(), prefix,
                             [](const FsEntry& e, const std::string& p) { return e.path < p; });
  auto hi = lo;
  while (hi != entries_.end() && hi->path.starts_with(prefix)) ++hi;
  Tree t = tree_of(dir.native(), lo, hi);
  if (lo == hi) t.errors.push_back(root_.display(dir.native()) + ": no objects under this prefix");
  return t;
}

PlanRun plan_store_root(StoreRoot& root, const StorePlanRequest& request,
                        const std::function<Decisions(const snapshot::ReferenceGraph&)>& decide) {
  Gathered g = gather_store(root, request);
  for (int retry = 0; retry < kGatherRetries && !g.run.refusals.empty(); ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << retry));
    Gathered again = gather_store(root, request);
    const bool same = again.run.refusals == g.run.refusals;
    g = std::move(again);
    if (same) break;
  }
  if (g.run.refusals.empty()) {
    ListingFs lfs(root, g.objects);
    PlanOptions opts = request.options;
    opts.fs = &lfs;
    g.run.plan = make_plan(g.run.graph, g.run.inventory, decide(g.run.graph), opts);
  }
  return std::move(g.run);
}

snapshot::ReferenceGraph store_reference_graph(StoreRoot& root, const std::vector<snapshot::PathMapping>& mappings) {
  StorePlanRequest request;
  request.mappings = mappings;
  return std::move(gather_store(root, request).run.graph);
}

RootSummary summarise_store_root(StoreRoot& root, const std::vector<snapshot::PathMapping>& mappings) {
  StorePlanRequest request;
  request.mappings = mappings;
  Gathered g = gather_store(root, request);
  std::vector<fs::path> incomplete;
  for (const auto& t : g.run.inventory.incomplete) incomplete.push_back(t.dir);
  // The listing is in key order, so in virtual-path order: a unit's objects are one range.
  std::vector<RootFile> files;
  files.reserve(g.objects.size());
  for (const auto& o : g.objects) files.push_back({root.virtual_path(o.key), o.size});
  return summarise(g.run.graph, incomplete, [&files](const fs::path& unit) {
    const std::string prefix = unit.string() + "/";
    auto first = std::lower_bound(files.begin(), files.end(), prefix,
                                  [](const RootFile& f, const std::string& p) { return f.path.native() < p; });
    std::vector<RootFile> out;
    for (auto it = first; it != files.end() && it->path.native().starts_with(prefix); ++it) out.push_back(*it);
    return out;
  });
}

std::optional<Explanation> explain_store(const PlanRun& run, StoreRoot& root, const std::string& file,
                                         const std::vector<snapshot::PathMapping>& mappings) {
  std::vector<snapshot::PathMapping> maps = root.mappings();
  maps.insert(maps.end(), mappings.begin(), mappings.end());
  std::optional<fs::path> path = snapshot::local_path_of(file, maps);
  if (!path) return std::nullopt;
  snapshot::MetadataReader read = [&root](const snapshot::Location& loc) {
    auto key = root.key_of(loc.metadata.native());
    return flink::parse_metadata(root.store().read(key ? *key : loc.metadata.native(), kMaxMetadataBytes),
                                 root.display(loc.metadata.native()));
  };
  return explain(run, *path, maps, read);
}

// ---------------------------------------------------------------------------------------------

struct StoreLease::Renewer {
  std::unique_ptr<storage::ObjectStore> store;  // a client of its own: the run's is busy
  std::string key, owner_lines;                 // the lease's lines before `expires_unix=`
  int64_t ttl_s = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;

  void run() {
    const auto period = std::chrono::milliseconds(std::max<int64_t>(1, ttl_s) * 1000 / 3);
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, period, [this] { return stop; })) {
      lock.unlock();
      try {
        // Still ours? A lease another run took over (ours had expired) is not written back.
        if (!store->read(key, 4096).starts_with(owner_lines)) return;
        store->write_atomic(key, owner_lines + fmt::format("expires_unix={}\n", unix_now() + ttl_s), true);
      } catch (const util::Error&) {
        // Tried again at the next period; the lease lasts ttl_s from the last renewal.
      }
      lock.lock();
    }
  }
  static int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

StoreLease::StoreLease(StoreRoot* root, std::string key, std::string owner_lines, int64_t ttl_s) : root_(root) {
  std::unique_ptr<storage::ObjectStore> client = root->another_client();
  if (!client) return;  // an opened store (tests): not renewed
  renewer_ = std::make_unique<Renewer>();
  renewer_->store = std::move(client);
  renewer_->key = std::move(key);
  renewer_->owner_lines = std::move(owner_lines);
  renewer_->ttl_s = ttl_s;
  renewer_->thread = std::thread([r = renewer_.get()] { r->run(); });
}

StoreLease::StoreLease(StoreLease&& o) noexcept : root_(o.root_), renewer_(std::move(o.renewer_)) { o.root_ = nullptr; }

StoreLease& StoreLease::operator=(StoreLease&& o) noexcept {
  std::swap(root_, o.root_);
  std::swap(renewer_, o.renewer_);
  return *this;
}

StoreLease::~StoreLease() { release(); }

std::optional<StoreLease> StoreLease::try_acquire(StoreRoot& root, const std::string& command, int64_t ttl_s,
                                                  std::string& holder, std::string* taken_over) {
  const std::string key = root.key() + "/" + kLeaseName;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const int64_t now = Renewer::unix_now();
  const std::string owner =
      fmt::format("owner=ckpt {}\nhost={}\npid={}\n", command, host, static_cast<long>(::getpid()));
  const std::string body = owner + fmt::format("expires_unix={}\n", now + ttl_s);
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      root.store().write_atomic(key, body, false);
      return StoreLease(&root, key, owner, ttl_s);
    } catch (const util::Error&) {
      // Exists (412 or seen by the pre-check), or the store failed: look at what is there.
      std::optional<storage::ObjectInfo> there = root.store().stat(key);
      if (!there) {
        if (attempt == 0) continue;
        throw;
      }
      std::string text;
      try {
        text = root.store().read(key, 4096);
      } catch (const util::Error&) {
      }
      // Our own write, whose answer was lost and retried into a 412.
      if (text == body) return StoreLease(&root, key, owner, ttl_s);
      auto field = [&](std::string_view name) -> std::string {
        std::size_t pos = text.starts_with(name) ? 0 : text.find("\n" + std::string(name));
        if (pos == std::string::npos) return "";
        pos = text.find('=', pos) + 1;
        return text.substr(pos, text.find('\n', pos) - pos);
      };
      const std::string expires_text = field("expires_unix="), pid_text = field("pid=");
      const int64_t expires = expires_text.empty() ? INT64_MAX : std::strtoll(expires_text.c_str(), nullptr, 10);
      const long pid = pid_text.empty() ? 0 : std::strtol(pid_text.c_str(), nullptr, 10);
      // A run of this host whose process is gone (killed, crashed) holds nothing any more: a
      // rerun takes over at once instead of waiting for the expiry.
      const bool dead_here =
          field("host=") == host && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
      holder = text.empty() ? "unreadable lease" : text;
      std::replace(holder.begin(), holder.end(), '\n', ' ');
      if ((expires > now && !dead_here) || attempt > 0) return std::nullopt;
      if (taken_over)
        *taken_over =
            fmt::format("{} ({})", dead_here ? "a run on this host that has ended" : "an expired lease", holder);
      // Remove it and try once more (the conditional write decides between two runs doing the
      // same).
      root.store().remove(std::vector<std::string>{key});
    }
  }
  return std::nullopt;
}

void StoreLease::release() noexcept {
  if (renewer_) {
    {
      std::lock_guard<std::mutex> lock(renewer_->mu);
      renewer_->stop = true;
    }
    renewer_->cv.notify_all();
    if (renewer_->thread.joinable()) renewer_->thread.join();
    renewer_.reset();
  }
  if (!root_) return;
  try {
    root_->store().remove(std::vector<std::string>{root_->key() + "/" + kLeaseName});
  } catch (...) {
    // An unreleased lease expires; the next run says so.
  }
  root_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// No journal on an object store: the local journal exists because removing a directory makes its
// mtime our own, so a rerun would see it young. Here nothing has a directory mtime: a pruned chk-N
// whose `_metadata` went in phase 1 is an incomplete prefix whose objects keep their old
// LastModified, and released pool objects are unreferenced and old, so a rerun removes them.

ApplyResult apply_store_plan(const PlanRun& run, StoreRoot& root, const std::vector<snapshot::PathMapping>& user_maps,
                             const util::ProgressFn& progress) {
  ApplyResult result;
  const Plan& plan = run.plan;
  if (plan.deletions.empty()) return result;
  // Re-check: one fresh listing.
  std::vector<storage::ObjectInfo> now = list_root(root);
  std::unordered_map<std::string, const storage::ObjectInfo*> by_key;
  for (const auto& o : now) by_key.emplace(o.key, &o);
  std::unordered_set<std::string> deleting;
  for (const auto& d : plan.deletions) deleting.insert(d.entry.path);
  std::unordered_map<std::string, const snapshot::GraphSnapshot*> known;
  for (const auto& s : run.graph.snapshots) known.emplace(s.loc.metadata.native(), &s);
  std::vector<snapshot::PathMapping> maps = root.mappings();
  maps.insert(maps.end(), user_maps.begin(), user_maps.end());
  for (const auto& o : now) {
    if (name_of(o.key) != snapshot::kMetadataFileName || !plain_key(o.key)) continue;
    const std::string v = root.virtual_path(o.key);
    if (deleting.count(v)) continue;  // a pruned snapshot's own `_metadata`
    auto it = known.find(v);
    if (it != known.end() && it->second->mtime_ns == o.modified_unix_ns &&
        it->second->metadata_bytes == static_cast<int64_t>(o.size)) {
      continue;  // unchanged since planning
    }
    // New or rewritten since planning: it must not use what the plan deletes.
    std::string why;
    try {
      flink::Metadata md = flink::parse_metadata(root.store().read(o.key, kMaxMetadataBytes), root.display(v));
      const fs::path dir = fs::path(v).parent_path();
      snapshot::visit_file_refs(md, dir, maps, [&](snapshot::FileRefView& f) {
        if (why.empty() && f.kind == snapshot::ResolvedPath::Kind::kLocal && deleting.count(f.local)) {
          why = root.display(f.local);
        }
      });
    } catch (const std::exception& e) {
      why = std::string("cannot read it: ") + e.what();
    }
    if (!why.empty()) {
      throw util::Error(util::ErrorKind::kRefused, root.display(v) + ": appeared or changed since planning and uses " +
                                                       why + ", which the plan deletes; nothing deleted (run again)");
    }
  }

  const char* crash_env = std::getenv("CKPT_TEST_CRASH_AFTER");
  const int64_t crash_after = crash_env ? std::strtoll(crash_env, nullptr, 10) : 0;
  int64_t done = 0;
  uint64_t attempted = 0, to_attempt = 0;
  // Slices of 8 DeleteObjects batches (S3Store::remove sends a slice's batches in parallel), for
  // progress between them; with the crash hook, slices ending exactly at the N-th deletion.
  constexpr size_t kSlice = 8'000;
  auto remove_some = [&](const std::vector<size_t>& idx, std::vector<char>& ok) {
    size_t from = 0;
    while (from < idx.size()) {
      size_t to = std::min(idx.size(), from + kSlice);
      if (crash_after > 0 && done < crash_after) to = std::min(to, from + static_cast<size_t>(crash_after - done));
      std::vector<std::string> keys;
      for (size_t k = from; k < to; ++k) keys.push_back(*root.key_of(plan.deletions[idx[k]].entry.path));
      std::vector<storage::DeleteFailure> failed = root.store().remove(keys);
      std::unordered_map<std::string, std::string> why;
      for (auto& f : failed) why.emplace(f.key, f.reason);
      for (size_t k = from; k < to; ++k) {
        const Deletion& d = plan.deletions[idx[k]];
        auto w = why.find(keys[k - from]);
        if (w != why.end()) {
          result.failures.push_back({root.display(d.entry.path), w->second});
          continue;
        }
        ok[idx[k]] = 1;
        ++done;
        result.files_deleted++;
        util::sat_accumulate(result.bytes_freed, d.entry.size);
      }
      if (crash_after > 0 && done >= crash_after) ::kill(::getpid(), SIGKILL);
      attempted += to - from;
      if (progress) progress(attempted, to_attempt);
      from = to;
    }
  };
  std::vector<char> ok(plan.deletions.size(), 0);
  std::vector<size_t> phase1, phase2;
  for (size_t i = 0; i < plan.deletions.size(); ++i) {
    const Deletion& d = plan.deletions[i];
    if (d.entry.type != FsEntry::Type::kFile) continue;  // no directories on an object store
    auto key = root.key_of(d.entry.path);
    if (!key || !(*key).starts_with(root.key() + "/")) {
      throw util::Error(util::ErrorKind::kInternal, "plan would delete outside the root: " + d.entry.path);
    }
    auto it = by_key.find(*key);
    if (it == by_key.end()) {
      ok[i] = 1;  // already gone: a rerun, or its job deleted it
      continue;
    }
    if (static_cast<int64_t>(it->second->size) != d.entry.size || it->second->modified_unix_ns != d.entry.mtime_ns) {
      result.failures.push_back({root.display(d.entry.path), "changed since planning"});
      continue;
    }
    (d.reason == DeleteReason::kPrunedMetadata ? phase1 : phase2).push_back(i);
  }
  // Phase 1: the pruned snapshots' `_metadata`, waited for before anything else.
  to_attempt = phase1.size() + phase2.size();
  remove_some(phase1, ok);
  std::vector<size_t> go;
  for (size_t i : phase2) {
    const Deletion& d = plan.deletions[i];
    bool ready = true;
    for (uint32_t a : d.after) ready = ready && ok[a];
    if (!ready) {
      result.failures.push_back({root.display(d.entry.path), "prerequisite failed (its snapshot's _metadata stays)"});
      continue;
    }
    go.push_back(i);
  }
  remove_some(go, ok);
  return result;
}

}  // namespace ckpt::ops
