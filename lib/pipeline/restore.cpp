#include "pipeline/restore.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "flink/key_groups.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "io/mutf8.h"
#include "pipeline/channel_state.h"
#include "pipeline/checkpoint_storage.h"
#include "pipeline/file_sink.h"
#include "pipeline/state_format.h"
#include "rocks/db_files.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"
#include "snapshot/read_scope.h"
#include "snapshot/store_discovery.h"
#include "storage/object_uri.h"
#include "util/error.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

snapshot::Location locate_restore_target(const std::string& path, const std::map<std::string, std::string>& settings,
                                         std::shared_ptr<storage::ObjectStore>& store) {
  std::string key;
  store = open_snapshot_store(path, settings, key);
  snapshot::Discovery d = store ? snapshot::discover_in_store(*store, key) : snapshot::discover(path);
  if (d.single) {
    if (d.snapshots.empty()) {
      throw util::Error(util::ErrorKind::kInput, fmt::format("{}: incomplete checkpoint (no _metadata)", path));
    }
    return d.snapshots.front();
  }
  // A job directory: its latest complete checkpoint.
  const snapshot::Location* best = nullptr;
  for (const auto& loc : d.snapshots) {
    if (!loc.checkpoint_number) continue;
    if (!best || *loc.checkpoint_number > *best->checkpoint_number) best = &loc;
  }
  if (!best)
    throw util::Error(util::ErrorKind::kInput, fmt::format("{}: no complete checkpoint to restore from", path));
  return *best;
}

CompletedSnapshot load_snapshot(const snapshot::Location& loc, std::shared_ptr<storage::ObjectStore> store) {
  std::shared_ptr<flink::Metadata> md;
  if (store) {
    const std::string uri = loc.metadata.native();
    auto u = storage::parse_object_uri(uri);
    md = std::make_shared<flink::Metadata>(
        flink::parse_metadata(store->read(u ? u->key : uri, snapshot::kMaxMetadataObjectBytes), uri));
  } else {
    md = std::make_shared<flink::Metadata>(flink::read_metadata_file(loc.metadata));
  }
  return unowned_snapshot(std::move(md), loc.directory, std::move(store));
}

namespace {

// Whether a snapshot holds state of `op` (Flink's OperatorSubtaskState.hasState, and the
// coordinator's state).
bool has_state(const flink::OperatorState& op) {
  if (op.coordinator.tag != flink::stream_tag::kNull) return true;
  for (const auto& s : op.subtasks) {
    if (s.finished) continue;
    if (!s.managed_operator.is_null() || !s.raw_operator.is_null() || !s.managed_keyed.is_null() ||
        !s.raw_keyed.is_null() || !s.input_channels.empty() || !s.output_channels.empty() ||
        !s.legacy_operator_states.empty() || !s.legacy_managed_chain.empty() || !s.legacy_raw_chain.empty()) {
      return true;
    }
  }
  return false;
}

const flink::OperatorState* find_operator(const flink::Metadata& md, std::string_view uid) {
  flink::OperatorId id = flink::operator_id_from_uid(uid);
  for (const auto& op : md.operators) {
    if (op.id == id) return &op;
  }
  return nullptr;
}

// Bytes of stream handles, read once per file.
class StreamBytes {
 public:
  StreamBytes(const flink::Metadata& md, const fs::path& dir, const std::vector<snapshot::PathMapping>& mappings,
              io::ReadScope scope)
      : scope_(std::move(scope)) {
    if (dir.empty()) return;
    for (const auto& f : snapshot::file_refs(md, dir, mappings)) {
      if (f.resolved.kind == snapshot::ResolvedPath::Kind::kLocal) paths_[f.ref.handle] = f.resolved.local;
    }
  }
  std::shared_ptr<const std::string> get(const flink::StreamHandle& h) {
    if (h.tag == flink::stream_tag::kByteStream) return std::make_shared<std::string>(h.data);
    auto it = paths_.find(&h);
    if (it == paths_.end()) {
      throw util::Error(util::ErrorKind::kInput,
                        fmt::format("state handle '{}' cannot be resolved to a local file", io::mutf8_to_utf8(h.name)));
    }
    auto cached = files_.find(it->second);
    if (cached != files_.end()) return cached->second;
    // Through the snapshot's read scope: a crafted handle cannot make the job's state (and so its
    // output) out of a file outside the snapshot's root.
    auto bytes = std::make_shared<std::string>();
    uint64_t size = io::regular_file_size(scope_, it->second);
    if (size > kMaxStateFile) {
      throw util::Error(util::ErrorKind::kInput,
                        fmt::format("{}: {} bytes, more than the {} a state file of this pipeline may have",
                                    it->second.string(), size, kMaxStateFile));
    }
    bytes->reserve(static_cast<std::size_t>(size));
    io::read_range(scope_, it->second, 0, size, [&](std::string_view piece) { bytes->append(piece); });
    files_[it->second] = bytes;
    return bytes;
  }
  std::string path_of(const flink::StreamHandle& h) const {
    auto it = paths_.find(&h);
    return it == paths_.end() ? std::string("inline state") : it->second.string();
  }

 private:
  static constexpr uint64_t kMaxStateFile = uint64_t{1} << 34;
  io::ReadScope scope_;
  std::map<const flink::StreamHandle*, fs::path> paths_;
  std::map<fs::path, std::shared_ptr<const std::string>> files_;
};

// Concatenates the list-state elements of `name` over the old subtasks, in subtask order.
std::vector<std::vector<std::string>> list_state_by_subtask(const flink::OperatorState* op, std::string_view name,
                                                            StreamBytes& bytes) {
  std::vector<std::vector<std::string>> out;
  if (!op) return out;
  out.resize(static_cast<std::size_t>(op->parallelism));
  for (const auto& s : op->subtasks) {
    if (s.finished || s.managed_operator.is_null()) continue;
    if (s.index < 0 || s.index >= op->parallelism) {
      throw util::Error(util::ErrorKind::kInput,
                        fmt::format("subtask index {} outside parallelism {}", s.index, op->parallelism));
    }
    auto payload = bytes.get(s.managed_operator.delegate);
    try {
      for (auto& st : read_operator_state(*payload, s.managed_operator.states)) {
        if (st.name != name) continue;
        auto& dst = out[static_cast<std::size_t>(s.index)];
        for (auto& e : st.elements) dst.push_back(std::move(e));
      }
    } catch (const io::DecodeError& e) {
      throw util::Error(
          util::ErrorKind::kInput,
          fmt::format("{}: byte {}: {}", bytes.path_of(s.managed_operator.delegate), e.offset(), e.message()));
    }
  }
  return out;
}

// SPLIT_DISTRIBUTE redistribution.
std::vector<std::vector<std::string>> redistribute(std::vector<std::vector<std::string>> old, int32_t parallelism) {
  if (static_cast<int32_t>(old.size()) == parallelism) return old;
  std::vector<std::string> all;
  for (auto& v : old) {
    for (auto& e : v) all.push_back(std::move(e));
  }
  std::vector<std::vector<std::string>> out(static_cast<std::size_t>(parallelism));
  std::size_t n = all.size(), p = static_cast<std::size_t>(parallelism);
  std::size_t pos = 0;
  for (std::size_t i = 0; i < p; ++i) {
    std::size_t take = n / p + (i < n % p ? 1 : 0);
    for (std::size_t k = 0; k < take; ++k) out[i].push_back(std::move(all[pos++]));
  }
  return out;
}

// The keyed state of `op` that overlaps `want`: key-grouped handles (managed and raw) as pieces,
// native RocksDB handles (tag 11, listed in `dbs`) as native pieces.
void keyed_pieces(const flink::OperatorState* op, StreamBytes& bytes, flink::KeyGroupRange want,
                  const std::shared_ptr<const flink::Metadata>& md, const std::vector<rocks::DbFiles>& dbs,
                  std::vector<KeyedRestore::Piece>& out, std::vector<NativePiece>& native) {
  if (!op) return;
  for (const auto& s : op->subtasks) {
    // Ranges come from the snapshot: one outside [0, max parallelism) is refused, so no key-group
    // arithmetic below can overflow.
    auto overlaps = [&](flink::KeyGroupRange r) {
      if (r.start < 0 || r.count < 0 || static_cast<int64_t>(r.start) + r.count > op->max_parallelism) {
        throw util::Error(util::ErrorKind::kInput,
                          fmt::format("subtask {}: key-group range start {} count {} lies outside the "
                                      "operator's key groups [0, {})",
                                      s.index, r.start, r.count, op->max_parallelism));
      }
      return !r.empty() && r.end_inclusive() >= want.start && r.start <= want.end_inclusive();
    };
    if (s.finished) continue;
    for (const flink::KeyedHandle* h : {&s.managed_keyed, &s.raw_keyed}) {
      if (h->is_null()) continue;
      if (const auto* inc = std::get_if<flink::IncrementalHandle>(&h->body)) {
        if (!overlaps(inc->range)) continue;
        auto db = std::find_if(dbs.begin(), dbs.end(), [&](const rocks::DbFiles& d) { return d.handle == inc; });
        if (db == dbs.end())
          throw util::Error(util::ErrorKind::kInput,
                            fmt::format("subtask {}: native RocksDB handle not found", s.index));
        native.push_back(NativePiece{md, *db, inc->range});
        continue;
      }
      const auto* kg = std::get_if<flink::KeyGroupsHandle>(&h->body);
      if (!kg) {
        throw util::Error(util::ErrorKind::kInput,
                          fmt::format("subtask {}: keyed state handle tag {} is neither a key-groups handle "
                                      "(tags 3, 7, 12) nor a native RocksDB handle (tags 5, 11)",
                                      s.index, h->tag));
      }
      if (!overlaps(kg->range)) continue;
      KeyedRestore::Piece p;
      p.payload = bytes.get(kg->delegate);
      p.range = kg->range;
      p.offsets_be = std::string(kg->offsets.raw());
      p.canonical_handle = h->tag == flink::keyed_tag::kSavepointKeyGroups;
      out.push_back(std::move(p));
    }
  }
}

}  // namespace

RestorePlan plan_restore(const CompletedSnapshot& snap, int32_t parallelism, int32_t max_parallelism_config,
                         bool allow_non_restored_state) {
  const flink::Metadata& md = *snap.metadata;
  RestorePlan plan;
  plan.snapshot = snap;

  const flink::MasterState* master = nullptr;
  for (const auto& m : md.masters) {
    if (io::mutf8_to_utf8(m.name) == kJobMasterStateName) master = &m;
  }
  if (!master) {
    throw util::Error(util::ErrorKind::kInput,
                      "not a snapshot of the ckpt pipeline: no 'ckpt-pipeline-job' master state");
  }
  plan.params = decode_job_params(master->payload);

  // Flink's Checkpoints.loadAndValidateCheckpoint: state of an operator the job does not have is
  // refused unless allowNonRestoredState; an operator without state is skipped either way.
  for (const auto& op : md.operators) {
    bool known = false;
    for (std::string_view uid : {kSourceUid, kCounterUid, kWindowsUid, kSinkUid}) {
      if (op.id == flink::operator_id_from_uid(uid)) known = true;
    }
    if (known || !has_state(op)) continue;
    const std::string id = flink::to_hex(op.id);
    if (!allow_non_restored_state) {
      throw util::Error(util::ErrorKind::kUsage,
                        fmt::format("cannot map the state of operator {} to the job: the job has no such operator "
                                    "(-n / --allowNonRestoredState skips it)",
                                    id));
    }
    plan.skipped_operators.push_back(id);
  }

  const auto* source = find_operator(md, kSourceUid);
  const auto* counter = find_operator(md, kCounterUid);
  const auto* windows = find_operator(md, kWindowsUid);
  const auto* sink = find_operator(md, kSinkUid);
  if (!source || !counter)
    throw util::Error(util::ErrorKind::kInput, "snapshot lacks the operators 'source' and 'counter' of the pipeline");
  plan.max_parallelism = counter->max_parallelism;
  plan.old_parallelism = counter->parallelism;
  if (max_parallelism_config != 0 && max_parallelism_config != plan.max_parallelism) {
    throw util::Error(
        util::ErrorKind::kUsage,
        fmt::format("pipeline.max-parallelism: is {}, but the snapshot was taken with maximum parallelism {} (key "
                    "groups cannot change)",
                    max_parallelism_config, plan.max_parallelism));
  }
  if (parallelism > plan.max_parallelism) {
    throw util::Error(
        util::ErrorKind::kUsage,
        fmt::format("parallelism {} exceeds the snapshot's maximum parallelism {}", parallelism, plan.max_parallelism));
  }

  // A snapshot in an object store is read from a local copy of the objects it names, with its
  // bucket mapped onto the copy.
  fs::path dir = snap.dir;
  std::vector<snapshot::PathMapping> mappings;
  if (snap.store) {
    snapshot::Location at;
    at.directory = snap.dir;
    at.metadata = snap.dir / snapshot::kMetadataFileName;
    plan.staged = std::make_shared<const snapshot::StoreCopy>(*snap.store, at, flink::write_metadata(md), md);
    dir = plan.staged->local_of(snap.dir.string());
    mappings = plan.staged->mappings();
  }
  // Everything the snapshot names is read from its root only (snapshot/read_scope.h).
  io::ReadScope scope;
  if (!dir.empty()) scope = snapshot::read_scope(snapshot::locate(dir / snapshot::kMetadataFileName), mappings, {});
  StreamBytes bytes(md, dir, mappings, scope);
  auto splits = redistribute(list_state_by_subtask(source, kSplitsStateName, bytes), parallelism);
  for (auto& v : splits) {
    auto& dst = plan.source_splits.emplace_back();
    for (const auto& e : v) dst.push_back(deserialize_split(e));
  }
  auto committables = redistribute(list_state_by_subtask(sink, kCommittablesStateName, bytes), parallelism);

  std::vector<rocks::DbFiles> dbs = rocks::db_files_of(md, dir, mappings, scope);  // native RocksDB handles
  plan.keyed.resize(static_cast<std::size_t>(parallelism));
  for (int32_t i = 0; i < parallelism; ++i) {
    auto& k = plan.keyed[static_cast<std::size_t>(i)];
    flink::KeyGroupRange want = flink::range_of_subtask(plan.max_parallelism, parallelism, i);
    keyed_pieces(counter, bytes, want, snap.metadata, dbs, k.counter, k.counter_native);
    keyed_pieces(windows, bytes, want, snap.metadata, dbs, k.windows, k.windows_native);
    if (static_cast<std::size_t>(i) < committables.size()) {
      for (const auto& e : committables[static_cast<std::size_t>(i)])
        k.committables.push_back(deserialize_committable(e));
    }
  }

  // Channel state: input channels of the counter (consumer side) first, then output
  // subpartitions of the source (producer side), in subtask order.
  std::vector<Record> in_flight;
  auto collect = [&](const flink::OperatorState* op, bool input) {
    if (!op) return;
    for (const auto& s : op->subtasks) {
      for (const auto& h : input ? s.input_channels : s.output_channels) {
        auto payload = bytes.get(h.delegate);
        for (const auto& c : h.channels) read_channel_state(*payload, c.offsets, plan.max_parallelism, in_flight);
      }
    }
  };
  collect(counter, true);
  collect(source, false);
  for (auto& r : in_flight) {
    int32_t owner = flink::subtask_for_key_group(plan.max_parallelism, parallelism, r.key_group);
    plan.keyed[static_cast<std::size_t>(owner)].in_flight.push_back(std::move(r));
  }
  return plan;
}

}  // namespace ckpt::pipeline
