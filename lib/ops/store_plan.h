// prune and gc on an object-store root (s3://bucket/prefix): the same planner (deletion_plan.h)
// over one full listing of the root prefix, and an executor that deletes through the store.
//
// Contract:
//  * Objects are files at a virtual absolute path (`/.ckpt-object-store/<bucket>/<key>`), so the
//    planner, the reference graph and the inventory keep their local rules unchanged. Handles
//    naming the bucket by s3://, s3a:// or s3p:// reach the same objects (internal mappings); a
//    handle into another bucket stays unmapped, which the planner refuses (nothing deleted).
//  * One listing: the inventory, discovery, the identities and every stat the plan makes come
//    from one full listing of `<root>/` (a failed or truncated listing throws: nothing deleted).
//    A reference inside the bucket but outside the root is looked up with one HEAD.
//  * There are no directories: a prefix is complete as a checkpoint only when its `_metadata`
//    object exists; the plan holds no directory deletions and no journal.
//  * Apply: the root is re-listed first; a snapshot that appeared or changed since planning and
//    references an object the plan deletes refuses the whole apply. Phase 1 deletes the pruned
//    snapshots' `_metadata` in one DeleteObjects batch and waits; phase 2 deletes the rest whose
//    prerequisites succeeded (S3Store::remove: batches of 1000 in parallel). Objects changed
//    since planning (size or LastModified) are skipped and reported.
//  * Exclusive: a lease object `<root>/.ckpt-gc.lease` written with If-None-Match: *.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ops/deletion_plan.h"
#include "ops/plan_executor.h"
#include "ops/root_summary.h"
#include "storage/open_store.h"
#include "util/progress.h"

namespace ckpt::ops {

// Where an object-store root lives and how its objects are spelled as virtual paths and URIs.
class StoreRoot {
 public:
  // Throws util::Error (kUsage) for a malformed URI or missing credentials.
  StoreRoot(std::string_view uri, const std::map<std::string, std::string>& config);
  // An opened store (tests give an in-memory one); `opened.uri` must be set.
  explicit StoreRoot(storage::OpenedStore opened);

  storage::ObjectStore& store() { return *opened_.store; }
  const std::string& key() const { return key_; }  // the root prefix, without a trailing '/'
  const std::string& virtual_root() const { return vroot_; }
  std::string uri() const;  // the root as the user wrote it (scheme kept), normalised
  bool same_bucket(const storage::ObjectUri& u) const;

  std::string virtual_path(std::string_view key) const;                    // of an object key
  std::optional<std::string> key_of(std::string_view virtual_path) const;  // nullopt outside the bucket
  std::string display(std::string_view virtual_path) const;                // "s3://bucket/key"; other paths as they are
  // s3/s3a/s3p (or gs) of this bucket -> the virtual bucket directory.
  std::vector<snapshot::PathMapping> mappings() const;
  // Another client of the same store, for a second thread (a client serves one thread at a
  // time); nullptr when the root was given as an opened store.
  std::unique_ptr<storage::ObjectStore> another_client() const;
  // The store's cache of `_metadata` objects (storage/object_cache.h); may be null.
  std::shared_ptr<storage::ObjectCache> cache() const { return opened_.cache; }

 private:
  storage::OpenedStore opened_;
  std::optional<std::map<std::string, std::string>> config_;  // set when opened from a URI
  std::string scheme_, bucket_, key_, vbucket_, vroot_;
};

// The Inventory of a listing under `root.key() + "/"` (sorted by key), as scan_root builds one
// for a directory: job prefixes, their pools, incomplete chk-N prefixes, snapshot prefixes.
Inventory inventory_of_listing(const StoreRoot& root, const std::vector<storage::ObjectInfo>& objects);

// A PlanFs over a listing (sorted by key): lstat/stat find the object, list_tree a prefix range;
// a path in the bucket outside the listed root is asked for with stat (HEAD).
class ListingFs final : public PlanFs {
 public:
  ListingFs(StoreRoot& root, const std::vector<storage::ObjectInfo>& objects);
  std::optional<FsEntry> lstat(const std::string& path) const override;
  std::optional<FsEntry> stat(const std::string& path) const override { return lstat(path); }
  Tree list_tree(const std::filesystem::path& dir) const override;
  bool directories() const override { return false; }

 private:
  StoreRoot& root_;
  std::vector<FsEntry> entries_;  // sorted by path
};

struct StorePlanRequest {
  std::vector<std::string> protect;             // --protect: prefixes of the same bucket (URIs)
  std::vector<snapshot::PathMapping> mappings;  // --map (after the bucket's own)
  PlanOptions options;
};

// The whole planning pass on a store root: listing, inventory, graph, refusals (re-gathered like
// plan_root), plan. Throws util::Error when the listing fails (nothing planned).
PlanRun plan_store_root(StoreRoot& root, const StorePlanRequest& request,
                        const std::function<Decisions(const snapshot::ReferenceGraph&)>& decide);

// `inspect --summary` and `--who-uses` on a store root: the reference graph plan_store_root
// decides on, from one listing and every `_metadata` under it, and the summary of the root's
// objects by what uses them (ops/root_summary.h). Paths are virtual (StoreRoot::display names
// them). Throws util::Error when the listing fails.
snapshot::ReferenceGraph store_reference_graph(StoreRoot& root, const std::vector<snapshot::PathMapping>& mappings);
RootSummary summarise_store_root(StoreRoot& root, const std::vector<snapshot::PathMapping>& mappings);

// `--explain FILE` on a store root: ops::explain over `run` (from plan_store_root), the users'
// `_metadata` read again from the store. `file`: a URI of the root's bucket (any of its schemes)
// or a path under one of `mappings` (--map); nullopt when it is neither. Paths in the result are
// virtual (StoreRoot::display names them).
std::optional<Explanation> explain_store(const PlanRun& run, StoreRoot& root, const std::string& file,
                                         const std::vector<snapshot::PathMapping>& mappings);

// The lease of a root for the lifetime of the object (released by release() or the destructor).
// While held it is renewed: every third of `ttl_s` a second client rewrites its expiry (when it
// still names this run), so a long apply keeps it however long it takes, and a run that died on
// another host blocks others for at most `ttl_s`.
class StoreLease {
 public:
  // nullopt (and `holder` describing the live lease) when another run holds it. A lease that has
  // expired, or that a process of this host holds which no longer exists (a killed run), is
  // taken over; `taken_over` (when given) then says whose it was, else it stays empty.
  static std::optional<StoreLease> try_acquire(StoreRoot& root, const std::string& command, int64_t ttl_s,
                                               std::string& holder, std::string* taken_over = nullptr);
  StoreLease(StoreLease&& o) noexcept;
  StoreLease& operator=(StoreLease&& o) noexcept;
  StoreLease(const StoreLease&) = delete;
  ~StoreLease();
  void release() noexcept;

 private:
  struct Renewer;
  StoreLease(StoreRoot* root, std::string key, std::string owner_lines, int64_t ttl_s);
  StoreRoot* root_ = nullptr;
  std::unique_ptr<Renewer> renewer_;
};

inline constexpr const char* kLeaseName = ".ckpt-gc.lease";

// Applies `plan` (from plan_store_root on `root`). Throws util::Error (kRefused) when the re-check
// finds a new or changed snapshot that uses an object the plan deletes: nothing deleted then.
// Test hook CKPT_TEST_CRASH_AFTER=N as in plan_executor.h.
ApplyResult apply_store_plan(const PlanRun& run, StoreRoot& root, const std::vector<snapshot::PathMapping>& mappings,
                             const util::ProgressFn& progress = {});

}  // namespace ckpt::ops
