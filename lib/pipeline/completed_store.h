// Retained completed checkpoints (Flink's CompletedCheckpointStore + SharedStateRegistry).
//
// Holds at most `num_retained` checkpoints; adding one more subsumes the oldest. A subsumed
// checkpoint owned by this job loses its chk-N directory, and every shared file it referenced
// loses one reference; shared files with no reference left are deleted. Snapshots restored in
// NO_CLAIM mode are never owned: they are neither registered nor deleted. Savepoints are not
// kept here (they never subsume checkpoints and belong to the user). Shared files are deleted only
// inside the snapshot's root, through no symbolic link (io::ReadScope::unlink): a snapshot
// restored in CLAIM mode cannot make the job delete a file elsewhere. In an object store the same
// order holds (`_metadata` first, then the unreferenced shared objects, then the rest of chk-N),
// and only objects of the snapshot's own bucket under its root prefix are deleted.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flink/model.h"
#include "storage/object_store.h"

namespace ckpt::pipeline {

struct CompletedSnapshot {
  int64_t id = 0;
  bool savepoint = false;
  std::filesystem::path dir;                    // empty: kept in memory only (jobmanager storage without a dir)
  std::shared_ptr<storage::ObjectStore> store;  // set when `dir` is an object-store URI
  std::shared_ptr<const flink::Metadata> metadata;
  bool owned = true;  // false: restored in NO_CLAIM mode
  flink::CheckpointProperties properties;
};

// A snapshot the job reads but does not own (restored in NO_CLAIM mode, or a savepoint it took):
// id, kind and properties as its metadata says.
CompletedSnapshot unowned_snapshot(std::shared_ptr<const flink::Metadata> metadata, std::filesystem::path dir,
                                   std::shared_ptr<storage::ObjectStore> store);

class CompletedCheckpointStore {
 public:
  explicit CompletedCheckpointStore(int num_retained) : num_retained_(num_retained) {}

  // Registers the snapshot's shared files and subsumes beyond num_retained.
  void add(CompletedSnapshot s);
  const CompletedSnapshot* latest() const { return retained_.empty() ? nullptr : &retained_.back(); }
  std::size_t size() const { return retained_.size(); }

  // Job termination whose properties say "discard": deletes every owned retained checkpoint.
  void discard_all();

  // Reference count of a shared file, by its local path or object URI (for tests).
  int references(const std::string& file) const;

 private:
  void release(const CompletedSnapshot& s);
  int num_retained_;
  std::deque<CompletedSnapshot> retained_;
  std::map<std::string, int> shared_refs_;  // local path or object URI -> references
};

}  // namespace ckpt::pipeline
