// Configuration of the bundled pipeline, read the way Flink reads it: a `config.yaml` of flat
// `key: value` lines plus `-D key=value` overrides (later wins), keys from the seed's option list
// (`state.checkpoints.dir`, `state.checkpoint-storage`, ...) with the Flink 1.20+
// `execution.checkpointing.*` names accepted as aliases.
//
// Contract:
//  * parse_flat_yaml() accepts the subset of YAML Flink's flat config uses: `key: value` lines,
//    `#` comments, blank lines, optional single or double quotes around the value. Nested maps,
//    lists and multi-line values are rejected with ConfigError naming the file and line.
//  * resolve_config() maps aliases to their canonical key, validates every value with its type
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

// Parses a flat YAML file's text. `label` names the file in errors.
RawConfig parse_flat_yaml(std::string_view text, std::string_view label);

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
  bool incremental = false;      // rocksdb: incremental native checkpoints (else native full)
  std::string rocksdb_localdir;  // rocksdb working directories' parent; empty: the system temp dir
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

  // Restore.
  ClaimMode claim_mode = ClaimMode::kNoClaim;

  // Restart strategy: fixed delay with `restart_attempts` (0 = no restarts).
  int restart_attempts = 0;
  int64_t restart_delay_ms = 1000;
};

struct ResolvedConfig {
  PipelineConfig config;
  std::vector<std::string> warnings;  // unknown keys, ignored options
};

ResolvedConfig resolve_config(const RawConfig& raw);

// Parsers of Flink's value syntaxes (exposed for tests). Throw ConfigError naming `key`.
int64_t parse_duration_ms(std::string_view value, std::string_view key);  // "200ms", "1 s", "10 min", "500"
int64_t parse_memory_size(std::string_view value, std::string_view key);  // "20 kb", "1mb", "4096"

}  // namespace ckpt::pipeline
