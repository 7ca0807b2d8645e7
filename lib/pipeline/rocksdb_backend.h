// The RocksDB keyed state backend of the bundled pipeline (Flink's EmbeddedRocksDBStateBackend,
// reduced to Long value states): one real rocksdb::DB per operator subtask in a private working
// directory, one column family per declared state (named by the state), keys in Flink's layout
// (spec §14.3: key-group prefix of 1 byte for max parallelism <= 128 else 2, the key as
// StringSerializer, the namespace as VoidNamespace / TimeWindow), values as LongSerializer
// (8 bytes BE). The WAL is off, as in Flink: durability comes from checkpoints only. Table files
// have bloom filters (Flink's state.backend.rocksdb.use-bloom-filter): the cache below sends
// mostly reads of absent keys to RocksDB.
//
// Timers stay on the heap (Flink's `state.backend.rocksdb.timer-service.factory: HEAP`): the job
// has at most a few timers per key and window, which a heap queue polls far cheaper than a
// RocksDB column family, and keeping them on the heap reuses the hashmap backend's queue as is.
// As in Flink with heap timers, checkpoints write them as RAW keyed state (a key-grouped tag 12
// handle beside the tag 11 handle); canonical savepoints write them with the values (tag 7).
//
// Snapshots:
//  * checkpoints are native (spec §6.2, §12.3): the DB is flushed and a rocksdb::Checkpoint (hard
//    links) taken synchronously; the asynchronous part persists it:
//      - incremental: every `.sst` not referenced by the last COMPLETED checkpoint is uploaded
//        once to <job dir>/shared/<uuid> (tag 2, or inline below the memory threshold) and
//        listed as shared state; `.sst` files that checkpoint referenced are listed again with
//        the same handle (Flink 1.20 replaces its placeholders with the registered handle before
//        writing `_metadata`, so the same absolute path appears in several checkpoints);
//        MANIFEST, CURRENT and OPTIONS are private state, also in shared/. checkpointedSize =
//        meta + newly uploaded bytes.
//      - full (incremental off, Flink >= 1.16 "native full"): shared list empty, every file
//        private in chk-N/ (tag 6, or inline), checkpointedSize = meta + all files.
//    The meta file is the header of a pipeline keyed snapshot (formats/pipeline-state-format.md:
//    the state names and kinds), in chk-N/.
//    After a restore the first checkpoint reuses nothing (uploads everything): the restored
//    snapshot may be one this job does not own (NO_CLAIM), as Flink forces a full first
//    checkpoint in NO_CLAIM mode.
//  * canonical savepoints: KeyedStateBackend::snapshot, the key-grouped format of the hashmap
//    backend (tag 7), so that any backend restores them;
//  * native savepoints (`ckpt savepoint --type native`): the checkpoint's tag 11 handle, self-
//    contained (Flink's NO_SHARING): nothing reused from checkpoints, no base for later ones,
//    every file written into the savepoint directory (tag 6 relative, or inline), `.sst` files
//    in the shared list when incremental (else all private), as Flink's strategies do.
//  * local recovery (pipeline/local_state_store.h): with `local_snapshot_dir` set, a checkpoint's
//    RocksDB native checkpoint is made in that directory and kept after it is persisted.
//
// State access goes through a bounded write-back cache per state (write_back_cache.h): a read
// misses into a RocksDB Get once per key, writes stay in the cache until it is full (then every
// change goes into the database in one WriteBatch and the cache is emptied) or until something
// reads the database as a whole: a checkpoint's synchronous part (before the flush and the
// rocksdb::Checkpoint), a canonical snapshot, num_entries(), a restore. So the database at a
// barrier holds exactly the state the operator has at that barrier, as Flink's would, and the
// checkpoint files are the ones Flink would write (formats/pipeline-state-format.md). Only the
// task thread touches the cache; the asynchronous part reads the hard-linked files only. The
// destructor drops unwritten changes: the working directory is deleted with them.
//
// Restore (all pieces of old subtasks overlapping this range at once, as Flink's
// RocksDBIncrementalRestoreOperation): the piece sharing the most key groups is laid out in a
// fresh working directory (rocks/place_db.h: `.sst` hard-linked) and opened as the backend's DB;
// its key groups outside the new range are deleted with DeleteRange on every column family (one
// range per side, bounds are key-group prefixes) and compacted away at once (the rewrite costs
// less than inserting the base's entries, and no table file keeps keys of another subtask). The
// other overlapping pieces are laid out in a
// temporary directory, opened read-only, and the entries of the new range (an iterator bounded
// by the range's prefixes) are inserted. Without rescaling the one piece is the base and nothing
// is deleted.
//
// Working directory: <local dir>/ckpt-rocksdb-<16 hex>/, removed by the destructor (a killed
// process leaves it behind, as Flink does; the name says what it is).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "pipeline/state_backend.h"

namespace ckpt::pipeline {

struct RocksBackendOptions {
  std::filesystem::path local_dir;  // parent of the working directory (state.backend.rocksdb.localdir)
  int32_t max_parallelism = 128;
  bool incremental = false;
  // Entries of the write-back cache per state (write_back_cache.h): about 100 bytes each.
  std::size_t cache_entries = 1 << 17;
  // Local recovery: the directory for checkpoint N's local copy (it must not exist; its parent
  // must). Empty: no local copies.
  std::function<std::filesystem::path(int64_t checkpoint_id, const std::string& backend_id)> local_snapshot_dir;
};

// Throws rocks::RocksError when the database cannot be created.
std::unique_ptr<KeyedStateBackend> make_rocksdb_backend(flink::KeyGroupRange range, const RocksBackendOptions& options);

}  // namespace ckpt::pipeline
