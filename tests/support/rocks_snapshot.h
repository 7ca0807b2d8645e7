// Real RocksDB databases laid out the way Flink's RocksDB state backend writes them, and
// incremental checkpoints over them made with the writer: for the tests and the benchmark of
// `ckpt materialize` / `ckpt compact` (no fixture has shared files, inline files or many SSTs).
// Uses RocksDB directly, independently of lib/rocks, so that tests can check lib/rocks with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "snapshot/discovery.h"

namespace ckpt::testsupport {

struct FlinkDbSpec {
  int32_t max_parallelism = 128;  // key-group prefix width and key assignment (spec §14)
  int32_t parallelism = 1;
  int32_t subtask = 0;  // keys are drawn from this subtask's key-group range
  int flushes = 6;      // each flush writes one level-0 table file per column family
  int keys_per_flush = 200;
  int key_space = 300;  // distinct keys: later flushes overwrite, delete and append
  int value_bytes = 48;
  uint64_t seed = 1;
};

// Writes a fresh database at `dir` with automatic compactions off and the merge operator Flink
// configures (StringAppendTESTOperator, ','): column families "value-state" (byte[] values of
// value_bytes bytes, BytePrimitiveArraySerializer's encoding; puts, some deleted), "list-state"
// (merge operands: one Long each) and "_timer_state/event_user-timers" (empty values), keys in
// Flink's layout ([key-group prefix][int key][VoidNamespace]). Then takes a RocksDB checkpoint of
// it into `checkpoint_dir` (what Flink uploads) and closes it.
void write_flink_db(const std::filesystem::path& dir, const std::filesystem::path& checkpoint_dir,
                    const FlinkDbSpec& spec);

// The logical contents of a database: column family -> key -> value, merge operands merged.
using DbContents = std::map<std::string, std::map<std::string, std::string>>;

// Opens `dir` read-only with rocksdb::DB::OpenForReadOnly, every column family of
// rocksdb::DB::ListColumnFamilies, default options plus Flink's merge operator (OPTIONS files are
// not read), and iterates every column family. Throws std::runtime_error on failure.
DbContents read_db_contents(const std::filesystem::path& dir);

struct RocksSnapshotSpec {
  int subtasks = 2;
  FlinkDbSpec db;
  int64_t checkpoint_id = 5;
  uint64_t inline_threshold = 0;  // files of at most this many bytes are inlined (tag 1), as Flink does
};

struct RocksSnapshot {
  std::filesystem::path job_dir;
  std::filesystem::path snapshot_dir;              // <job>/chk-<id>
  std::vector<std::filesystem::path> checkpoints;  // per subtask: the RocksDB checkpoint uploaded
  uint64_t rocks_files = 0;
  uint64_t rocks_bytes = 0;
};

// Writes `root`/<job>/chk-<id>/_metadata (version 4, a retained checkpoint) for two operators:
// uid "source" (parallelism 1, operator state in a relative file of chk-N) and uid "rocks"
// (`subtasks` subtasks, each an incremental RocksDB handle over its own real database written by
// write_flink_db: `.sst` files in the shared list, the rest in the private list, all in
// <job>/shared/<uuid> as absolute `file:` paths unless inlined; the meta file relative in
// chk-N: Flink's keyed backend proxy declaring those three states, so that `ckpt state` decodes
// every entry). The databases and their checkpoints are kept under `root`/dbs/.
RocksSnapshot write_rocks_snapshot(const std::filesystem::path& root, const RocksSnapshotSpec& spec);

// Every regular file under `dir` (relative path -> "size xxh64"), to check that an input was
// not modified.
std::map<std::string, std::string> tree_fingerprint(const std::filesystem::path& dir);

// The snapshots under `root` (snapshot::discover) whose `_metadata` parses and holds at least one
// managed keyed RocksDB incremental / native handle (tags 5, 11), sorted by path.
std::vector<snapshot::Location> snapshots_with_rocks_handles(const std::filesystem::path& root);

}  // namespace ckpt::testsupport
