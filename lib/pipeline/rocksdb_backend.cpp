#include "pipeline/rocksdb_backend.h"

#include <fmt/format.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <span>
#include <stdexcept>

#include "flink/builder.h"
#include "flink/key_groups.h"
#include "io/confined_open.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "pipeline/state_table.h"
#include "pipeline/write_back_cache.h"
#include "rocks/flink_options.h"
#include "rocks/place_db.h"
#include "util/error.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

namespace {

void check(const rocksdb::Status& s, const fs::path& dir, const char* what) {
  if (!s.ok()) throw rocks::RocksError(fmt::format("{}: {}: {}", dir.string(), what, s.ToString()));
}

// Flink's options where they matter to the files: its list-state merge operator on every column
// family (so that the OPTIONS file names it, as Flink's does), no info log chatter.
rocksdb::ColumnFamilyOptions column_family_options(const fs::path& dir) {
  rocksdb::ColumnFamilyOptions o;
  o.merge_operator = rocks::flink_merge_operator(dir);
  // Bloom filters in the table files (Flink's state.backend.rocksdb.use-bloom-filter): most reads
  // that reach the database are first accesses of a key or window, i.e. of absent keys, which a
  // filter answers without searching every level-0 file's blocks.
  static const std::shared_ptr<rocksdb::TableFactory> table = [] {
    rocksdb::BlockBasedTableOptions t;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(t));
  }();
  o.table_factory = table;
  return o;
}

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.info_log_level = rocksdb::InfoLogLevel::HEADER_LEVEL;
  o.keep_log_file_num = 1;
  o.stats_dump_period_sec = 0;
  return o;
}

// LongSerializer: 8 bytes big-endian into out[0..7].
void put_long(char* out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i, u >>= 8) out[i] = static_cast<char>(u & 0xFF);
}

std::string encode_long(int64_t v) {
  std::string out(8, '\0');
  put_long(out.data(), v);
  return out;
}

int64_t decode_long(std::string_view b, const char* what) {
  io::ByteReader r(b);
  int64_t v = r.i64(what);
  if (!r.at_end()) throw io::DecodeError(r.offset(), fmt::format("{}: {} bytes, expected 8", what, b.size()));
  return v;
}

// Files uploaded to shared/ by each checkpoint (name -> stream), shared with the asynchronous
// parts of snapshots (which may outlive the backend while a job is cancelled).
struct Uploads {
  std::mutex mu;
  std::map<int64_t, std::map<std::string, PersistedStream>> by_checkpoint;
  int64_t last_completed = -1;
};

class RocksDbBackend final : public KeyedStateBackend {
 public:
  RocksDbBackend(flink::KeyGroupRange range, const RocksBackendOptions& options)
      : range_(range),
        options_(options),
        prefix_bytes_(flink::key_group_prefix_bytes(options.max_parallelism)),
        heap_(make_hashmap_backend(range, options.max_parallelism)),
        uploads_(std::make_shared<Uploads>()) {
    std::mt19937_64 rng{std::random_device{}()};
    backend_id_ = flink::random_uuid(rng);
    fs::path base = options_.local_dir.empty() ? fs::temp_directory_path() : options_.local_dir;
    work_dir_ = base / ("ckpt-rocksdb-" + random_hex(16));
    db_dir_ = work_dir_ / "db";
    fs::create_directories(db_dir_);
    write_options_.disableWAL = true;
    open(false);
  }

  ~RocksDbBackend() override {
    close();
    std::error_code ec;
    fs::remove_all(work_dir_, ec);
  }

  flink::KeyGroupRange key_groups() const override { return range_; }

  int declare_value_state(std::string name, NamespaceKind ns) override {
    states_.push_back({std::move(name), ns});
    cfs_.push_back(column_family(states_.back().name));
    caches_.emplace_back(options_.cache_entries);
    return static_cast<int>(states_.size()) - 1;
  }

  void declare_timers(std::string name, NamespaceKind ns) override {
    timer_name_ = name;
    timer_ns_ = ns;
    has_timers_ = true;
    heap_->declare_timers(std::move(name), ns);
  }

  void set_current_key(std::string_view key, int32_t key_group) override {
    require_key_group(range_, key_group);
    key_.assign(key);
    kg_ = key_group;
    prefix_.clear();
    append_prefix(prefix_, key_group);
    write_java_string(prefix_, key);
    key_hash_ = StateTable::hash_key(prefix_);
    memo_valid_ = false;
  }

  std::optional<int64_t> value(int state, const Namespace& ns) override {
    const WriteBackCache::Entry& e = cache(state).at(entry(state, ns, /*load=*/true));
    if (!e.present) return std::nullopt;
    return e.value;
  }

  void update(int state, const Namespace& ns, int64_t v) override {
    cache(state).set(entry(state, ns, /*load=*/false), v);
  }

  void clear(int state, const Namespace& ns) override {
    cache(state).set(entry(state, ns, /*load=*/false), std::nullopt);
  }

  void register_event_timer(const Namespace& ns, int64_t timestamp) override {
    heap_->set_current_key(key_, kg_);
    heap_->register_event_timer(ns, timestamp);
  }

  bool poll_timer(int64_t watermark, Timer& out) override {
    if (!heap_->poll_timer(watermark, out)) return false;
    set_current_key(out.key, out.key_group);
    return true;
  }

  // Canonical (key-grouped) snapshot: the values of every column family plus the heap timers.
  KeyedSnapshot snapshot(bool compress, state::KeyedLayout layout) const override {
    write_back_all();
    struct Item {
      std::string key;
      Namespace ns;
      int64_t value;
    };
    auto groups = static_cast<std::size_t>(std::max(range_.count, 0));
    std::size_t kinds = states_.size() + (has_timers_ ? 1 : 0);
    std::vector<std::vector<std::vector<Item>>> items(groups, std::vector<std::vector<Item>>(kinds));
    for (std::size_t si = 0; si < states_.size(); ++si) {
      for_each_entry(db_.get(), cfs_[si], db_dir_, [&](int32_t kg, std::string_view k, std::string_view v) {
        if (kg < range_.start || kg > range_.end_inclusive()) return;
        io::ByteReader r(k.substr(static_cast<std::size_t>(prefix_bytes_)));
        Item it;
        it.key = read_java_string(r);
        it.ns = read_namespace(r, states_[si].ns);
        it.value = decode_long(v, "value");
        items[static_cast<std::size_t>(kg - range_.start)][si].push_back(std::move(it));
      });
    }
    std::vector<KeyedStateInfo> infos;
    for (const auto& s : states_) infos.push_back({s.name, KeyedStateKind::kValue, s.ns});
    if (has_timers_) {
      infos.push_back({timer_name_, KeyedStateKind::kEventTimers, timer_ns_});
      std::vector<std::vector<Timer>> timers = timers_by_key_group();
      for (std::size_t g = 0; g < groups; ++g) {
        for (Timer& t : timers[g]) items[g][states_.size()].push_back({std::move(t.key), t.ns, t.timestamp});
      }
    }
    KeyedSnapshotWriter w(infos, compress, layout, options_.max_parallelism);
    KeyedSnapshot out;
    out.range = range_;
    for (std::size_t g = 0; g < groups; ++g) {
      w.begin_key_group(range_.start + static_cast<int32_t>(g));
      for (std::size_t si = 0; si < kinds; ++si) {
        const auto& v = items[g][si];
        w.add_state(static_cast<int>(si), static_cast<int32_t>(v.size()));
        for (const Item& it : v) {
          if (si < states_.size()) w.add_value(it.key, it.ns, it.value);
          else w.add_timer(it.value, it.key, it.ns);
        }
        out.entries += static_cast<int64_t>(v.size());
      }
    }
    out.payload = w.finish();
    out.offsets = w.offsets();
    return out;
  }

  void restore(std::string_view payload, flink::KeyGroupRange range, const flink::I64Array& offsets,
               bool canonical_handle) override {
    std::string_view timers = has_timers_ ? std::string_view(timer_name_) : std::string_view();
    restore_through(
        *this, payload, range, offsets, KeyedSnapshotFacts{options_.max_parallelism, canonical_handle},
        [this](std::string_view name) { return state_index(name); }, timers);
  }

  using KeyedStateBackend::restore_native;
  void restore_native(std::span<const NativePiece> pieces) override {
    for (const NativePiece& p : pieces) {
      if (!p.files.outside.empty()) throw io::outside_error(p.files.outside);
      if (!p.files.ok()) throw util::Error(util::ErrorKind::kInput, p.files.problems.front());
    }
    // The pieces' entries go into the database under the caches: empty them first.
    write_back_all();
    for (WriteBackCache& c : caches_) c.clear();
    memo_valid_ = false;
    // Flink's rescaling (RocksDBIncrementalRestoreOperation): the piece sharing the most key
    // groups becomes the database, clipped to this range with range deletions; the other pieces'
    // entries of this range are inserted. Only a backend without state yet can take a base.
    const NativePiece* base = nullptr;
    if (!restored_) {
      for (const NativePiece& p : pieces) {
        if (overlap(p.range) > 0 && (!base || overlap(p.range) > overlap(base->range))) base = &p;
      }
    }
    if (base) open_base(*base);
    for (const NativePiece& p : pieces) {
      if (&p != base && overlap(p.range) > 0) insert_overlap(p);
    }
    restored_ = true;
    std::lock_guard<std::mutex> lock(uploads_->mu);
    uploads_->by_checkpoint.clear();
    uploads_->last_completed = -1;
  }

  // `compress` does not apply: Flink compresses neither the files of a native snapshot nor the raw
  // keyed state its heap timers are written to.
  std::optional<NativeSnapshot> native_snapshot(int64_t checkpoint_id, bool /*compress*/, bool savepoint) override {
    // Synchronous part: the cached changes into the database, memtables to table files (no WAL),
    // then hard links of the live files, straight into the local recovery copy when there is one
    // (kept after persisting).
    write_back_all();
    check(db_->Flush(rocksdb::FlushOptions(), handles_), db_dir_, "flush");
    bool keep_local = !savepoint && options_.local_snapshot_dir;
    fs::path local = keep_local ? options_.local_snapshot_dir(checkpoint_id, backend_id_)
                                : work_dir_ / fmt::format("chk-{}", checkpoint_id);
    std::error_code ec;
    fs::remove_all(local, ec);
    rocksdb::Checkpoint* cp = nullptr;
    check(rocksdb::Checkpoint::Create(db_.get(), &cp), db_dir_, "checkpoint");
    std::unique_ptr<rocksdb::Checkpoint> owned(cp);
    check(cp->CreateCheckpoint(local.string()), local, "create checkpoint");

    NativeSnapshot n;
    n.timers = raw_timers();
    // The meta stream as Flink writes it (state spec §7.4): the keyed backend proxy naming each
    // column family's state with its serializers.
    std::vector<KeyedStateInfo> infos;
    for (const auto& s : states_) infos.push_back({s.name, KeyedStateKind::kValue, s.ns});
    std::string meta = keyed_proxy_of(infos, false);
    // Reuse only when the last completed checkpoint is also the last one this backend took: then
    // its files stay retained until this checkpoint completes (only a later checkpoint can
    // subsume it). Otherwise (a checkpoint failed, or its completion has not been notified yet
    // while another may already have subsumed the last completed one) upload everything.
    // A native savepoint reuses nothing and is no base for later checkpoints (Flink's NO_SHARING).
    std::map<std::string, PersistedStream> reuse;
    if (!savepoint) {
      std::lock_guard<std::mutex> lock(uploads_->mu);
      auto it = uploads_->by_checkpoint.find(uploads_->last_completed);
      if (it != uploads_->by_checkpoint.end() && uploads_->last_completed == last_snapshot_) reuse = it->second;
      last_snapshot_ = checkpoint_id;
    }
    n.persist = [uploads = uploads_, local, meta = std::move(meta), reuse = std::move(reuse), checkpoint_id,
                 backend_id = backend_id_, incremental = options_.incremental,
                 keep_local](const SnapshotLocation& loc) {
      return persist_native(loc, local, meta, reuse, checkpoint_id, backend_id, incremental, keep_local, *uploads);
    };
    return n;
  }

  void notify_checkpoint_complete(int64_t id) override {
    std::lock_guard<std::mutex> lock(uploads_->mu);
    auto& m = uploads_->by_checkpoint;
    if (m.find(id) == m.end()) return;  // not a native checkpoint of this backend (e.g. after a restore)
    uploads_->last_completed = id;
    m.erase(m.begin(), m.find(id));
  }

  int64_t num_entries() const override {
    write_back_all();
    int64_t n = heap_->num_entries();
    for (auto* h : cfs_)
      for_each_entry(db_.get(), h, db_dir_, [&](int32_t, std::string_view, std::string_view) { ++n; });
    return n;
  }

 private:
  struct State {
    std::string name;
    NamespaceKind ns = NamespaceKind::kVoid;
  };

  // The heap timers by key group of the range (read off the heap backend's snapshot).
  std::vector<std::vector<Timer>> timers_by_key_group() const {
    std::vector<std::vector<Timer>> out(static_cast<std::size_t>(std::max(range_.count, 0)));
    if (!has_timers_) return out;
    KeyedSnapshot t = heap_->snapshot(false);
    std::string offsets_be = encode_offsets(t.offsets);
    read_keyed_snapshot(t.payload, t.range, flink::I64Array(offsets_be), range_,
                        KeyedSnapshotFacts{options_.max_parallelism, false},
                        [&](const KeyedStateInfo&, const KeyedEntry& e) {
                          out[static_cast<std::size_t>(e.key_group - range_.start)].push_back(
                              Timer{e.value, e.key_group, std::string(e.key), e.ns});
                        });
    return out;
  }

  // The heap timers as Flink writes them beside a RocksDB snapshot: raw keyed state (spec §8.4).
  KeyedSnapshot raw_timers() const {
    std::vector<std::vector<Timer>> timers = timers_by_key_group();
    RawTimersWriter w(has_timers_ ? std::string_view(timer_name_) : std::string_view(), timer_ns_);
    KeyedSnapshot out;
    out.range = range_;
    for (std::size_t g = 0; g < timers.size(); ++g) {
      w.begin_key_group(range_.start + static_cast<int32_t>(g), static_cast<int32_t>(timers[g].size()));
      for (const Timer& t : timers[g]) w.add_timer(t.timestamp, t.key, t.ns);
      out.entries += static_cast<int64_t>(timers[g].size());
    }
    out.payload = w.finish();
    out.offsets = w.offsets();
    return out;
  }

  static std::string encode_offsets(const std::vector<int64_t>& offsets) {
    std::string out;
    for (int64_t o : offsets) out += encode_long(o);
    return out;
  }

  // Calls fn(key group, key, value) for every entry of a column family (of the key groups `only`,
  // when given), in key order.
  template <typename Fn>
  void for_each_entry(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h, const fs::path& dir, Fn&& fn,
                      std::optional<flink::KeyGroupRange> only = std::nullopt) const {
    rocksdb::ReadOptions ro;
    std::string lower, upper;
    rocksdb::Slice upper_slice;
    if (only) {
      lower = prefix_of(only->start);
      upper = prefix_of(only->end_inclusive() + 1);
      upper_slice = upper;
      ro.iterate_upper_bound = &upper_slice;
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, h));
    for (only ? it->Seek(lower) : it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k = it->key().ToStringView();
      if (k.size() < static_cast<std::size_t>(prefix_bytes_)) {
        throw io::DecodeError(0, fmt::format("{}: column family {}: key of {} bytes lacks the key-group prefix",
                                             dir.string(), h->GetName(), k.size()));
      }
      int32_t kg = 0;
      for (int i = 0; i < prefix_bytes_; ++i) kg = (kg << 8) | static_cast<uint8_t>(k[static_cast<std::size_t>(i)]);
      fn(kg, k, it->value().ToStringView());
    }
    check(it->status(), dir, "iterate");
  }

  static NativeKeyedResult persist_native(const SnapshotLocation& loc, const fs::path& local, const std::string& meta,
                                          const std::map<std::string, PersistedStream>& reuse, int64_t checkpoint_id,
                                          const std::string& backend_id, bool incremental, bool keep_local,
                                          Uploads& uploads) {
    NativeKeyedResult r;
    r.checkpoint_id = checkpoint_id;
    r.backend_id = backend_id;
    r.meta = persist(loc, meta, "rocksdb meta");
    r.checkpointed_size = r.meta.size;
    // Incremental uploads go to <job dir>/shared/ (absolute handles); jobmanager storage and
    // in-memory checkpoints have no shared directory and inline everything. A native savepoint
    // lists `.sst` files as shared too (Flink's incremental strategy with NO_SHARING) but writes
    // every file into the savepoint directory (EXCLUSIVE scope: relative handles, relocatable).
    bool sst_shared = incremental && !loc.dir.empty() && !loc.inline_only;
    bool shared_dir = sst_shared && !loc.savepoint;
    const SnapshotLocation shared_loc = shared_dir ? shared_location(loc) : loc;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(local)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::map<std::string, PersistedStream> used;
    auto upload = [&](const fs::path& p, bool to_shared) {
      PersistedStream st = persist_file(to_shared ? shared_loc : loc, p, p.filename().string());
      if (st.kind == PersistedStream::Kind::kFile && to_shared) {
        st.kind = PersistedStream::Kind::kAbsoluteFile;
        st.name = absolute_file_name(shared_loc, st.name);
      }
      r.checkpointed_size += st.size;
      return st;
    };
    for (const fs::path& p : files) {
      std::string name = p.filename().string();
      if (sst_shared && rocks::is_sst(name)) {
        auto it = reuse.find(name);
        PersistedStream st = it != reuse.end() ? it->second : upload(p, shared_dir);
        used[name] = st;
        r.shared.emplace_back(name, std::move(st));
      } else {
        r.private_files.emplace_back(name, upload(p, shared_dir));
      }
    }
    std::error_code ec;
    if (!keep_local) fs::remove_all(local, ec);
    if (shared_dir) {
      std::lock_guard<std::mutex> lock(uploads.mu);
      uploads.by_checkpoint[checkpoint_id] = std::move(used);
    }
    return r;
  }

  // Appends the key-group prefix of `key_group` (spec §14.3: 1 or 2 bytes, big-endian).
  void append_prefix(std::string& out, int32_t key_group) const {
    for (int i = prefix_bytes_ - 1; i >= 0; --i) out.push_back(static_cast<char>((key_group >> (8 * i)) & 0xFF));
  }

  // The prefix of `key_group` alone: a bound for seeks and range deletions.
  std::string prefix_of(int32_t key_group) const {
    std::string out;
    append_prefix(out, key_group);
    return out;
  }

  WriteBackCache& cache(int state) const { return caches_[static_cast<std::size_t>(state)]; }

  // The cache entry of (current key, `ns`) in `state`, added when missing: with the database's
  // value when `load` (a read), else as a placeholder the caller overwrites (a blind write). The
  // operators read then write the same entry per record, so the last one found is remembered.
  std::size_t entry(int state, const Namespace& ns, bool load) {
    if (memo_valid_ && memo_state_ == state && memo_ns_ == ns) return memo_index_;
    WriteBackCache& c = cache(state);
    buf_.assign(prefix_);
    write_namespace(buf_, states_[static_cast<std::size_t>(state)].ns, ns);
    uint64_t h = StateTable::hash_entry(key_hash_, ns);
    std::size_t i = c.find(buf_, h);
    if (i == WriteBackCache::npos) {
      if (c.full()) {  // evict everything: simple, and the hot keys come back after one miss each
        write_back(state);
        c.clear();
      }
      std::optional<int64_t> v;
      if (load) {
        rocksdb::PinnableSlice got;
        rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(state), buf_, &got);
        if (!s.IsNotFound()) {
          check(s, db_dir_, "get");
          v = decode_long(got.ToStringView(), "value");
        }
      }
      i = c.add(buf_, h, v, /*dirty=*/false);
    }
    memo_valid_ = true;
    memo_state_ = state;
    memo_ns_ = ns;
    memo_index_ = i;
    return i;
  }

  // Writes the changed values of `state`'s cache into the database (one batch).
  void write_back(int state) const {
    WriteBackCache& c = cache(state);
    rocksdb::ColumnFamilyHandle* h = cf(state);
    rocksdb::WriteBatch& batch = batch_;  // a member: its buffer (megabytes) is reused
    batch.Clear();
    char be[8];
    c.write_back(
        [&](std::string_view k, int64_t v) {
          put_long(be, v);
          check(batch.Put(h, k, rocksdb::Slice(be, 8)), db_dir_, "batch put");
        },
        [&](std::string_view k) { check(batch.Delete(h, k), db_dir_, "batch delete"); });
    if (batch.Count() > 0) check(db_->Write(write_options_, &batch), db_dir_, "write");
    batch.Clear();
    memo_valid_ = false;
  }

  // Every cache written back: the database then holds the backend's whole state. Const because
  // the state does not change, only where it is kept.
  void write_back_all() const {
    for (std::size_t i = 0; i < caches_.size(); ++i) write_back(static_cast<int>(i));
  }

  // Key groups `r` shares with this backend's range.
  int32_t overlap(flink::KeyGroupRange r) const {
    return std::max(0, std::min(r.end_inclusive(), range_.end_inclusive()) - std::max(r.start, range_.start) + 1);
  }

  // Throws io::DecodeError when a column family of `db` (other than the default) is no declared
  // state.
  void require_declared(const std::vector<rocksdb::ColumnFamilyHandle*>& handles, const NativePiece& piece) const {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h->GetName() == rocksdb::kDefaultColumnFamilyName || state_index(h->GetName()) >= 0) continue;
      throw io::DecodeError(
          0, fmt::format("{}: snapshot has state '{}' the operator does not declare", piece.files.where, h->GetName()));
    }
  }

  // The piece's files become the database (`.sst` hard-linked), and the key groups of the piece
  // outside this backend's range are deleted with one range deletion per side and column family
  // (keys start with the big-endian key-group prefix, so a key group's keys are contiguous and
  // [prefix(a), prefix(b)) holds exactly key groups a..b-1).
  void open_base(const NativePiece& piece) {
    close();
    fs::remove_all(db_dir_);
    fs::create_directories(db_dir_);
    rocks::place_db_files(piece.files, db_dir_, /*link_ssts=*/true);
    open(true);
    require_declared(handles_, piece);
    std::vector<std::pair<std::string, std::string>> outside;
    if (piece.range.start < range_.start) outside.emplace_back(prefix_of(piece.range.start), prefix_of(range_.start));
    if (piece.range.end_inclusive() > range_.end_inclusive()) {
      outside.emplace_back(prefix_of(range_.end_inclusive() + 1), prefix_of(piece.range.end_inclusive() + 1));
    }
    // Then the deleted ranges are compacted away: the hidden entries would otherwise stay in the
    // base's table files, be uploaded again by every checkpoint, and make its table files look
    // out of range to anything that reads them without the tombstones (which are small enough to
    // be inlined in `_metadata`).
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      for (const auto& [from, to] : outside)
        check(db_->DeleteRange(write_options_, h, from, to), db_dir_, "delete range");
      for (const auto& [from, to] : outside) {
        rocksdb::Slice b(from), e(to);
        check(db_->CompactRange(co, h, &b, &e), db_dir_, "compact deleted range");
      }
    }
  }

  // Inserts the entries of this backend's key groups from a piece laid out in a temporary
  // directory, reading only those key groups.
  void insert_overlap(const NativePiece& piece) {
    fs::path tmp = work_dir_ / fmt::format("restore-{}", restore_count_++);
    fs::create_directories(tmp);
    rocks::place_db_files(piece.files, tmp, /*link_ssts=*/true);
    {
      rocks::OpenDb src(tmp, rocks::OpenDb::Mode::kReadOnly);
      require_declared(src.handles(), piece);
      for (rocksdb::ColumnFamilyHandle* h : src.handles()) {
        if (h->GetName() == rocksdb::kDefaultColumnFamilyName) continue;
        rocksdb::ColumnFamilyHandle* dst = cf(state_index(h->GetName()));
        rocksdb::WriteBatch batch;
        for_each_entry(
            src.db(), h, tmp,
            [&](int32_t, std::string_view k, std::string_view v) {
              check(batch.Put(dst, k, v), db_dir_, "batch put");
              if (batch.GetDataSize() >= (1u << 20)) {
                check(db_->Write(write_options_, &batch), db_dir_, "write");
                batch.Clear();
              }
            },
            range_);
        check(db_->Write(write_options_, &batch), db_dir_, "write");
      }
    }
    fs::remove_all(tmp);
  }

  rocksdb::ColumnFamilyHandle* cf(int state) const { return cfs_[static_cast<std::size_t>(state)]; }

  // The index of the declared state `name`, or -1.
  int state_index(std::string_view name) const {
    auto it = std::find_if(states_.begin(), states_.end(), [&](const State& st) { return st.name == name; });
    return it == states_.end() ? -1 : static_cast<int>(it - states_.begin());
  }

  // The handle of column family `name`, created when the database lacks it.
  rocksdb::ColumnFamilyHandle* column_family(const std::string& name) {
    for (auto* h : handles_) {
      if (h->GetName() == name) return h;
    }
    rocksdb::ColumnFamilyHandle* h = nullptr;
    check(db_->CreateColumnFamily(column_family_options(db_dir_), name, &h), db_dir_, "create column family");
    handles_.push_back(h);
    return h;
  }

  void open(bool existing) {
    std::vector<std::string> names{rocksdb::kDefaultColumnFamilyName};
    if (existing)
      check(rocksdb::DB::ListColumnFamilies(db_options(), db_dir_.string(), &names), db_dir_, "list column families");
    std::vector<rocksdb::ColumnFamilyDescriptor> cfds;
    for (const auto& n : names) cfds.emplace_back(n, column_family_options(db_dir_));
    rocksdb::DB* raw = nullptr;
    check(rocksdb::DB::Open(db_options(), db_dir_.string(), cfds, &handles_, &raw), db_dir_, "open");
    db_.reset(raw);
    cfs_.clear();
    for (const auto& s : states_) cfs_.push_back(column_family(s.name));
  }

  void close() {
    if (!db_) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    cfs_.clear();
    db_->Close();
    db_.reset();
  }

  flink::KeyGroupRange range_;
  RocksBackendOptions options_;
  int prefix_bytes_;
  std::unique_ptr<KeyedStateBackend> heap_;  // the timers (a hashmap backend without value states)
  std::shared_ptr<Uploads> uploads_;
  std::string backend_id_;
  fs::path work_dir_, db_dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every open column family
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;      // per declared state
  std::vector<State> states_;
  rocksdb::WriteOptions write_options_;
  bool has_timers_ = false;
  std::string timer_name_;
  NamespaceKind timer_ns_ = NamespaceKind::kVoid;
  std::string key_;  // current key (UTF-8)
  int32_t kg_ = 0;
  std::string prefix_;                          // key-group prefix + serialized current key
  uint64_t key_hash_ = 0;                       // StateTable::hash_key(prefix_)
  std::string buf_;                             // the RocksDB key being looked up
  mutable std::vector<WriteBackCache> caches_;  // per declared state
  mutable rocksdb::WriteBatch batch_;           // write_back()'s
  // The entry entry() found last (valid until the key changes or a cache is written back).
  mutable bool memo_valid_ = false;
  int memo_state_ = 0;
  Namespace memo_ns_;
  std::size_t memo_index_ = 0;
  int64_t last_snapshot_ = -1;  // id of the latest native snapshot taken
  bool restored_ = false;
  int restore_count_ = 0;
};

}  // namespace

std::unique_ptr<KeyedStateBackend> make_rocksdb_backend(flink::KeyGroupRange range,
                                                        const RocksBackendOptions& options) {
  return std::make_unique<RocksDbBackend>(range, options);
}

}  // namespace ckpt::pipeline
