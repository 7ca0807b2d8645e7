// pipeline/config: Flink's flat YAML, -D overrides, aliases, typed validation, legacy names.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"

using namespace ckpt::pipeline;

TEST_CASE("pipeline config: durations and memory sizes are util/flink_units' syntax, errors name the key") {
  CHECK(parse_duration_ms("10 min", "k") == 600000);
  CHECK(parse_duration_ms("500", "k") == 500);
  CHECK_THROWS_WITH_AS(parse_duration_ms("soon", "my.key"), doctest::Contains("my.key"), ConfigError);
  CHECK(parse_memory_size("20 kb", "k") == 20 * 1024);
  CHECK_THROWS_AS(parse_memory_size("-1", "k"), ConfigError);
}

TEST_CASE("pipeline config: a nested config.yaml's keys, with their file and line as origin") {
  RawConfig raw =
      raw_config_of(ckpt::io::parse_flink_config(
                        "execution:\n  checkpointing:\n    interval: 10s\nstate.backend.type: rocksdb\n", "c.yaml"),
                    "c.yaml");
  CHECK(raw.at("execution.checkpointing.interval").value == "10s");
  CHECK(raw.at("execution.checkpointing.interval").origin == "c.yaml:3");
  ResolvedConfig r = resolve_config(raw);
  CHECK(r.config.interval_ms == 10000);
  CHECK(r.config.backend == BackendKind::kRocksDB);
  CHECK(r.warnings.empty());
}

TEST_CASE("pipeline config: the current key wins over its deprecated key, with a warning naming it") {
  RawConfig raw;
  apply_override(raw, "state.checkpoints.dir=/tmp/old");
  apply_override(raw, "execution.checkpointing.dir=/tmp/new");
  apply_override(raw, "state.backend=rocksdb");
  apply_override(raw, "state.backend.type=hashmap");
  apply_override(raw, "state.checkpoints.num-retained=3");
  apply_override(raw, "execution.checkpointing.num-retained=3");  // same value: no warning
  ResolvedConfig r = resolve_config(raw);
  CHECK(r.config.checkpoints_dir == "/tmp/new");
  CHECK(r.config.backend == BackendKind::kHashMap);
  CHECK(r.config.num_retained == 3);
  REQUIRE(r.warnings.size() == 2);
  for (const auto& w : r.warnings) CHECK(w.find("using ") != std::string::npos);
  bool dir_warned = false;
  for (const auto& w : r.warnings) {
    if (w.find("using execution.checkpointing.dir=/tmp/new (state.checkpoints.dir is deprecated)") != std::string::npos)
      dir_warned = true;
  }
  CHECK(dir_warned);
  // Only the deprecated key: it is used.
  RawConfig old;
  apply_override(old, "state.savepoints.dir=/tmp/sp");
  CHECK(resolve_config(old).config.savepoints_dir == "/tmp/sp");
}

TEST_CASE("pipeline config: defaults, aliases and overrides") {
  RawConfig raw;
  ResolvedConfig d = resolve_config(raw);
  CHECK_FALSE(d.config.interval_ms);
  CHECK(d.config.num_retained == 1);
  CHECK(d.config.memory_threshold == 20 * 1024);
  CHECK(d.config.storage == StorageKind::kJobManager);
  CHECK(d.config.retention == ckpt::flink::Retention::kNeverRetain);

  apply_override(raw, "execution.checkpointing.dir=/tmp/ck");  // 2.x key of state.checkpoints.dir
  apply_override(raw, "execution.checkpointing.num-retained=3");
  apply_override(raw, "execution.checkpointing.interval=200ms");
  apply_override(raw, "execution.checkpointing.unaligned.enabled=true");
  apply_override(raw, "execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION");
  ResolvedConfig r = resolve_config(raw);
  CHECK(r.config.checkpoints_dir == "/tmp/ck");
  CHECK(r.config.num_retained == 3);
  CHECK(*r.config.interval_ms == 200);
  CHECK(r.config.unaligned);
  CHECK(r.config.storage == StorageKind::kFileSystem);  // a directory implies filesystem storage
  CHECK(r.config.retention == ckpt::flink::Retention::kRetainOnCancellation);
  CHECK(r.warnings.empty());
  CHECK_THROWS_AS(apply_override(raw, "novalue"), ConfigError);
}

TEST_CASE("pipeline config: invalid values name the key; unknown keys warn") {
  RawConfig raw;
  apply_override(raw, "state.checkpoints.num-retained=0");
  CHECK_THROWS_WITH_AS(resolve_config(raw), doctest::Contains("state.checkpoints.num-retained"), ConfigError);
  raw.clear();
  apply_override(raw, "execution.checkpointing.data-inline-threshold=2mb");
  CHECK_THROWS_WITH_AS(resolve_config(raw), doctest::Contains("execution.checkpointing.data-inline-threshold"),
                       ConfigError);
  raw.clear();
  apply_override(raw, "execution.checkpointing.mode=SOMETIMES");
  CHECK_THROWS_WITH_AS(resolve_config(raw), doctest::Contains("execution.checkpointing.mode"), ConfigError);
  raw.clear();
  apply_override(raw, "execution.checkpointing.unaligned=true");
  apply_override(raw, "execution.checkpointing.max-concurrent-checkpoints=2");
  CHECK_THROWS_WITH_AS(resolve_config(raw), doctest::Contains("max-concurrent-checkpoints"), ConfigError);
  raw.clear();
  apply_override(raw, "taskmanager.numberOfTaskSlots=4");
  ResolvedConfig r = resolve_config(raw);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("taskmanager.numberOfTaskSlots") != std::string::npos);
}

TEST_CASE("pipeline config: legacy backend names map as the seed's table says") {
  RawConfig raw;
  apply_override(raw, "state.backend=MemoryStateBackend");
  apply_override(raw, "state.checkpoints.dir=/tmp/x");
  ResolvedConfig m = resolve_config(raw);
  CHECK(m.config.backend == BackendKind::kHashMap);
  CHECK(m.config.storage == StorageKind::kJobManager);
  raw.clear();
  apply_override(raw, "state.backend=FsStateBackend");
  ResolvedConfig f = resolve_config(raw);
  CHECK(f.config.storage == StorageKind::kFileSystem);
  raw.clear();
  apply_override(raw, "state.backend=FsStateBackend");
  apply_override(raw, "state.checkpoint-storage=jobmanager");  // explicit storage wins
  CHECK(resolve_config(raw).config.storage == StorageKind::kJobManager);
  raw.clear();
  apply_override(raw, "state.backend.type=rocksdb");
  apply_override(raw, "state.backend.incremental=true");
  apply_override(raw, "state.backend.rocksdb.localdir=/tmp/x");
  ResolvedConfig r = resolve_config(raw);
  CHECK(r.config.backend == BackendKind::kRocksDB);
  CHECK(r.config.incremental);
  CHECK(r.config.rocksdb_localdir == "/tmp/x");
  raw.clear();
  apply_override(raw, "state.backend=RocksDBStateBackend");  // legacy: rocksdb + filesystem storage
  ResolvedConfig l = resolve_config(raw);
  CHECK(l.config.backend == BackendKind::kRocksDB);
  CHECK(l.config.storage == StorageKind::kFileSystem);
  CHECK_FALSE(l.config.incremental);
}

TEST_CASE("pipeline config: directory values are read as Flink paths; object stores kept, other schemes refused") {
  auto resolve = [](std::initializer_list<std::pair<const char*, const char*>> kv) {
    RawConfig raw;
    for (auto [k, v] : kv) apply_override(raw, std::string(k) + "=" + v);
    return resolve_config(raw).config;
  };
  // The three file: forms are the local path, under either name of each key.
  CHECK(resolve({{"state.checkpoints.dir", "file:///data/ck"}}).checkpoints_dir == "/data/ck");
  CHECK(resolve({{"execution.checkpointing.dir", "file:/data/ck"}}).checkpoints_dir == "/data/ck");
  CHECK(resolve({{"state.savepoints.dir", "file://localhost/data/sp"}}).savepoints_dir == "/data/sp");
  CHECK(resolve({{"execution.checkpointing.savepoint-dir", "file:///data/sp"}}).savepoints_dir == "/data/sp");
  CHECK(resolve({{"state.backend.rocksdb.localdir", "file:///var/rocks"}}).rocksdb_localdir == "/var/rocks");
  CHECK(resolve({{"state.checkpoints.dir", "relative/ck"}}).checkpoints_dir == "relative/ck");
  // Local recovery roots: ',' or ':' separate entries, but a URI is one entry.
  CHECK(resolve({{"taskmanager.state.local.root-dirs", "file:///l1, /l2:/l3,file://localhost/l4"}}).local_root_dirs ==
        std::vector<std::string>{"/l1", "/l2", "/l3", "/l4"});
  // Object stores are written there: the URI is kept (without a trailing '/'), and the s3.* keys
  // go to the store, not to the unknown-key warnings.
  CHECK(resolve({{"state.checkpoints.dir", "s3://bucket/ck/"}}).checkpoints_dir == "s3://bucket/ck");
  CHECK(resolve({{"execution.checkpointing.dir", "s3a://b/ck"}}).checkpoints_dir == "s3a://b/ck");
  CHECK(resolve({{"state.savepoints.dir", "gs://b/sp"}}).savepoints_dir == "gs://b/sp");
  {
    RawConfig raw;
    apply_override(raw, "s3.endpoint=http://127.0.0.1:9000");
    apply_override(raw, "state.checkpoints.dir=s3p://b/ck");
    ResolvedConfig rc = resolve_config(raw);
    CHECK(rc.config.storage_settings.at("s3.endpoint") == "http://127.0.0.1:9000");
    CHECK(rc.warnings.empty());
  }
  CHECK_THROWS_WITH_AS(resolve({{"state.checkpoints.dir", "s3:///ck"}}), doctest::Contains("'state.checkpoints.dir'"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(resolve({{"state.backend.rocksdb.localdir", "s3://b/rocks"}}), doctest::Contains("\"s3\""),
                       ConfigError);
  // Every other remote scheme is refused with the key, the value and the scheme.
  for (const char* v : {"hdfs://nn:8020/ck", "abfs://c@a/ck", "abfss://c@a/ck", "wasb://c@a/ck", "wasbs://c@a/ck",
                        "oss://b/ck", "viewfs://cluster/ck", "myfs://x/ck"}) {
    CAPTURE(v);
    std::string scheme(v, std::string_view(v).find(':'));
    CHECK_THROWS_WITH_AS(resolve({{"state.checkpoints.dir", v}}),
                         ("invalid value '" + std::string(v) + "' for key 'state.checkpoints.dir': scheme \"" + scheme +
                          "\" is not supported yet (expected a local path or a file: URI)")
                             .c_str(),
                         ConfigError);
  }
  CHECK_THROWS_WITH_AS(resolve({{"state.savepoints.dir", "hdfs://b/sp"}}), doctest::Contains("'state.savepoints.dir'"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(resolve({{"taskmanager.state.local.root-dirs", "/x,hdfs://nn/y"}}),
                       doctest::Contains("\"hdfs\""), ConfigError);
  CHECK_THROWS_WITH_AS(resolve({{"state.checkpoints.dir", "file://otherhost/ck"}}),
                       doctest::Contains("host \"otherhost\""), ConfigError);
}
