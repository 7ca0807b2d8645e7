#include "pipeline/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

#include "snapshot/paths.h"
#include "storage/object_uri.h"
#include "util/lines.h"

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

bool parse_bool(std::string_view value, std::string_view key) {
  std::string v = lower(trim(value));
  if (v == "true") return true;
  if (v == "false") return false;
  invalid(key, value, "true or false");
}

// Splits "123 unit" into number and unit.
std::pair<int64_t, std::string> number_and_unit(std::string_view value, std::string_view key,
                                                std::string_view expected) {
  std::string_view v = trim(value);
  std::size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  if (i == 0) invalid(key, value, expected);
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + i, n);
  if (ec != std::errc() || p != v.data() + i) invalid(key, value, expected);
  return {n, lower(trim(v.substr(i)))};
}

}  // namespace

int64_t parse_duration_ms(std::string_view value, std::string_view key) {
  constexpr std::string_view kExpected = "a duration such as 500ms, 1 s, 10 min (no unit: milliseconds)";
  auto [n, unit] = number_and_unit(value, key, kExpected);
  int64_t factor = 0;
  if (unit.empty() || unit == "ms" || unit == "milli" || unit == "millis" || unit == "millisecond" ||
      unit == "milliseconds") {
    factor = 1;
  } else if (unit == "s" || unit == "sec" || unit == "secs" || unit == "second" || unit == "seconds") {
    factor = 1000;
  } else if (unit == "min" || unit == "m" || unit == "minute" || unit == "minutes") {
    factor = 60'000;
  } else if (unit == "h" || unit == "hour" || unit == "hours") {
    factor = 3'600'000;
  } else if (unit == "d" || unit == "day" || unit == "days") {
    factor = 86'400'000;
  } else {
    invalid(key, value, kExpected);
  }
  if (n > INT64_MAX / factor) invalid(key, value, kExpected);
  return n * factor;
}

int64_t parse_memory_size(std::string_view value, std::string_view key) {
  constexpr std::string_view kExpected = "a memory size such as 4096, 20 kb, 1 mb";
  auto [n, unit] = number_and_unit(value, key, kExpected);
  int64_t factor = 0;
  if (unit.empty() || unit == "b" || unit == "bytes") factor = 1;
  else if (unit == "k" || unit == "kb" || unit == "kibibytes") factor = int64_t{1} << 10;
  else if (unit == "m" || unit == "mb" || unit == "mebibytes") factor = int64_t{1} << 20;
  else if (unit == "g" || unit == "gb" || unit == "gibibytes") factor = int64_t{1} << 30;
  else if (unit == "t" || unit == "tb" || unit == "tebibytes") factor = int64_t{1} << 40;
  else invalid(key, value, kExpected);
  if (n > INT64_MAX / factor) invalid(key, value, kExpected);
  return n * factor;
}

RawConfig parse_flat_yaml(std::string_view text, std::string_view label) {
  RawConfig out;
  util::for_each_line(text, [&](std::string_view line, int line_no) {
    // Strip comments that start a line or follow whitespace (values may contain '#').
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])))) {
        line = line.substr(0, i);
        break;
      }
    }
    if (trim(line).empty()) return;
    if (std::isspace(static_cast<unsigned char>(line.front()))) {
      throw ConfigError(
          fmt::format("{}:{}: nested YAML is not supported: use Flink's flat keys (a.b.c: value)", label, line_no));
    }
    std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos && !line.empty() && line.back() == ':') colon = line.size() - 1;
    if (colon == std::string_view::npos) {
      throw ConfigError(fmt::format("{}:{}: expected 'key: value'", label, line_no));
    }
    std::string_view key = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (value.empty()) {
      throw ConfigError(
          fmt::format("{}:{}: key '{}' has no value (nested YAML is not supported)", label, line_no, key));
    }
    if (value.front() == '[' || value.front() == '{' || value.front() == '-' || value.front() == '|' ||
        value.front() == '>') {
      if (value != "-" &&
          !(value.front() == '-' && value.size() > 1 && std::isdigit(static_cast<unsigned char>(value[1])))) {
        throw ConfigError(fmt::format("{}:{}: value of '{}' is not a scalar", label, line_no, key));
      }
    }
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out[std::string(key)] = RawSetting{std::string(value), fmt::format("{}:{}", label, line_no)};
  });
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
  std::vector<std::string_view> names;  // canonical (seed) name first, then aliases
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

// Flink's ConfigurationUtils.parseLocalStateDirectories: ',' or the path separator ':'. A URI
// (file:///x) is one entry, where Flink would split it at its ':'.
void set_local_root_dirs(PipelineConfig& c, const std::string& v, const std::string& k, std::vector<std::string>&) {
  c.local_root_dirs.clear();
  auto add = [&](std::string_view t) {
    t = trim(t);
    if (!t.empty()) c.local_root_dirs.push_back(local_path(k, t));
  };
  for (std::string_view rest = v; !rest.empty();) {
    std::size_t comma = std::min(rest.find(','), rest.size());
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
      {{"execution.checkpointing.unaligned", "execution.checkpointing.unaligned.enabled"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) { c.unaligned = parse_bool(v, k); }},
      {{"execution.checkpointing.prefer-checkpoint-for-recovery"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.prefer_checkpoint_for_recovery = parse_bool(v, k);
       }},
      {{"execution.checkpointing.snapshot-compression"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.snapshot_compression = parse_bool(v, k);
       }},
      {{"state.checkpoints.dir", "execution.checkpointing.dir"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.checkpoints_dir = snapshot_dir(k, v);
       }},
      {{"state.savepoints.dir", "execution.checkpointing.savepoint-dir"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.savepoints_dir = snapshot_dir(k, v);
       }},
      {{"state.checkpoints.num-retained", "execution.checkpointing.num-retained"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.num_retained = static_cast<int>(parse_int(v, k, 1, INT32_MAX));
       }},
  };
}

// The options of the checkpoint storage and the state backends, local recovery and savepoint format.
std::vector<Option> state_options() {
  return {
      {{"state.checkpoint-storage", "execution.checkpointing.storage"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         std::string l = lower(v);
         if (l == "jobmanager") c.storage = StorageKind::kJobManager;
         else if (l == "filesystem") c.storage = StorageKind::kFileSystem;
         else invalid(k, v, "jobmanager or filesystem");
       }},
      {{"state.storage.fs.memory-threshold", "execution.checkpointing.data-inline-threshold",
        "state.backend.fs.memory-threshold"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.memory_threshold = parse_memory_size(v, k);
         if (c.memory_threshold > (1 << 20)) invalid(k, v, "at most 1 mb (Flink's maximum inline threshold)");
       }},
      {{"state.storage.fs.write-buffer-size", "execution.checkpointing.write-buffer-size",
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
      {{"state.backend.incremental", "execution.checkpointing.incremental"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) { c.incremental = parse_bool(v, k); }},
      {{"state.backend.rocksdb.localdir", "state.backend.rocksdb.local-dir"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.rocksdb_localdir = local_path(k, v);
       }},
      {{"state.backend.local-recovery", "execution.state-recovery.from-local"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.local_recovery = parse_bool(v, k);
       }},
      {{"taskmanager.state.local.root-dirs"}, set_local_root_dirs},
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
      {{"execution.savepoint-restore-mode", "execution.state-recovery.claim-mode"},
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
         std::string l = lower(v);
         if (l == "none" || l == "off" || l == "disable") c.restart_attempts = 0;
         else if (l == "fixed-delay" || l == "fixeddelay") {
           if (c.restart_attempts == 0) c.restart_attempts = 1;
         } else {
           invalid(k, v, "none or fixed-delay");
         }
       }},
      {{"restart-strategy.fixed-delay.attempts"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart_attempts = static_cast<int>(parse_int(v, k, 0, INT32_MAX));
       }},
      {{"restart-strategy.fixed-delay.delay"},
       [](PipelineConfig& c, const std::string& v, const std::string& k, auto&) {
         c.restart_delay_ms = parse_duration_ms(v, k);
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
  // Which canonical option each raw key sets; a key given under two names is ambiguous only if
  // the values differ (the alias then wins deterministically by name order, with a warning).
  std::map<std::size_t, std::pair<std::string, std::string>> chosen;  // option index -> key, value
  bool storage_set = false;
  for (const auto& [key, setting] : raw) {
    bool known = false;
    for (std::size_t i = 0; i < options().size(); ++i) {
      const auto& names = options()[i].names;
      if (std::find(names.begin(), names.end(), key) == names.end()) continue;
      known = true;
      auto it = chosen.find(i);
      if (it != chosen.end() && it->second.second != setting.value) {
        out.warnings.push_back(
            fmt::format("{} and {} set the same option; using {}={}", it->second.first, key, key, setting.value));
      }
      chosen[i] = {key, setting.value};
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
  // order, so that restart-strategy.type is seen before its attempts and an explicit
  // state.checkpoint-storage overrides a legacy backend name.
  auto apply = [&](bool backend) {
    for (std::size_t i = 0; i < options().size(); ++i) {
      bool is_backend = options()[i].names.front() == "state.backend.type";
      if (is_backend != backend) continue;
      auto it = chosen.find(i);
      if (it == chosen.end()) continue;
      if (options()[i].names.front() == "state.checkpoint-storage") storage_set = true;
      options()[i].set(c, it->second.second, it->second.first, out.warnings);
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
  if (c.incremental && c.backend == BackendKind::kHashMap) {
    out.warnings.push_back("state.backend.incremental: ignored: the hashmap backend always takes full snapshots");
  }
  if (c.local_recovery && c.backend == BackendKind::kHashMap) {
    out.warnings.push_back(
        "state.backend.local-recovery: ignored: the hashmap backend restores from the checkpoint "
        "storage only");
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
    throw ConfigError("state.checkpoints.dir: must be set for filesystem checkpoint storage");
  }
  return out;
}

}  // namespace ckpt::pipeline
