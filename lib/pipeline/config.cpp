#include "pipeline/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "snapshot/paths.h"
#include "storage/object_uri.h"
#include "util/flink_units.h"

namespace ckpt::pipeline {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

[[noreturn]] void invalid(std::string_view key, std::string_view value, std::string_view expected) {
  throw ConfigError(fmt::format("invalid value '{}' for key '{}': expected {}", value, key, expected));
}

// A path value, read as Flink reads a Path (snapshot::local_of_user_path): `file:` URIs are local
// paths; a file system ckpt cannot reach (s3://, hdfs://, ...) is refused here, before the job
// would create a local directory named after the scheme.
std::string local_path(std::string_view key, std::string_view value) {
  snapshot::UserPath p = snapshot::local_of_user_path(trim(value));
  if (!p.ok()) throw ConfigError(fmt::format("invalid value '{}' for key '{}': {}", value, key, p.problem));
  return p.local;
}

// A checkpoint or savepoint directory, read as Flink reads a Path: an object-store URI (s3://,
// s3a://, s3p://, gs://) stays a URI, without a trailing '/'; `file:` URIs are local paths
// (snapshot::local_of_user_path); a file system ckpt cannot reach (hdfs://, ...) is refused here,
// before the job would create a local directory named after the scheme.
std::string snapshot_dir(std::string_view key, std::string_view value) {
  std::string problem;
  if (auto u = storage::parse_object_uri(trim(value), &problem)) {
    while (u->key.ends_with('/')) u->key.pop_back();
    return u->str();
  }
  if (!problem.empty()) throw ConfigError(fmt::format("invalid value '{}' for key '{}': {}", value, key, problem));
  return local_path(key, value);
}

int64_t parse_int(std::string_view value, std::string_view key, int64_t min, int64_t max) {
  std::string_view v = trim(value);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < min || out > max) {
    invalid(key, value, fmt::format("an integer in [{}, {}]", min, max));
  }
  return out;
}

double parse_double(std::string_view value, std::string_view key) {
  std::string v(trim(value));
  char* end = nullptr;
  double out = v.empty() ? 0 : std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(out)) invalid(key, value, "a number");
  return out;
}

bool parse_bool(std::string_view value, std::string_view key) {
  std::string v = lower(trim(value));
  if (v == "true") return true;
  if (v == "false") return false;
  invalid(key, value, "true or false");
}

}  // namespace

int64_t parse_duration_ms(std::string_view value, std::string_view key) {
  auto ms = util::parse_duration_ms(value);
  if (!ms) invalid(key, value, util::kDurationSyntax);
  return *ms;
}

int64_t parse_memory_size(std::string_view value, std::string_view key) {
  auto bytes = util::parse_memory_size(value);
  if (!bytes) invalid(key, value, util::kMemorySizeSyntax);
  return *bytes;
}

RawConfig raw_config_of(const io::FlinkConfig& file, std::string_view label) {
  RawConfig out;
  for (const auto& [key, entry] : file) out[key] = RawSetting{entry.value, fmt::format("{}:{}", label, entry.line)};
  return out;
}

void apply_override(RawConfig& raw, std::string_view kv) {
  std::size_t eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw ConfigError(fmt::format("-D {}: expected key=value", kv));
  }
  raw[std::string(trim(kv.substr(0, eq)))] = RawSetting{std::string(trim(kv.substr(eq + 1))), "-D"};
}

namespace {

using Setter = std::function<void(PipelineConfig&, const std::string& value, const std::string& key,
                                  std::vector<std::string>& warnings)>;

struct Option {
  std::vector<std::string_view> names;  // Flink 2.x's current key first, then its deprecated keys
  Setter set;
};

flink::Retention parse_retention(const std::string& v, const std::string& key) {
  std::string u = v;
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "NO_EXTERNALIZED_CHECKPOINTS") return flink::Retention::kNeverRetain;
  if (u == "DELETE_ON_CANCELLATION") return flink::Retention::kRetainOnFailure;
  if (u == "RETAIN_ON_CANCELLATION") return flink::Retention::kRetainOnCancellation;
  invalid(key, v, "RETAIN_ON_CANCELLATION, DELETE_ON_CANCELLATION or NO_EXTERNALIZED_CHECKPOINTS");
}

void set_backend(PipelineConfig& c, const std::string& v, const std::string& key, std::vector<std::string>& w) {
  std::string l = lower(v);
  c.backend_configured = true;
  if (l == "hashmap" || l == "org.apache.flink.runtime.state.hashmap.hashmapstatebackend") {
    c.backend = BackendKind::kHashMap;
  } else if (l == "rocksdb" || l == "org.apache.flink.contrib.streaming.state.embeddedrocksdbstatebackend") {
    c.backend = BackendKind::kRocksDB;
  } else if (l == "jobmanager" || l == "memorystatebackend" ||
             l == "org.apache.flink.runtime.state.memory.memorystatebackend") {
    c.backend = BackendKind::kHashMap;
    c.storage = StorageKind::kJobManager;
    w.push_back(fmt::format("{}: legacy '{}' = hashmap state backend + jobmanager checkpoint storage", key, v));
  } else if (l == "filesystem" || l == "fsstatebackend" ||
             l == "org.apache.flink.runtime.state.filesystem.fsstatebackend") {
    c.backend = BackendKind::kHashMap;
    c.storage = StorageKind::kFileSystem;
    w.push_back(fmt::format("{}: legacy '{}' = hashmap state backend + filesystem checkpoint storage", key, v));
  } else if (l == "rocksdbstatebackend" || l == "org.apache.flink.contrib.streaming.state.rocksdbstatebackend") {
    c.backend = BackendKind::kRocksDB;
    c.storage = StorageKind::kFileSystem;
    w.push_back(fmt::format("{}: legacy '{}' = rocksdb state backend + filesystem checkpoint storage", key, v));
  } else {
    invalid(key, v,
            "hashmap or rocksdb (legacy: jobmanager, filesystem, MemoryStateBackend, FsStateBackend, "
            "RocksDBStateBackend)");
  }
}

// Flink's ConfigurationUtils.parseLocalStateDirectories: ',' or the path separator ':'; also ';',
// the separator of a YAML list's items (io/flink_config.h). A URI (file:///x) is one entry, where
// Flink would split it at its ':'.
void set_local_root_dirs(PipelineConfig& c, const std::string& v, const std::string& k, std::vector<std::string>&) {
  c.local_root_dirs.clear();
  auto add = [&](std::string_view t) {
    t = trim(t);
    if (!t.empty()) c.local_root_dirs.push_back(local_path(k, t));
  };
  for (std::string_view rest = v; !rest.empty();) {
    std::size_t comma = std::min(rest.find_first_of(",;"), rest.size());
    std::string_view item = trim(rest.substr(0, comma));
    rest.remove_prefix(std::min(comma + 1, rest.size()));
    if (snapshot::starts_with_uri(item)) {
      add(item);
      continue;
    }
    for (std::size_t colon; (colon = item.find(':')) != std::string_view::npos; item.remove_prefix(colon + 1)) {
      add(item.substr(0, colon));
    }
    add(item);
  }
}

// The options of checkpointing: interval, mode, timeouts, retention, directories.
std::vector<Option> checkpointing_options() {
  return {
      {{"execution.checkpointing.interval"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         int64_t ms = parse_duration_ms(v, k);
         if (ms < 10) invalid(k, v, "at least 10 ms (Flink's minimum checkpoint interval)");
         c.interval_ms = ms;
       }},
      {{"execution.checkpointing.mode"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         std::string u = lower(v);
         if (u == "exactly_once") c.mode = CheckpointingMode::kExactlyOnce;
         else if (u == "at_least_once") c.mode = CheckpointingMode::kAtLeastOnce;
         else invalid(k, v, "EXACTLY_ONCE or AT_LEAST_ONCE");
       }},
      {{"execution.checkpointing.timeout"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.timeout_ms = parse_duration_ms(v, k);
         if (c.timeout_ms < 10) invalid(k, v, "at least 10 ms");
       }},
      {{"execution.checkpointing.min-pause"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.min_pause_ms = parse_duration_ms(v, k);
       }},
      {{"execution.checkpointing.max-concurrent-checkpoints"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.max_concurrent = static_cast<int>(parse_int(v, k, 1, 1000));
       }},
      {{"execution.checkpointing.tolerable-failed-checkpoints"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.tolerable_failures = static_cast<int>(parse_int(v, k, 0, INT32_MAX));
       }},
      {{"execution.checkpointing.externalized-checkpoint-retention",
        "execution.checkpointing.externalized-checkpoint-retention.policy"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.retention = parse_retention(v, k);
       }},
      {{"execution.checkpointing.unaligned.enabled", "execution.checkpointing.unaligned"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) { c.unaligned = parse_bool(v, k); }},
      {{"execution.checkpointing.prefer-checkpoint-for-recovery"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.prefer_checkpoint_for_recovery = parse_bool(v, k);
       }},
      {{"ckpt.metadata.format-version"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.metadata_version = static_cast<int>(parse_int(v, k, 4, 6));
       }},
      {{"execution.checkpointing.snapshot-compression"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.snapshot_compression = parse_bool(v, k);
       }},
      {{"execution.checkpointing.dir", "state.checkpoints.dir", "state.backend.fs.checkpointdir"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.checkpoints_dir = snapshot_dir(k, v);
       }},
      {{"execution.checkpointing.savepoint-dir", "state.savepoints.dir", "savepoints.state.backend.fs.dir"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.savepoints_dir = snapshot_dir(k, v);
       }},
      {{"execution.checkpointing.num-retained", "state.checkpoints.num-retained"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.num_retained = static_cast<int>(parse_int(v, k, 1, INT32_MAX));
       }},
  };
}

// The options of the checkpoint storage and the state backends, local recovery and savepoint format.
std::vector<Option> state_options() {
  return {
      {{"execution.checkpointing.storage", "state.checkpoint-storage"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         std::string l = lower(v);
         if (l == "jobmanager") c.storage = StorageKind::kJobManager;
         else if (l == "filesystem") c.storage = StorageKind::kFileSystem;
         else invalid(k, v, "jobmanager or filesystem");
       }},
      {{"execution.checkpointing.data-inline-threshold", "state.storage.fs.memory-threshold",
        "state.backend.fs.memory-threshold"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.memory_threshold = parse_memory_size(v, k);
         if (c.memory_threshold > (1 << 20)) invalid(k, v, "at most 1 mb (Flink's maximum inline threshold)");
       }},
      {{"execution.checkpointing.write-buffer-size", "state.storage.fs.write-buffer-size",
        "state.backend.fs.write-buffer-size"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.write_buffer_size = parse_memory_size(v, k);
         if (c.write_buffer_size < 1) invalid(k, v, "a positive size");
       }},
      {{"ckpt.jobmanager.max-state-size"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.jobmanager_max_state_size = parse_memory_size(v, k);
       }},
      {{"state.backend.type", "state.backend"}, set_backend},
      {{"execution.checkpointing.incremental", "state.backend.incremental"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) { c.incremental = parse_bool(v, k); }},
      {{"state.backend.rocksdb.localdir", "state.backend.rocksdb.local-dir"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.rocksdb_localdir = local_path(k, v);
       }},
      {{"execution.state-recovery.from-local", "state.backend.local-recovery"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.local_recovery = parse_bool(v, k);
       }},
      {{"execution.checkpointing.local-backup.dirs", "taskmanager.state.local.root-dirs"}, set_local_root_dirs},
      {{"kubernetes.operator.savepoint.format.type"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         std::string l = lower(v);
         if (l == "native") c.native_savepoints = true;
         else if (l == "canonical" || l == "default") c.native_savepoints = false;
         else invalid(k, v, "CANONICAL, NATIVE or DEFAULT");
       }},
  };
}

// The options of the job: parallelism, restore mode, restarts.
std::vector<Option> job_options() {
  return {
      {{"parallelism.default"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.parallelism = static_cast<int>(parse_int(v, k, 1, 1024));
       }},
      {{"pipeline.max-parallelism"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.max_parallelism = static_cast<int>(parse_int(v, k, 1, 32768));
       }},
      {{"execution.state-recovery.path", "execution.savepoint.path"},
       [](PipelineConfig& c, const std::string& v, const std::string&, auto&) { c.restore_path = trim(v); }},
      {{"execution.state-recovery.ignore-unclaimed-state", "execution.savepoint.ignore-unclaimed-state"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.allow_non_restored_state = parse_bool(v, k);
       }},
      {{"execution.state-recovery.claim-mode", "execution.savepoint-restore-mode"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, std::vector<std::string>& w) {
         std::string u = lower(v);
         if (u == "claim") c.claim_mode = ClaimMode::kClaim;
         else if (u == "no_claim") c.claim_mode = ClaimMode::kNoClaim;
         else if (u == "legacy") {
           c.claim_mode = ClaimMode::kNoClaim;
           w.push_back(
               fmt::format("{}: LEGACY is deprecated in Flink; for the hashmap backend it behaves as NO_CLAIM", k));
         } else {
           invalid(k, v, "CLAIM or NO_CLAIM");
         }
       }},
      {{"restart-strategy.type", "restart-strategy"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         auto kind = restart_strategy_kind(trim(v));
         if (!kind) invalid(k, v, "none, fixed-delay, failure-rate or exponential-delay");
         c.restart.kind = *kind;
       }},
      {{"restart-strategy.fixed-delay.attempts"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.fixed_attempts = static_cast<int>(parse_int(v, k, 0, INT32_MAX));
       }},
      {{"restart-strategy.fixed-delay.delay"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.fixed_delay_ms = parse_duration_ms(v, k);
       }},
      {{"restart-strategy.failure-rate.max-failures-per-interval"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.max_failures_per_interval = static_cast<int>(parse_int(v, k, 1, INT32_MAX));
       }},
      {{"restart-strategy.failure-rate.failure-rate-interval"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.failure_rate_interval_ms = parse_duration_ms(v, k);
         if (c.restart.failure_rate_interval_ms < 1) invalid(k, v, "at least 1 ms");
       }},
      {{"restart-strategy.failure-rate.delay"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.failure_rate_delay_ms = parse_duration_ms(v, k);
       }},
      {{"restart-strategy.exponential-delay.initial-backoff"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.initial_backoff_ms = parse_duration_ms(v, k);
         if (c.restart.initial_backoff_ms < 1) invalid(k, v, "at least 1 ms");
       }},
      {{"restart-strategy.exponential-delay.max-backoff"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.max_backoff_ms = parse_duration_ms(v, k);
         if (c.restart.max_backoff_ms < 1) invalid(k, v, "at least 1 ms");
       }},
      {{"restart-strategy.exponential-delay.backoff-multiplier"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.backoff_multiplier = parse_double(v, k);
         if (!(c.restart.backoff_multiplier > 1)) invalid(k, v, "a number greater than 1");
       }},
      {{"restart-strategy.exponential-delay.reset-backoff-threshold"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.reset_backoff_threshold_ms = parse_duration_ms(v, k);
         if (c.restart.reset_backoff_threshold_ms < 1) invalid(k, v, "at least 1 ms");
       }},
      {{"restart-strategy.exponential-delay.jitter-factor"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.jitter_factor = parse_double(v, k);
         if (!(c.restart.jitter_factor >= 0 && c.restart.jitter_factor <= 1)) invalid(k, v, "a number in [0, 1]");
       }},
      {{"restart-strategy.exponential-delay.attempts-before-reset-backoff"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart.attempts_before_reset = static_cast<int>(parse_int(v, k, 1, INT32_MAX));
       }},
  };
}

// Every option, in the order resolve_config applies them.
const std::vector<Option>& options() {
  static const std::vector<Option> kOptions = [] {
    std::vector<Option> all;
    for (std::vector<Option> part : {checkpointing_options(), state_options(), job_options()}) {
      for (Option& o : part) all.push_back(std::move(o));
    }
    return all;
  }();
  return kOptions;
}

}  // namespace

ResolvedConfig resolve_config(const RawConfig& raw) {
  ResolvedConfig out;
  PipelineConfig& c = out.config;
  // Which option each raw key sets. When an option is given under its current key and a
  // deprecated one, the current key wins, as in Flink (Configuration reads the key first, its
  // deprecated keys only when the key is absent); different values are warned about.
  struct Chosen {
    std::size_t name_index;
    std::string key, value;
  };
  std::map<std::size_t, Chosen> chosen;  // option index -> the key used
  bool storage_set = false;
  for (const auto& [key, setting] : raw) {
    bool known = false;
    for (std::size_t i = 0; i < options().size(); ++i) {
      const auto& names = options()[i].names;
      auto at = std::find(names.begin(), names.end(), key);
      if (at == names.end()) continue;
      known = true;
      auto n = static_cast<std::size_t>(at - names.begin());
      auto it = chosen.find(i);
      if (it != chosen.end() && it->second.value != setting.value) {
        const Chosen& other = it->second;
        const bool key_wins = n < other.name_index;
        const std::string& used = key_wins ? key : other.key;
        const std::string& used_value = key_wins ? setting.value : other.value;
        out.warnings.push_back(fmt::format("{}={} and {}={} set the same option; using {} ({} is deprecated)",
                                           other.key, other.value, key, setting.value, used + "=" + used_value,
                                           key_wins ? other.key : key));
      }
      if (it == chosen.end() || n < it->second.name_index) chosen[i] = Chosen{n, key, setting.value};
    }
    if (key.starts_with("s3.")) {
      // The object store's settings (storage/s3_settings.h), for a checkpoint or savepoint
      // directory on s3://: Flink hands every s3.* key to its S3 file systems.
      c.storage_settings[key] = setting.value;
      known = true;
    }
    if (!known) out.warnings.push_back(fmt::format("{} ({}): unknown key, ignored", key, setting.origin));
  }
  // The backend (whose legacy names also choose a storage) is applied first; the rest in table
  // order, so that an explicit execution.checkpointing.storage overrides a legacy backend name.
  auto apply = [&](bool backend) {
    for (std::size_t i = 0; i < options().size(); ++i) {
      bool is_backend = options()[i].names.front() == "state.backend.type";
      if (is_backend != backend) continue;
      auto it = chosen.find(i);
      if (it == chosen.end()) continue;
      if (options()[i].names.front() == "execution.checkpointing.storage") storage_set = true;
      options()[i].set(c, it->second.value, it->second.key, out.warnings);
    }
  };
  std::size_t warnings_before = out.warnings.size();
  apply(true);
  bool legacy_storage = out.warnings.size() > warnings_before;  // a legacy name chose the storage
  StorageKind legacy_kind = c.storage;
  apply(false);
  if (!storage_set) {
    // Flink: with no explicit storage, a configured checkpoint directory means filesystem storage.
    c.storage = legacy_storage ? legacy_kind
                               : (c.checkpoints_dir.empty() ? StorageKind::kJobManager : StorageKind::kFileSystem);
  }
  // (Unset, a restore may take the snapshot's RocksDB backend, where the options apply.)
  const bool hashmap = c.backend == BackendKind::kHashMap && (c.backend_configured || c.restore_path.empty());
  if (c.incremental && hashmap) {
    out.warnings.push_back(
        "execution.checkpointing.incremental (state.backend.incremental): ignored: the hashmap backend always "
        "takes full snapshots");
  }
  if (c.local_recovery && hashmap) {
    out.warnings.push_back(
        "execution.state-recovery.from-local (state.backend.local-recovery): ignored: the hashmap backend "
        "restores from the checkpoint storage only");
  }
  if (c.restart.kind == RestartStrategyConfig::Kind::kExponentialDelay &&
      c.restart.initial_backoff_ms > c.restart.max_backoff_ms) {
    throw ConfigError(
        fmt::format("restart-strategy.exponential-delay.initial-backoff: is {} ms, more than max-backoff ({} ms)",
                    c.restart.initial_backoff_ms, c.restart.max_backoff_ms));
  }
  if (c.unaligned && c.mode == CheckpointingMode::kAtLeastOnce) {
    out.warnings.push_back("execution.checkpointing.unaligned: ignored: unaligned checkpoints need EXACTLY_ONCE mode");
    c.unaligned = false;
  }
  if (c.unaligned && c.max_concurrent > 1) {
    throw ConfigError(
        fmt::format("execution.checkpointing.max-concurrent-checkpoints: is {}, but unaligned checkpoints allow only 1",
                    c.max_concurrent));
  }
  if (c.interval_ms && c.storage == StorageKind::kFileSystem && c.checkpoints_dir.empty()) {
    throw ConfigError(
        "execution.checkpointing.dir (state.checkpoints.dir): must be set for filesystem checkpoint storage");
  }
  return out;
}

}  // namespace ckpt::pipeline
