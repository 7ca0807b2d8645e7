#include "rocks_snapshot.h"

#include <fmt/format.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/utilities/checkpoint.h>

#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>

#include "flink/builder.h"
#include "flink/checkpoint_properties.h"
#include "flink/key_groups.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/atomic_file.h"
#include "io/checksum.h"
#include "io/file_bytes.h"
#include "snapshot_on_disk.h"
#include "state/proxy_writer.h"

namespace fs = std::filesystem;

namespace ckpt::testsupport {
namespace {

void ok(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error(what + ": " + s.ToString());
}

std::shared_ptr<rocksdb::MergeOperator> flink_merge_operator() {
  std::shared_ptr<rocksdb::MergeOperator> m;
  ok(rocksdb::MergeOperator::CreateFromString(rocksdb::ConfigOptions(), "StringAppendTESTOperator", &m),
     "StringAppendTESTOperator");
  return m;
}

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

std::string prefix(int32_t key_group, int32_t max_parallelism) {
  std::string p;
  if (flink::key_group_prefix_bytes(max_parallelism) == 2) p += static_cast<char>(key_group >> 8);
  p += static_cast<char>(key_group & 0xFF);
  return p;
}

// RAII: a database and its column family handles.
struct Db {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~Db() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    if (db) db->Close().PermitUncheckedError();
  }
};

// The meta file of every subtask: Flink's keyed backend proxy for the column families
// write_flink_db fills (Integer keys, VoidNamespace).
std::string flink_meta() {
  state::SnapshotSpec bytes;
  bytes.class_name =
      "org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer$"
      "BytePrimitiveArraySerializerSnapshot";
  return state::write_keyed_proxy(
      false, state::int_serializer(),
      {state::keyed_state("value-state", "VALUE", bytes, state::void_namespace_serializer()),
       state::keyed_state("list-state", "LIST", state::list_serializer(state::long_serializer()),
                          state::void_namespace_serializer()),
       state::priority_queue_state(
           "_timer_state/event_user-timers",
           state::timer_serializer(state::int_serializer(), state::void_namespace_serializer()))});
}

}  // namespace

void write_flink_db(const fs::path& dir, const fs::path& checkpoint_dir, const FlinkDbSpec& spec) {
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  rocksdb::ColumnFamilyOptions cfo;
  cfo.merge_operator = flink_merge_operator();
  cfo.disable_auto_compactions = true;  // keep every flush as its own table file
  cfo.level0_slowdown_writes_trigger = 1 << 20;
  cfo.level0_stop_writes_trigger = 1 << 20;
  const std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, "value-state", "list-state",
                                          "_timer_state/event_user-timers"};
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, cfo);
  Db d;
  rocksdb::DB* raw = nullptr;
  ok(rocksdb::DB::Open(dbo, dir.string(), cfs, &d.handles, &raw), dir.string());
  d.db.reset(raw);

  // Keys of this subtask's key groups, as Flink assigns them (murmur of Integer.hashCode).
  const flink::KeyGroupRange range = flink::range_of_subtask(spec.max_parallelism, spec.parallelism, spec.subtask);
  std::vector<std::string> keys;
  for (int32_t k = 0; static_cast<int>(keys.size()) < spec.key_space; ++k) {
    int32_t kg = flink::key_group_for_hash(flink::java_hash_int(k), spec.max_parallelism);
    if (kg < range.start || kg > range.end_inclusive()) continue;
    keys.push_back(prefix(kg, spec.max_parallelism) + be32(static_cast<uint32_t>(k)) + std::string(1, '\0'));
  }
  std::mt19937_64 rng(spec.seed);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // as Flink writes
  for (int f = 0; f < spec.flushes; ++f) {
    for (int i = 0; i < spec.keys_per_flush; ++i) {
      const std::string& key = keys[rng() % keys.size()];
      // A byte[] (BytePrimitiveArraySerializer: i32 length, bytes) and a list of Longs, as the
      // meta file of write_rocks_snapshot declares them.
      std::string bytes = filler_bytes(static_cast<uint64_t>(spec.value_bytes), rng());
      std::string value = be32(static_cast<uint32_t>(bytes.size())) + bytes;
      if (rng() % 8 == 0) {
        ok(d.db->Delete(wo, d.handles[1], key), "delete");
      } else {
        ok(d.db->Put(wo, d.handles[1], key, value), "put");
      }
      uint64_t element = rng();
      ok(d.db->Merge(wo, d.handles[2], key,
                     be32(static_cast<uint32_t>(element >> 32)) + be32(static_cast<uint32_t>(element))),
         "merge");
      uint64_t ts = (1700000000000ull + rng() % 100000) ^ (1ull << 63);  // sign bit flipped (spec §14.5)
      std::string tkey = key.substr(0, key.size() - 5) + be32(static_cast<uint32_t>(ts >> 32)) +
                         be32(static_cast<uint32_t>(ts)) + key.substr(key.size() - 5);
      ok(d.db->Put(wo, d.handles[3], tkey, ""), "put timer");
    }
    ok(d.db->Flush(rocksdb::FlushOptions(), d.handles), "flush");
  }
  rocksdb::Checkpoint* cp = nullptr;
  ok(rocksdb::Checkpoint::Create(d.db.get(), &cp), "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> owned(cp);
  ok(cp->CreateCheckpoint(checkpoint_dir.string(), 0), checkpoint_dir.string());
}

DbContents read_db_contents(const fs::path& dir) {
  std::vector<std::string> names;
  ok(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names), dir.string());
  rocksdb::ColumnFamilyOptions cfo;
  cfo.merge_operator = flink_merge_operator();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, cfo);
  Db d;
  rocksdb::DB* raw = nullptr;
  ok(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.string(), cfs, &d.handles, &raw), dir.string());
  d.db.reset(raw);
  DbContents out;
  for (auto* h : d.handles) {
    auto& m = out[h->GetName()];
    std::unique_ptr<rocksdb::Iterator> it(d.db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) m.emplace(it->key().ToString(), it->value().ToString());
    ok(it->status(), dir.string() + " " + h->GetName());
  }
  return out;
}

RocksSnapshot write_rocks_snapshot(const fs::path& root, const RocksSnapshotSpec& spec) {
  RocksSnapshot out;
  std::mt19937_64 rng(spec.db.seed * 7919 + 1);
  const std::string job = fmt::format("{:016x}{:016x}", rng(), rng());
  out.job_dir = root / job;
  out.snapshot_dir = out.job_dir / fmt::format("chk-{}", spec.checkpoint_id);
  fs::create_directories(out.snapshot_dir);
  fs::create_directories(out.job_dir / "shared");
  fs::create_directories(out.job_dir / "taskowned");

  flink::Metadata md;
  md.version = 4;
  md.checkpoint_id = spec.checkpoint_id;
  flink::Builder b(md);

  flink::OperatorState source;
  source.id = flink::operator_id_from_uid("source");
  source.parallelism = 1;
  source.max_parallelism = spec.db.max_parallelism;
  {
    flink::SubtaskState st;
    // A union list state of one Long, behind Flink's operator backend proxy.
    std::string name = flink::random_uuid(rng);
    std::string bytes = state::write_operator_proxy(
        false, {state::operator_list_state("offsets", "UNION", state::long_serializer())}, {});
    std::vector<int64_t> offs{static_cast<int64_t>(bytes.size())};
    bytes += std::string("\0\0\0\0\0\0\x30\x39", 8);  // 12345
    io::write_file_atomically(out.snapshot_dir / name, bytes);
    st.managed_operator = b.operator_handle({b.operator_state_entry("offsets", flink::DistributionMode::kUnion, offs)},
                                            b.relative_file(name, static_cast<int64_t>(bytes.size())));
    st.managed_operator_flag = 1;
    source.subtasks.push_back(std::move(st));
  }
  md.operators.push_back(std::move(source));

  flink::OperatorState rocks_op;
  rocks_op.id = flink::operator_id_from_uid("rocks");
  rocks_op.parallelism = spec.subtasks;
  rocks_op.max_parallelism = spec.db.max_parallelism;
  for (int s = 0; s < spec.subtasks; ++s) {
    FlinkDbSpec dbs = spec.db;
    dbs.parallelism = spec.subtasks;
    dbs.subtask = s;
    dbs.seed = spec.db.seed + static_cast<uint64_t>(s) * 101;
    fs::path db = root / "dbs" / std::to_string(s);
    fs::path cp = root / "dbs" / (std::to_string(s) + "-checkpoint");
    fs::create_directories(db);
    write_flink_db(db, cp, dbs);
    out.checkpoints.push_back(cp);

    std::vector<flink::NamedStream> shared, private_files;
    for (const auto& e : fs::directory_iterator(cp)) {
      std::string local = e.path().filename().string();
      uint64_t size = fs::file_size(e.path());
      std::string uuid = flink::random_uuid(rng);
      std::string uri = "file:" + (out.job_dir / "shared" / uuid).string();
      flink::StreamHandle h;
      if (size <= spec.inline_threshold) {
        h = b.inline_bytes(uri, io::read_file_bytes(e.path()));
      } else {
        fs::copy_file(e.path(), out.job_dir / "shared" / uuid);
        h = b.file(uri, static_cast<int64_t>(size));
      }
      (local.ends_with(".sst") ? shared : private_files).push_back(b.named(local, h));
      out.rocks_files += 1;
      out.rocks_bytes += size;
    }
    std::string meta_name = flink::random_uuid(rng);
    std::string meta = flink_meta();
    io::write_file_atomically(out.snapshot_dir / meta_name, meta);
    flink::SubtaskState st;
    st.index = s;
    st.managed_keyed = b.incremental(
        spec.checkpoint_id, flink::random_uuid(rng), flink::range_of_subtask(spec.db.max_parallelism, spec.subtasks, s),
        static_cast<int64_t>(meta.size()), b.relative_file(meta_name, static_cast<int64_t>(meta.size())),
        std::move(shared), std::move(private_files), flink::random_uuid(rng));
    rocks_op.subtasks.push_back(std::move(st));
  }
  md.operators.push_back(std::move(rocks_op));
  md.properties = flink::checkpoint_properties(flink::Retention::kRetainOnCancellation);
  md.trailer = md.intern(flink::encode_properties_trailer(md.properties));
  md.trailer_state = flink::TrailerState::kParsed;
  io::write_file_atomically(out.snapshot_dir / "_metadata", flink::write_metadata(md));
  return out;
}

std::map<std::string, std::string> tree_fingerprint(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_symlink()) continue;
    if (!e.is_regular_file()) continue;
    std::string bytes = io::read_file_bytes(e.path());
    out[fs::relative(e.path(), dir).string()] = fmt::format("{} {:016x}", bytes.size(), io::xxh64(bytes));
  }
  return out;
}

std::vector<snapshot::Location> snapshots_with_rocks_handles(const fs::path& root) {
  std::vector<snapshot::Location> out;
  for (const auto& loc : snapshot::discover(root).snapshots) {
    flink::Metadata md;
    try {
      md = flink::read_metadata_file(loc.metadata);
    } catch (const flink::MetadataError&) {
      continue;
    }
    bool rocks = false;
    for (const auto& op : md.operators) {
      for (const auto& s : op.subtasks)
        rocks = rocks || std::holds_alternative<flink::IncrementalHandle>(s.managed_keyed.body);
    }
    if (rocks) out.push_back(loc);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.metadata < b.metadata; });
  return out;
}

}  // namespace ckpt::testsupport
