// The deletion plan shared by `ckpt gc` and `ckpt prune`: given which snapshots stay, what may go.
//
// Rules (each one is a test in tests/unit/test_deletion_plan.cpp):
//  * A file is never deleted while any kept snapshot (including every snapshot under a --protect
//    directory, every savepoint not explicitly pruned, and every snapshot outside a job layout)
//    references it, by path or by identity (device + inode: a referenced path that reaches the
//    file through a symbolic link or another spelling of the root still protects it).
//  * Only these are ever deleted, and only when older than the grace period: the `_metadata` of a
//    pruned snapshot and the unreferenced files and directories of its directory; unreferenced
//    files in a job's `shared/` and `taskowned/`; incomplete `chk-N` directories. Directories an
//    interrupted apply journaled are finished regardless of grace (their mtime is our own unlink).
//  * Nothing outside the root, no symbolic link, nothing that is not a regular file or directory.
//  * Pool sub-directories (file-merging) are never removed: a running job writes into them.
//  * Order (crash safety): phase 1 the pruned snapshots' `_metadata` (so none can be restored from
//    half-deleted), phase 2 files, each listing the phase-1 deletions it depends on, phase 3
//    directories, deepest first.
//  * A pruned snapshot whose directory cannot be listed completely, or holds a nested snapshot,
//    is kept instead (rule "unsafe-directory"): the plan never deletes what it has not seen.
//  * No checkpoint is pruned while a lower-id checkpoint of its job is kept, by any rule (then it
//    is kept with kNewer).
//  * With skip_unreadable, an unreadable snapshot is kept and its job's pools are kept whole:
//    its references are unknown.
//  * Fail closed: when a kept snapshot references a file that is missing or shorter than
//    recorded, the plan deletes nothing (Plan::withheld counts what it held back). Only with
//    allow_missing do the other deletions go ahead, and even then no file whose name (last path
//    component) is the name of a missing reference is deleted.
//  * Moved or copied directories: a kept checkpoint's reference that lies outside its job
//    directory but whose layout (<job>/shared/<name>, <job>/taskowned/<name>, <job>/chk-N/<name>)
//    names a file under the checkpoint's own job directory marks a moved prefix (Plan::moved);
//    every file a kept reference reaches through a moved prefix is protected.
//  * A kept snapshot whose `_metadata` is gone by the time its missing files are checked was
//    retired by its job while the plan was made: its references are no longer needed, and its
//    files are not reported as missing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/root_inventory.h"
#include "snapshot/file_refs.h"
#include "snapshot/reference_graph.h"

namespace ckpt::ops {

// Why a snapshot is kept; a bit set, since several rules may keep one snapshot.
namespace keep_rule {
inline constexpr uint32_t kLast = 1u << 0;        // --retain N
inline constexpr uint32_t kWithin = 1u << 1;      // --keep-within
inline constexpr uint32_t kHourly = 1u << 2;      // --keep-hourly
inline constexpr uint32_t kDaily = 1u << 3;       // --keep-daily
inline constexpr uint32_t kSavepoint = 1u << 4;   // savepoints stay without --include-savepoints
inline constexpr uint32_t kProtected = 1u << 5;   // under a --protect directory
inline constexpr uint32_t kGrace = 1u << 6;       // `_metadata` younger than the grace period
inline constexpr uint32_t kUnmanaged = 1u << 7;   // not a chk-N directory of a job
inline constexpr uint32_t kUnreadable = 1u << 8;  // `_metadata` unreadable (with skip_unreadable)
inline constexpr uint32_t kUnsafeDir = 1u << 9;   // its directory could not be listed safely
inline constexpr uint32_t kGc = 1u << 10;         // gc keeps every complete snapshot
inline constexpr uint32_t kNewer = 1u << 11;      // a lower-id checkpoint of its job is kept
}  // namespace keep_rule

// "retain", "keep-within", ..., joined by ", ".
std::string describe_rules(uint32_t rules);

enum class DeleteReason : uint8_t {
  kPrunedMetadata,  // phase 1: the `_metadata` of a pruned snapshot
  kPrunedFile,      // a file in a pruned snapshot's directory
  kReleased,        // a pool file only pruned snapshots used (its reference count fell to zero)
  kOrphan,          // a pool file no snapshot uses
  kIncomplete,      // a file of an incomplete chk-N directory
  kDirectory,       // a directory emptied by the plan
};
std::string_view reason_name(DeleteReason r);  // "pruned-metadata", "released", ...

struct Deletion {
  FsEntry entry;  // as seen when planning; re-checked before deleting
  DeleteReason reason = DeleteReason::kOrphan;
  std::vector<uint32_t> after;  // indices of phase-1 deletions that must have succeeded
  std::vector<uint32_t> users;  // kReleased / kPrunedMetadata: the pruned snapshot(s) concerned
};

using Deletions = std::vector<Deletion, util::LargeAllocator<Deletion>>;

struct SnapshotDecision {
  uint32_t snapshot = 0;  // index into the graph
  std::string group;      // the job (or savepoint group) the policy ranked it in
  bool keep = true;
  uint32_t rules = 0;  // keep_rule bits (0 when pruned)
};

// What a policy (prune's retention, gc's keep-all) decided, one entry per graph snapshot in graph
// order, and what the user should hear about how it decided.
struct Decisions {
  std::vector<SnapshotDecision> snapshots;
  std::vector<std::string> warnings;  // e.g. checkpoint times that contradict their ids
};

// One checkpoint as the rule "no checkpoint is pruned above a kept id" sees it.
struct IdRanked {
  std::string_view group;  // its job
  int64_t id = 0;          // its checkpoint id
  bool kept = false;
};

// The rule, in one place for prune's policy (apply_policy) and the plan (make_plan): the indices
// of the entries that are not kept while a lower-id entry of their group is (to keep, as kNewer).
std::vector<size_t> newer_than_kept(const std::vector<IdRanked>& entries);

struct MissingFile {
  std::filesystem::path path;
  int64_t recorded_size = -1;
  int64_t actual_size = -1;     // -1: missing; else smaller than recorded
  std::vector<uint32_t> users;  // kept snapshots that reference it
};

// A directory that was moved or copied: kept checkpoints reference files under `from` that sit
// under `to` (absolute, normal local paths).
struct MovedPrefix {
  std::string from;
  std::string to;
  int64_t files = 0;    // distinct referenced files found under `to`
  int64_t missing = 0;  // of those, how many no longer exist under `from`
};

// "ckpt convert --relocate FROM=TO --in-place ROOT": what rewrites the references of `m`.
std::string relocation_command(const MovedPrefix& m, const std::filesystem::path& root);

struct Plan {
  std::filesystem::path root;
  std::vector<SnapshotDecision> snapshots;  // every snapshot of the graph, in graph order
  Deletions deletions;                      // phase order: metadata, files, directories
  std::vector<FsEntry> journal;             // directories the apply removes (journaled first)
  std::vector<MissingFile> missing;         // referenced by a kept snapshot, absent or short
  std::vector<MovedPrefix> moved;           // references that point into a moved or copied directory
  int64_t withheld = 0;                     // deletions held back because of `missing` (fail closed)
  std::vector<FsEntry> young;               // unreferenced, but younger than the grace period
  std::vector<FsEntry> left;                // unreferenced, but left alone (symbolic links, ...)
  std::vector<std::string> warnings;
  int64_t bytes_freed = 0;
  int64_t files_deleted = 0, dirs_deleted = 0;
};

// The file-system touches of planning, behind one seam: the local file system (the default,
// lstat/stat and list_tree through O_NOFOLLOW descriptors) or an object store's listing
// (ops/store_plan.h), whose objects are files under a virtual absolute path and has no
// directories. Paths are absolute and normal, as the graph and inventory spell them.
class PlanFs {
 public:
  virtual ~PlanFs() = default;
  // The entry itself (a symbolic link is not followed); nullopt when absent (errno set).
  virtual std::optional<FsEntry> lstat(const std::string& path) const = 0;
  // Following symbolic links; nullopt when absent or unreachable (errno set).
  virtual std::optional<FsEntry> stat(const std::string& path) const = 0;
  virtual Tree list_tree(const std::filesystem::path& dir) const = 0;
  // False on an object store: a "directory" is a prefix, nothing to remove or journal, and no
  // `ckpt run` job lock to read.
  virtual bool directories() const = 0;
};

// The local file system.
const PlanFs& local_fs();

struct PlanOptions {
  int64_t now_ns = 0;
  int64_t grace_ns = 3600LL * 1000000000;
  bool skip_unreadable = false;
  bool allow_missing = false;  // --allow-missing: delete the rest although kept references are missing
  unsigned threads = 2;        // for listing pruned directories (0 = one per core)
  const PlanFs* fs = nullptr;  // nullptr: local_fs()
};

// Why a graph or inventory cannot be planned on (fail closed): one line per reason. Empty when
// planning may proceed. Unreadable snapshots are listed unless options.skip_unreadable.
std::vector<std::string> refusals(const snapshot::ReferenceGraph& g, const Inventory& inv, const PlanOptions& options);

// The plan, given a decision per graph snapshot (same order as g.snapshots). Decisions of
// snapshots under --protect, of unreadable snapshots and of snapshots whose directory is unsafe
// are forced to keep. Pure apart from lstat/stat of referenced files (missing-file report and
// identity protection).
Plan make_plan(const snapshot::ReferenceGraph& g, const Inventory& inv, Decisions decisions,
               const PlanOptions& options);

// gc: every complete snapshot is kept.
Decisions keep_all(const snapshot::ReferenceGraph& g);

// The group a checkpoint is ranked in: its job directory; a savepoint's parent directory plus
// the job-id prefix of its name; a snapshot outside both, its own directory.
std::string group_of(const snapshot::GraphSnapshot& s);

// ---------------------------------------------------------------------------------------------
// The whole planning pass both commands share: checks on the root, the reference graph over the
// root and every --protect directory, the inventory, the refusals, and (when there are none)
// the plan for the decisions `decide` returns.

struct PlanRequest {
  std::filesystem::path root;                   // as given
  std::vector<std::filesystem::path> protect;   // --protect
  std::vector<snapshot::PathMapping> mappings;  // --map
  PlanOptions options;                          // options.threads also parse the `_metadata` files
};

struct PlanRun {
  snapshot::ReferenceGraph graph;
  Inventory inventory;
  std::vector<std::string> refusals;  // non-empty: no plan (exit 2)
  Plan plan;
};

// The root as prune and gc use it (absolute, normal). Throws io::IoError when it is not a
// directory, is a symbolic link, or is itself a snapshot directory.
std::filesystem::path checked_root(const std::filesystem::path& given);

// Everything but the plan: the reference graph (over the root and every --protect directory)
// and the inventory, built at once, and the refusals. Throws io::IoError (exit 2) when the root is
// not a directory, is a symbolic link, is itself a snapshot directory, or a --protect directory
// cannot be listed.
PlanRun gather_root(const PlanRequest& request);

// gather_root, then (when nothing refuses) the plan for `decide`'s decisions. Refusals are
// re-checked by gathering again (up to three times, 100-400 ms apart; the same refusals twice in a
// row are final) before they are reported: on a live job they are mostly a checkpoint completing
// or being retired during the read.
PlanRun plan_root(const PlanRequest& request, const std::function<Decisions(const snapshot::ReferenceGraph&)>& decide);

// `--explain FILE`: who uses it, and what the plan does with it.
struct FileUse {
  uint32_t snapshot = 0;
  snapshot::FileRef ref;    // one handle (operator, subtask, role, form, size); its views are cleared
  std::string operator_id;  // 32 hex
  std::string local_name;   // RocksDB file name, when any
};
struct Explanation {
  std::filesystem::path path;
  std::optional<uint32_t> file;  // graph node, when referenced
  std::vector<FileUse> uses;     // every handle of every snapshot that references it
  std::string verdict;           // "kept", "deleted (orphan)", "younger than grace", ...
};
// `read`: how a user's `_metadata` is read again (empty: from the local file; an object-store
// root's reader, ops/store_plan.h).
Explanation explain(const PlanRun& run, const std::filesystem::path& file,
                    const std::vector<snapshot::PathMapping>& mappings, const snapshot::MetadataReader& read = {});

}  // namespace ckpt::ops
