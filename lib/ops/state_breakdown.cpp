#include "ops/state_breakdown.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

#include "flink/operator_id.h"
#include "io/byte_reader.h"
#include "io/decode_error.h"
#include "io/mutf8.h"
#include "rocks/db_files.h"
#include "rocks/sst_properties.h"
#include "snapshot/read_scope.h"
#include "state/backend_proxy.h"
#include "state/keyed_payload.h"
#include "state/operator_payload.h"
#include "state/raw_timers.h"
#include "util/error.h"

namespace ckpt::ops {

namespace {

ckpt::StateKind keyed_kind(const state::StateMeta& m) {
  if (m.backend == state::BackendStateType::kPriorityQueue) {
    return m.name.starts_with("_timer_state/") ? ckpt::TIMERS : ckpt::PRIORITY_QUEUE;
  }
  std::string k = m.keyed_kind();
  if (k == "LIST") return ckpt::LIST;
  if (k == "MAP") return ckpt::MAP;
  if (k == "REDUCING") return ckpt::REDUCING;
  if (k == "AGGREGATING") return ckpt::AGGREGATING;
  if (k == "FOLDING") return ckpt::FOLDING;
  return ckpt::VALUE;
}

ckpt::StateKind operator_kind(const state::StateMeta& m) {
  std::string d = m.distribution();
  if (d == "UNION") return ckpt::OPERATOR_UNION;
  if (d == "BROADCAST") return ckpt::OPERATOR_BROADCAST;
  return ckpt::OPERATOR_LIST;
}

std::string type_or_empty(const state::Type* t) { return t == nullptr ? std::string() : state::type_name(*t); }

// Rows keyed by (operator index, state name): the order of first appearance is kept.
class Rows {
 public:
  explicit Rows(const flink::Metadata& md) : md_(md) {}

  ckpt::StateRow& row(std::size_t op, const std::string& name) {
    auto key = std::make_pair(op, name);
    auto it = index_.find(key);
    if (it != index_.end()) return *rows_[it->second];
    auto r = std::make_unique<ckpt::StateRow>();
    const flink::OperatorState& o = md_.operators[op];
    r->set_operator_id(flink::to_hex(o.id));
    r->set_uid(io::lenient_mutf8_to_utf8(o.uid));
    r->set_operator_name(io::lenient_mutf8_to_utf8(o.name));
    r->set_state(name);
    index_.emplace(key, rows_.size());
    rows_.push_back(std::move(r));
    return *rows_.back();
  }

  // Sets the row's description from a proxy's meta info (the first payload that lists it wins).
  ckpt::StateRow& describe(std::size_t op, const state::StateMeta& m, const state::Type* key_type, bool keyed) {
    ckpt::StateRow& r = row(op, m.name);
    if (r.kind() == ckpt::STATE_KIND_UNSPECIFIED) {
      r.set_kind(keyed ? keyed_kind(m) : operator_kind(m));
      if (keyed && key_type != nullptr) r.set_key_type(state::type_name(*key_type));
      r.set_namespace_type(type_or_empty(m.serializer("NAMESPACE_SERIALIZER")));
      const state::Type* v = m.serializer("VALUE_SERIALIZER");
      r.set_value_type(type_or_empty(v));
      if (m.backend == state::BackendStateType::kBroadcast) {
        r.set_value_type(fmt::format("Map<{}, {}>", type_or_empty(m.serializer("KEY_SERIALIZER")), type_or_empty(v)));
      }
      r.set_ttl(is_ttl(v));
    }
    return r;
  }

  // A timer service's row from raw keyed state, described as Flink 1.6+ names it in managed state.
  ckpt::StateRow& describe_timers(std::size_t op, const state::TimerService& s, bool event_time) {
    ckpt::StateRow& r = row(op, state::timer_state_name(s.name, event_time));
    if (r.kind() == ckpt::STATE_KIND_UNSPECIFIED) {
      r.set_kind(ckpt::TIMERS);
      r.set_key_type(state::type_name(s.key));
      r.set_namespace_type(state::type_name(s.ns));
      state::Type timer;
      timer.kind = state::Kind::kTimer;
      timer.children = {s.key, s.ns};
      r.set_value_type(state::type_name(timer));
      r.set_source(ckpt::RAW_KEYED_TIMERS);
    }
    return r;
  }

  void move_into(ckpt::StatesReport& report) {
    for (auto& r : rows_) *report.add_states() = std::move(*r);
  }

 private:
  static bool is_ttl(const state::Type* v) {
    if (v == nullptr) return false;
    if (v->kind == state::Kind::kTtl) return true;
    // LIST and MAP wrap each element / map value (spec §5.6).
    if (v->kind == state::Kind::kList && !v->children.empty()) return v->children[0].kind == state::Kind::kTtl;
    if (v->kind == state::Kind::kMap && v->children.size() == 2) return v->children[1].kind == state::Kind::kTtl;
    return false;
  }

  const flink::Metadata& md_;
  std::map<std::pair<std::size_t, std::string>, std::size_t> index_;
  std::vector<std::unique_ptr<ckpt::StateRow>> rows_;
};

// Entries of one heap record: a MAP value is a whole map (count its entries).
uint64_t heap_entries(const state::StateMeta& m, const state::KeyedRecord& rec) {
  if (!rec.rocksdb_format && m.keyed_kind() == "MAP" && rec.value.bytes.size() >= 4) {
    io::ByteReader r(rec.value.bytes, rec.value.offset);
    int32_t n = r.i32("map size");
    return n > 0 ? static_cast<uint64_t>(n) : 0;
  }
  return 1;
}

}  // namespace

ckpt::StatesReport state_breakdown(const flink::Metadata& md, const snapshot::Location& loc,
                                   const std::vector<snapshot::PathMapping>& mappings, const OperatorFilter& filter) {
  ckpt::StatesReport report;
  const std::filesystem::path& snapshot_dir = loc.directory;
  io::ReadScope scope = snapshot::read_scope(loc, mappings, {});
  Rows rows(md);
  auto problem = [&](const std::string& line) { report.add_problems(line); };
  // Column families of each RocksDB subtask, sized once per operator from table properties.
  std::map<std::pair<std::size_t, int32_t>, const flink::IncrementalHandle*> rocksdb;

  for (const StatePayload& p : state_payloads(md, filter)) {
    std::string where = payload_where(md, p);
    std::string label;
    std::string bytes;
    try {
      bytes = read_payload_bytes(*p.stream, snapshot_dir, mappings, scope, &label);
    } catch (const util::Error& e) {
      problem(fmt::format("{}: {}", where, e.what()));
      continue;
    }
    if (auto why = not_flink_format(bytes)) {
      problem(fmt::format("{}: {}: byte 0: {}", where, label, *why));
      continue;
    }
    try {
      if (p.kind == StatePayload::Kind::kOperator) {
        state::OperatorProxy proxy = state::read_operator_proxy(bytes);
        std::vector<state::PartitionOffsets> parts = partition_offsets(*p.operator_handle);
        for (const auto* list : {&proxy.states, &proxy.broadcast}) {
          for (const state::StateMeta& m : *list) {
            ckpt::StateRow& r = rows.describe(p.operator_index, m, nullptr, false);
            r.set_subtasks(r.subtasks() + 1);
            r.set_source(ckpt::OPERATOR_PAYLOAD);
          }
        }
        state::OperatorVisitor v;
        v.record = [&](const state::OperatorRecord& rec) {
          ckpt::StateRow& r = rows.row(p.operator_index, std::string(rec.name));
          r.set_entries(r.entries() + 1);
          r.set_bytes(r.bytes() + rec.element.bytes.size() + rec.key.bytes.size() + rec.value.bytes.size());
        };
        v.problem = [&](const state::OperatorProblem& e) {
          problem(fmt::format("{}: {}: byte {}: state {}: {}", where, label, e.offset, e.state, e.message));
        };
        state::walk_operator_payload(bytes, 0, proxy, parts, v);
        continue;
      }
      if (p.kind == StatePayload::Kind::kLegacy) {
        LegacyOperatorState s = read_legacy_operator_state(bytes);
        ckpt::StateRow& r = rows.row(p.operator_index, std::string(kLegacyStateName));
        if (r.kind() == ckpt::STATE_KIND_UNSPECIFIED) {
          r.set_kind(ckpt::LEGACY_FUNCTION);
          r.set_value_type("Java-serialized");
          r.set_source(ckpt::LEGACY_PAYLOAD);
        }
        r.set_subtasks(r.subtasks() + 1);
        r.set_entries(r.entries() + 1);
        r.set_bytes(r.bytes() + s.function.size() + s.operator_bytes.size());
        continue;
      }
      if (p.kind == StatePayload::Kind::kRawKeyed) {
        std::set<std::string> listed;  // the rows this subtask counts in
        state::RawTimerVisitor v;
        v.service = [&](const state::TimerService& s, int32_t) {
          for (bool event_time : {true, false}) {
            ckpt::StateRow& r = rows.describe_timers(p.operator_index, s, event_time);
            if (listed.insert(r.state()).second) r.set_subtasks(r.subtasks() + 1);
          }
        };
        v.timer = [&](const state::RawTimer& t) {
          ckpt::StateRow& r = rows.describe_timers(p.operator_index, *t.service, t.event_time);
          r.set_entries(r.entries() + 1);
          r.set_bytes(r.bytes() + t.bytes);
        };
        v.problem = [&](const state::KeyedProblem& e) {
          problem(fmt::format("{}: {}: byte {}: raw keyed key group {}: {}", where, label, e.offset, e.key_group,
                              e.message));
        };
        state::walk_raw_timers(keyed_payload(md, p, bytes), v);
        continue;
      }
      state::KeyedProxy proxy = state::read_keyed_proxy(bytes);
      if (p.kind == StatePayload::Kind::kRocksDb) {
        if (proxy.length != bytes.size()) {
          problem(fmt::format("{}: {}: byte {}: {} bytes after the keyed proxy of a RocksDB meta file, expected none",
                              where, label, proxy.length, bytes.size() - proxy.length));
        }
        for (const state::StateMeta& m : proxy.states) {
          ckpt::StateRow& r = rows.describe(p.operator_index, m, &proxy.key, true);
          r.set_subtasks(r.subtasks() + 1);
          r.set_source(ckpt::ROCKSDB_PROPERTIES);
        }
        rocksdb[{p.operator_index, p.subtask}] = p.incremental;
        continue;
      }
      state::KeyedPayload kp = keyed_payload(md, p, bytes);
      state::KeyedLayout layout = state::detect_keyed_layout(kp, proxy);
      for (const state::StateMeta& m : proxy.states) {
        ckpt::StateRow& r = rows.describe(p.operator_index, m, &proxy.key, true);
        r.set_subtasks(r.subtasks() + 1);
        r.set_source(layout == state::KeyedLayout::kHeap ? ckpt::HEAP_PAYLOAD : ckpt::CANONICAL_PAYLOAD);
      }
      state::KeyedVisitor v;
      v.record = [&](const state::KeyedRecord& rec) {
        const state::StateMeta& m = proxy.states[rec.state];
        ckpt::StateRow& r = rows.row(p.operator_index, m.name);
        r.set_entries(r.entries() + heap_entries(m, rec));
        r.set_bytes(r.bytes() + rec.key.bytes.size() + rec.ns.bytes.size() + rec.user_key.bytes.size() +
                    rec.value.bytes.size());
      };
      v.problem = [&](const state::KeyedProblem& e) {
        problem(fmt::format("{}: {}: byte {}: key group {}: {}", where, label, e.offset, e.key_group, e.message));
      };
      state::walk_keyed_payload(kp, proxy, layout, v);
    } catch (const io::DecodeError& e) {
      problem(fmt::format("{}: {}: byte {}: {}", where, label, e.offset(), e.message()));
    }
  }

  // RocksDB state: the table properties of every SST file, by column family (= state name).
  if (!rocksdb.empty()) {
    for (const rocks::DbFiles& db : rocks::db_files_of(md, snapshot_dir, mappings, scope, true)) {
      if (db.operator_index < 0) continue;
      auto it = rocksdb.find({static_cast<std::size_t>(db.operator_index), db.subtask});
      if (it == rocksdb.end()) continue;
      for (const std::string& pr : db.problems) problem(pr);
      for (const rocks::DbFile& f : db.files) {
        if (!rocks::is_sst(f.name)) continue;
        rocks::SstProperties props;
        if (f.source == rocks::FileSource::kInline) {
          props = rocks::sst_properties_bytes(f.bytes);
        } else if (f.source == rocks::FileSource::kSegment) {
          try {
            props = rocks::sst_properties_bytes(
                read_file_range(scope, f.path.string(), static_cast<int64_t>(f.offset), static_cast<int64_t>(f.size)));
          } catch (const util::Error& e) {
            props.error = e.what();
          }
        } else {
          props = rocks::sst_properties(f.path);
        }
        if (props.error) {
          problem(fmt::format("{}: {}: {}", db.where, f.original, *props.error));
          continue;
        }
        if (props.column_family == "default") continue;
        ckpt::StateRow& r = rows.row(static_cast<std::size_t>(db.operator_index), props.column_family);
        r.set_entries(r.entries() + props.entries);
        r.set_bytes(r.bytes() + props.raw_key_bytes + props.raw_value_bytes);
        r.set_sst_files(r.sst_files() + 1);
      }
    }
  }
  rows.move_into(report);
  return report;
}

}  // namespace ckpt::ops
