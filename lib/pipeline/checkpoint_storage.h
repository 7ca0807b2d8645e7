// Where snapshot bytes go: Flink's JobManagerCheckpointStorage (everything inline in `_metadata`,
// limited by a max state size) and FileSystemCheckpointStorage (files in chk-N/, inline below the
// memory threshold), with Flink's directory layout (spec §12): <dir>/<job-id>/chk-N/, shared/,
// taskowned/, and savepoint-<6 hex of job id>-<12 hex>/.
//
// Tasks persist their chunks through a SnapshotLocation and get back PersistedStream values that
// do not depend on any Metadata; the coordinator turns them into handles when it assembles the
// `_metadata`. State files are written and fsynced before the task acknowledges; `_metadata` is
// written last and atomically, so a chk-N without `_metadata` is simply incomplete.
//
// The checkpoint and savepoint directories may be object-store URIs (s3://bucket/prefix): the
// same layout is then written as objects (storage/object_store.h), each state file one atomic
// PUT, `_metadata` last with a conditional write (never over an existing one). There are no
// directories to create, and no job lock: the lock is a local flock(2), and on a store the grace
// period alone protects a running job's files from prune and gc (ckpt-gc(1)).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pipeline/config.h"
#include "snapshot/job_lock.h"
#include "storage/object_store.h"
#include "util/error.h"

namespace ckpt::pipeline {

// A checkpoint that cannot be taken (state too large for jobmanager storage, an I/O error...).
class CheckpointFailure : public util::Error {
 public:
  explicit CheckpointFailure(const std::string& message) : util::Error(util::ErrorKind::kIo, message) {}
};

struct PersistedStream {
  enum class Kind : uint8_t { kNone, kInline, kFile, kAbsoluteFile };
  Kind kind = Kind::kNone;
  // kInline: handle name; kFile: file name relative to the snapshot directory; kAbsoluteFile:
  // Flink path "file:/..." (shared files, tag 2)
  std::string name;
  std::string data;  // kInline: the bytes
  int64_t size = 0;  // bytes
};

struct SnapshotLocation {
  std::filesystem::path dir;  // chk-N or savepoint directory (a URI in a store); empty: in memory only
  std::shared_ptr<storage::ObjectStore> store;  // set when `dir` is in an object store
  std::string key;                              // then: the key of `dir` (no trailing slash)
  bool savepoint = false;
  bool inline_only = false;  // jobmanager storage
  int64_t memory_threshold = 0;
  int64_t max_inline_size = 0;  // jobmanager storage: max state size
  int64_t write_buffer_size = 4096;
};

class CheckpointStorage {
 public:
  CheckpointStorage(const PipelineConfig& config, std::string job_id);

  const std::string& job_id() const { return job_id_; }
  // <checkpoints dir>/<job id> (a URI in an object store); empty when checkpoints are kept in
  // memory only.
  const std::filesystem::path& job_dir() const { return job_dir_; }
  // The object store the job directory is in; nullptr on local disk.
  const std::shared_ptr<storage::ObjectStore>& store() const { return store_; }

  // Creates the job directory with shared/ and taskowned/ (filesystem storage, or jobmanager
  // storage with a checkpoint directory, which writes `_metadata` files only), and holds its job
  // lock (snapshot/job_lock.h: prune and gc refuse a grace shorter than the checkpoint timeout
  // while this storage lives). Throws io::IoError when another job holds the directory.
  void initialize();

  SnapshotLocation checkpoint_location(int64_t checkpoint_id) const;  // creates chk-N/
  // Creates savepoint-<6>-<12>/ under `target` (or state.savepoints.dir). Throws
  // CheckpointFailure when neither is set.
  SnapshotLocation savepoint_location(const std::filesystem::path& target) const;

  // Removes a snapshot directory (failed, subsumed or discarded checkpoints); best effort.
  static void discard(const SnapshotLocation& loc);

 private:
  PipelineConfig config_;
  std::string job_id_;
  std::filesystem::path job_dir_;
  std::shared_ptr<storage::ObjectStore> store_;
  std::string job_key_;
  std::optional<snapshot::JobLock> lock_;
};

// Persists one chunk: nothing for 0 bytes, inline at or below the threshold (jobmanager: up to
// the max state size, else CheckpointFailure naming `what`), else a new file named by a random
// UUID, written in write-buffer-size pieces and fsynced.
PersistedStream persist(const SnapshotLocation& loc, std::string_view bytes, std::string_view what);

// persist() of the whole file `source` (a RocksDB file of a local checkpoint): inline when it is
// small enough, else copied into a new UUID-named file with copy_file_range(2) and fsynced. The
// bytes never pass through user space, so write-buffer-size (a stream buffer) does not apply.
PersistedStream persist_file(const SnapshotLocation& loc, const std::filesystem::path& source, std::string_view what);

// Writes `_metadata` atomically (temp file, fsync, rename, fsync dir; in a store one conditional
// PUT), never over an existing one.
void write_metadata_file(const SnapshotLocation& loc, std::string_view bytes);

// The location of the job's shared/ directory beside the checkpoint directory `loc`.
SnapshotLocation shared_location(const SnapshotLocation& loc);

// The Flink path of file `name` in `loc`: "file:/abs/dir/name", or the object's URI.
std::string absolute_file_name(const SnapshotLocation& loc, std::string_view name);

// The object store a checkpoint or savepoint directory `dir` names, with its key (no trailing
// slash); nullptr for a local directory. Throws util::Error (kUsage) for missing credentials.
std::shared_ptr<storage::ObjectStore> open_snapshot_store(const std::string& dir,
                                                          const std::map<std::string, std::string>& settings,
                                                          std::string& key);

// A new random job id / savepoint suffix (lowercase hex of `chars` digits).
std::string random_hex(int chars);

}  // namespace ckpt::pipeline
