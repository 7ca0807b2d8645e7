// Configuration of the bundled pipeline, read the way Flink reads it: a config.yaml (nested or
// flat keys, io/flink_config.h) plus `-D key=value` overrides (later wins), each option under
// Flink 2.x's current key (`execution.checkpointing.dir`, ...) or its deprecated keys
// (`state.checkpoints.dir`, ...).
//
// Contract:
//  * raw_config_of() takes the entries of a configuration file (io::read_flink_config), each with
//    its origin "file:line".
//  * resolve_config() maps deprecated keys to their option; when an option is given under two of
//    its keys, the current key wins (as in Flink), with a warning if the values differ. It
//    validates every value with its type
//    (duration, memory size, integer, boolean, enum) and returns typed settings. An invalid value
//    is a ConfigError whose message names the key as the user wrote it. Unknown keys do not fail:
//    they are returned in `warnings` (Flink logs and ignores them too).
//  * Legacy backend names (seed table): `MemoryStateBackend`/`jobmanager` = hashmap backend +
//    jobmanager storage; `FsStateBackend`/`filesystem` = hashmap + filesystem storage;
//    `RocksDBStateBackend` = rocksdb + filesystem storage (the seed's third row repeats
//    "MemoryStateBackend" by mistake; Flink maps the RocksDB legacy class this way).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "flink/checkpoint_properties.h"
#include "io/flink_config.h"
#include "pipeline/restart_strategy.h"
#include "util/error.h"

namespace ckpt::pipeline {

class ConfigError : public util::Error {
 public:
  explicit ConfigError(const std::string& message) : util::Error(util::ErrorKind::kUsage, message) {}
};

// One raw setting, with where it came from (for messages).
struct RawSetting {
  std::string value;
  std::string origin;  // "config.yaml:12" or "-D"
};
using RawConfig = std::map<std::string, RawSetting>;

// The entries of a configuration file; `label` (the file's name) goes into their origins.
RawConfig raw_config_of(const io::FlinkConfig& file, std::string_view label);

// Applies one "-D key=value" override. Throws ConfigError when there is no '='.
void apply_override(RawConfig& raw, std::string_view key_equals_value);

enum class CheckpointingMode { kExactlyOnce, kAtLeastOnce };
enum class StorageKind { kJobManager, kFileSystem };
enum class BackendKind { kHashMap, kRocksDB };
enum class ClaimMode { kNoClaim, kClaim };

struct PipelineConfig {
  // Checkpointing.
  std::optional<int64_t> interval_ms;  // nullopt: periodic checkpoints off (Flink's default)
  CheckpointingMode mode = CheckpointingMode::kExactlyOnce;
  int64_t timeout_ms = 10 * 60 * 1000;
  int64_t min_pause_ms = 0;
  int max_concurrent = 1;
  int tolerable_failures = 0;
  flink::Retention retention = flink::Retention::kNeverRetain;  // NO_EXTERNALIZED_CHECKPOINTS
  bool unaligned = false;
  bool prefer_checkpoint_for_recovery = false;
  bool snapshot_compression = false;
  // The `_metadata` format version written (ckpt.metadata.format-version): 6 as Flink 2.1+
  // writes it; 5 (Flink 2.0) and 4 (Flink 1.16-1.20) for older clusters. Versions 5 and 6 carry
  // the operators' uids and names.
  int metadata_version = 6;

  // Storage.
  std::string checkpoints_dir;  // empty: none; a local path or an object-store URI (s3://bucket/key)
  std::string savepoints_dir;
  std::map<std::string, std::string> storage_settings;  // s3.* keys, for directories in an object store
  int num_retained = 1;
  StorageKind storage = StorageKind::kJobManager;
  int64_t memory_threshold = 20 * 1024;
  int64_t write_buffer_size = 4096;
  int64_t jobmanager_max_state_size = 5 * 1024 * 1024;

  // Backend.
  BackendKind backend = BackendKind::kHashMap;
  bool backend_configured = false;  // state.backend.type given; else a restore takes the snapshot's
  bool incremental = false;         // rocksdb: incremental native checkpoints (else native full)
  std::string rocksdb_localdir;     // rocksdb working directories' parent; empty: the system temp dir
  // Local recovery (pipeline/local_state_store.h): rocksdb only; roots empty = the system temp dir.
  bool local_recovery = false;
  std::vector<std::string> local_root_dirs;
  // Savepoints without an explicit --type: native (backend-specific) instead of canonical. Flink
  // has no such key (only `flink savepoint --type`); the Kubernetes operator's
  // kubernetes.operator.savepoint.format.type is accepted.
  bool native_savepoints = false;

  // Job.
  int parallelism = 1;
  int max_parallelism = 0;  // 0: Flink's default for the parallelism (or the snapshot's)

  // Restore (execution.state-recovery.*).
  std::string restore_path;               // .path: the snapshot to start from; empty: none
  bool allow_non_restored_state = false;  // .ignore-unclaimed-state (Flink's -n)
  ClaimMode claim_mode = ClaimMode::kNoClaim;

  // Restart strategy (restart-strategy.*; pipeline/restart_strategy.h).
  RestartStrategyConfig restart;
};

struct ResolvedConfig {
  PipelineConfig config;
  std::vector<std::string> warnings;  // unknown keys, ignored options
};

ResolvedConfig resolve_config(const RawConfig& raw);

// Flink's value syntaxes (util/flink_units.h) for a key or flag: ConfigError naming `key` when
// the value is not one.
int64_t parse_duration_ms(std::string_view value, std::string_view key);  // "200ms", "1 s", "10 min", "500"
int64_t parse_memory_size(std::string_view value, std::string_view key);  // "20 kb", "1mb", "4096"

}  // namespace ckpt::pipeline
