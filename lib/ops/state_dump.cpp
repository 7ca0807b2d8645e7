#include "ops/state_dump.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <tuple>

#include "flink/key_groups.h"
#include "flink/operator_id.h"
#include "io/byte_reader.h"
#include "io/decode_error.h"
#include "io/mutf8.h"
#include "io/temp_dir.h"
#include "rocks/db_files.h"
#include "rocks/flink_db.h"
#include "rocks/flink_options.h"
#include "rocks/place_db.h"
#include "snapshot/read_scope.h"
#include "state/backend_proxy.h"
#include "state/key_codec.h"
#include "state/keyed_payload.h"
#include "state/operator_payload.h"
#include "state/raw_timers.h"
#include "state/value_codec.h"
#include "util/json_text.h"

namespace ckpt::ops {

namespace {

constexpr std::string_view kCsvHeader = "operator,uid,subtask,state,kind,key_group,key,namespace,user_key,value";

std::string_view kind_of(const state::StateMeta& m) {
  switch (m.backend) {
    case state::BackendStateType::kPriorityQueue:
      return m.name.starts_with("_timer_state/") ? "TIMERS" : "PRIORITY_QUEUE";
    case state::BackendStateType::kOperator: {
      std::string d = m.distribution();
      return d == "UNION" ? "OPERATOR_UNION" : "OPERATOR_LIST";
    }
    case state::BackendStateType::kBroadcast:
      return "OPERATOR_BROADCAST";
    default:
      break;
  }
  static const std::string_view kKinds[] = {"VALUE", "LIST", "MAP", "REDUCING", "AGGREGATING", "FOLDING"};
  std::string k = m.keyed_kind();
  for (std::string_view s : kKinds) {
    if (k == s) return s;
  }
  return "VALUE";
}

const state::Type kOpaque{};

const state::Type& serializer(const state::StateMeta& m, std::string_view key) {
  const state::Type* t = m.serializer(key);
  return t == nullptr ? kOpaque : *t;
}

// One output line's fields, each already JSON text ("" = absent: null in JSON, empty in CSV).
struct Line {
  std::string_view operator_id;
  std::string_view uid;
  int32_t subtask = 0;
  std::string_view state;
  std::string_view kind;
  std::optional<int32_t> key_group;
  std::string key, ns, user_key, value;
};

void csv_field(std::string& out, std::string_view json) {
  // A JSON string is shown as its text; anything else (numbers, objects) as its JSON.
  bool needs_quotes = json.find_first_of(",\"\n\r") != std::string_view::npos;
  if (!needs_quotes) {
    out += json;
    return;
  }
  out += '"';
  for (char c : json) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

class Printer {
 public:
  Printer(const DumpRequest& req, const std::function<void(std::string_view)>& sink, DumpResult& result)
      : req_(req), sink_(sink), result_(result) {}

  bool full() const { return req_.limit >= 0 && result_.lines >= static_cast<uint64_t>(req_.limit); }

  void print(const Line& l) {
    if (full()) {
      result_.limited = true;
      return;
    }
    buf_.clear();
    auto or_null = [](const std::string& s) { return s.empty() ? std::string_view("null") : std::string_view(s); };
    if (req_.format == DumpFormat::kJsonl) {
      buf_ += "{\"operator\":";
      util::append_json_string(buf_, l.operator_id);
      buf_ += ",\"uid\":";
      util::append_json_string(buf_, l.uid);
      fmt::format_to(std::back_inserter(buf_), ",\"subtask\":{},\"state\":", l.subtask);
      util::append_json_string(buf_, l.state);
      buf_ += ",\"kind\":\"";
      buf_ += l.kind;
      buf_ += "\",\"keyGroup\":";
      if (l.key_group) {
        fmt::format_to(std::back_inserter(buf_), "{}", *l.key_group);
      } else {
        buf_ += "null";
      }
      buf_ += ",\"key\":";
      buf_ += or_null(l.key);
      buf_ += ",\"namespace\":";
      buf_ += or_null(l.ns);
      if (!l.user_key.empty()) {
        buf_ += ",\"userKey\":";
        buf_ += l.user_key;
      }
      buf_ += ",\"value\":";
      buf_ += or_null(l.value);
      buf_ += "}\n";
    } else {
      csv_field(buf_, l.operator_id);
      buf_ += ',';
      csv_field(buf_, l.uid);
      fmt::format_to(std::back_inserter(buf_), ",{},", l.subtask);
      csv_field(buf_, l.state);
      buf_ += ',';
      buf_ += l.kind;
      buf_ += ',';
      if (l.key_group) fmt::format_to(std::back_inserter(buf_), "{}", *l.key_group);
      for (const std::string* f : {&l.key, &l.ns, &l.user_key, &l.value}) {
        buf_ += ',';
        csv_field(buf_, *f);
      }
      buf_ += '\n';
    }
    sink_(buf_);
    ++result_.lines;
  }

 private:
  const DumpRequest& req_;
  const std::function<void(std::string_view)>& sink_;
  DumpResult& result_;
  std::string buf_;
};

class Dumper {
 public:
  Dumper(const flink::Metadata& md, const DumpRequest& req, Printer& printer, DumpResult& result)
      : md_(md), req_(req), printer_(printer), result_(result) {}

  void keyed(const StatePayload& p, const std::string& where, const std::string& label, std::string_view bytes) {
    state::KeyedProxy proxy = state::read_keyed_proxy(bytes);
    state::KeyedPayload kp = keyed_payload(md_, p, bytes);
    KeyedContext c{p, where, label, proxy, {}, {}, {}, {}};
    if (!select_keys(c, kp.key_group_start, static_cast<int32_t>(kp.offsets.size()))) return;
    state::KeyedLayout layout = state::detect_keyed_layout(kp, proxy);
    kp.only_key_group = c.only_group;
    state::KeyedVisitor v;
    v.record = [&](const state::KeyedRecord& rec) { record(c, rec); };
    v.problem = [&](const state::KeyedProblem& e) {
      result_.problems.push_back(
          fmt::format("{}: {}: byte {}: key group {}: {}", where, label, e.offset, e.key_group, e.message));
    };
    state::walk_keyed_payload(kp, proxy, layout, v);
  }

  // Native RocksDB state (keyed tags 5, 11): the meta stream's proxy names the column families; the
  // database is laid out in a private temporary directory (table files hard-linked where the file
  // system allows) and read through RocksDB, merge operands merged as Flink reads them.
  void rocksdb(const StatePayload& p, const std::string& where, const std::string& label, std::string_view meta,
               const snapshot::Location& loc, const std::vector<snapshot::PathMapping>& mappings,
               const io::ReadScope& scope) {
    state::KeyedProxy proxy = state::read_keyed_proxy(meta);
    const flink::OperatorState& op = md_.operators[p.operator_index];
    const flink::KeyGroupRange range = p.incremental->range;
    KeyedContext c{p, where, label, proxy, {}, {}, {}, {}};
    if (!select_keys(c, range.start, range.count)) return;
    const rocks::DbFiles* db = nullptr;
    std::vector<rocks::DbFiles>& all = db_files(loc, mappings, scope);
    for (const rocks::DbFiles& d : all) {
      if (d.handle == p.incremental) db = &d;
    }
    if (db == nullptr) {
      result_.problems.push_back(
          fmt::format("{}: the RocksDB handle is none of the snapshot's databases; its entries are not read", where));
      return;
    }
    if (!db->ok()) {
      for (const std::string& why : db->problems) result_.problems.push_back(why);
      for (const std::string& why : db->outside) result_.problems.push_back(why);
      return;
    }
    io::TempDir tmp("ckpt-state");
    rocks::place_db_files(*db, tmp.path(), true);
    int prefix_bytes = state::key_group_prefix_bytes(op.max_parallelism);
    std::string prefix;
    if (c.only_group) {
      if (prefix_bytes == 2) prefix += static_cast<char>((*c.only_group >> 8) & 0xFF);
      prefix += static_cast<char>(*c.only_group & 0xFF);
    }
    std::map<std::string, std::size_t, std::less<>> by_name;
    for (std::size_t i = 0; i < proxy.states.size(); ++i) by_name.emplace(proxy.states[i].name, i);
    rocks::visit_entries(tmp.path(), prefix, [&](std::string_view cf, std::string_view key, std::string_view value) {
      if (printer_.full()) return false;
      auto it = by_name.find(cf);
      if (it == by_name.end()) {
        result_.problems.push_back(
            fmt::format("{}: column family {} is not a state the meta data lists", where, std::string(cf)));
        return true;
      }
      if (key.size() < static_cast<std::size_t>(prefix_bytes)) {
        result_.problems.push_back(fmt::format("{}: state {}: a key of {} bytes, shorter than its key-group prefix",
                                               where, it->first, key.size()));
        return true;
      }
      state::KeyedRecord rec;
      rec.state = it->second;
      rec.key_group = static_cast<unsigned char>(key[0]);
      if (prefix_bytes == 2) rec.key_group = (rec.key_group << 8) | static_cast<unsigned char>(key[1]);
      const state::StateMeta& m = proxy.states[rec.state];
      state::Slice after{key.substr(static_cast<std::size_t>(prefix_bytes)), 0};
      if (auto why = state::fill_rocksdb_record(after, state::Slice{value, 0}, m, proxy.key, rec)) {
        result_.problems.push_back(fmt::format("{}: RocksDB key group {}: {}", where, rec.key_group, *why));
      }
      record(c, rec);
      return true;
    });
  }

  // Timers in raw keyed state (Flink <= 1.5, RocksDB with heap timers): one line per timer, named
  // as Flink 1.6+ names the service's managed state, the value the timestamp (as for managed timers).
  void raw_timers(const StatePayload& p, const std::string& where, const std::string& label, std::string_view bytes) {
    state::KeyedPayload kp = keyed_payload(md_, p, bytes);
    state::KeyedProxy proxy;  // only its key type: the services' own, read off the first written key group
    if (req_.key) {
      state::KeyedPayload first = kp;
      for (std::size_t i = 0; i < kp.offsets.size() && !first.only_key_group; ++i) {
        if (kp.offsets[i] >= 0) first.only_key_group = kp.key_group_start + static_cast<int32_t>(i);
      }
      bool found = false;
      state::RawTimerVisitor probe;
      probe.service = [&](const state::TimerService& s, int32_t) {
        if (!found) proxy.key = s.key;
        found = true;
      };
      probe.timer = [](const state::RawTimer&) {};
      probe.problem = [](const state::KeyedProblem&) {};  // reported by the walk below
      if (first.only_key_group) state::walk_raw_timers(first, probe);
      if (!found) return;  // no timer service: nothing to select from
    }
    KeyedContext c{p, where, label, proxy, {}, {}, {}, {}};
    if (!select_keys(c, kp.key_group_start, static_cast<int32_t>(kp.offsets.size()))) return;
    kp.only_key_group = c.only_group;
    state::RawTimerVisitor v;
    v.timer = [&](const state::RawTimer& t) {
      if (printer_.full()) return;
      std::string name = state::timer_state_name(t.service->name, t.event_time);
      if (!req_.state.empty() && name != req_.state) return;
      if (c.key && t.key.bytes != c.key->bytes) return;
      Line l;
      l.operator_id = c.operator_id;
      l.uid = c.uid;
      l.subtask = p.subtask;
      l.state = name;
      l.kind = "TIMERS";
      l.key_group = t.key_group;
      for (auto [slice, type, out] : {std::tuple{&t.key, &t.service->key, &l.key}, {&t.ns, &t.service->ns, &l.ns}}) {
        std::string why;
        if (!state::decode_delimited(slice->bytes, slice->offset, *type, *out, &why)) {
          result_.problems.push_back(
              fmt::format("{}: {}: byte {}: state {}: {}", where, label, slice->offset, name, why));
        }
      }
      l.value = fmt::format("{}", t.timestamp);
      printer_.print(l);
    };
    v.problem = [&](const state::KeyedProblem& e) {
      result_.problems.push_back(
          fmt::format("{}: {}: byte {}: raw keyed key group {}: {}", where, label, e.offset, e.key_group, e.message));
    };
    state::walk_raw_timers(kp, v);
  }

  // Flink 1.2-1.3's legacy operator state: one line per handle, its value
  // {"function": <the Checkpointed state, a Java value>, "operatorBytes": <base64 or null>}.
  void legacy(const StatePayload& p, std::string_view bytes) {
    if (req_.key || req_.key_group) return;  // not keyed
    if (!req_.state.empty() && req_.state != kLegacyStateName) return;
    LegacyOperatorState s = read_legacy_operator_state(bytes);
    const flink::OperatorState& op = md_.operators[p.operator_index];
    std::string op_hex = flink::to_hex(op.id);
    std::string uid = io::lenient_mutf8_to_utf8(op.uid);
    Line l;
    l.operator_id = op_hex;
    l.uid = uid;
    l.subtask = p.subtask;
    l.state = kLegacyStateName;
    l.kind = "LEGACY_FUNCTION";
    l.value = "{\"function\":";
    if (s.present) {
      state::Type java;
      java.kind = state::Kind::kJava;
      io::ByteReader r(s.function, 1);
      state::decode_value(r, java, l.value);
    } else {
      l.value += "null";
    }
    l.value += ",\"operatorBytes\":";
    if (s.operator_bytes.empty()) {
      l.value += "null";
    } else {
      util::append_json_base64(l.value, s.operator_bytes);
    }
    l.value += '}';
    printer_.print(l);
  }

  void operator_state(const StatePayload& p, const std::string& where, const std::string& label,
                      std::string_view bytes) {
    if (req_.key || req_.key_group) return;  // operator state has no keys
    state::OperatorProxy proxy = state::read_operator_proxy(bytes);
    std::vector<state::PartitionOffsets> parts = partition_offsets(*p.operator_handle);
    const flink::OperatorState& op = md_.operators[p.operator_index];
    std::string op_hex = flink::to_hex(op.id);
    std::string uid = io::lenient_mutf8_to_utf8(op.uid);
    state::OperatorVisitor v;
    v.record = [&](const state::OperatorRecord& rec) {
      // Every state's offsets delimit the elements, so the others are walked too, not printed.
      if (printer_.full() || (!req_.state.empty() && rec.name != req_.state)) return;
      Line l;
      l.operator_id = op_hex;
      l.uid = uid;
      l.subtask = p.subtask;
      l.state = rec.name;
      l.kind = rec.meta == nullptr ? std::string_view("OPERATOR_LIST") : kind_of(*rec.meta);
      auto decode = [&](const state::Slice& s, const state::Type& t, std::string& out) {
        std::string why;
        if (!state::decode_delimited(s.bytes, s.offset, t, out, &why)) {
          result_.problems.push_back(
              fmt::format("{}: {}: byte {}: state {}: {}", where, label, s.offset, rec.name, why));
        }
      };
      if (rec.meta != nullptr && rec.meta->backend == state::BackendStateType::kBroadcast) {
        decode(rec.key, serializer(*rec.meta, "KEY_SERIALIZER"), l.key);
        decode(rec.value, serializer(*rec.meta, "VALUE_SERIALIZER"), l.value);
      } else {
        decode(rec.element, rec.meta == nullptr ? kOpaque : serializer(*rec.meta, "VALUE_SERIALIZER"), l.value);
      }
      printer_.print(l);
    };
    v.problem = [&](const state::OperatorProblem& e) {
      result_.problems.push_back(
          fmt::format("{}: {}: byte {}: state {}: {}", where, label, e.offset, e.state, e.message));
    };
    state::walk_operator_payload(bytes, 0, proxy, parts, v);
  }

 private:
  // What every keyed record of one payload shares: where it is, its proxy, the --key asked for.
  struct KeyedContext {
    const StatePayload& p;
    std::string where;
    std::string label;
    const state::KeyedProxy& proxy;
    std::optional<state::EncodedKey> key;
    std::optional<int32_t> only_group;
    std::string operator_id;  // the line's operator fields, made once per payload, not per entry
    std::string uid;
  };

  // --key and --key-group: the key serialized and hashed to its key group as Flink does. False
  // when the payload (key groups [start, start + count)) cannot hold what is asked for.
  bool select_keys(KeyedContext& c, int32_t start, int32_t count) {
    const flink::OperatorState& op = md_.operators[c.p.operator_index];
    c.operator_id = flink::to_hex(op.id);
    c.uid = io::lenient_mutf8_to_utf8(op.uid);
    c.only_group = req_.key_group;
    if (req_.key) {
      std::string why;
      c.key = state::encode_key(c.proxy.key, *req_.key, why);
      if (!c.key) throw DumpError(fmt::format("--key {}: {}", *req_.key, why));
      int32_t g = flink::key_group_for_hash(c.key->java_hash, op.max_parallelism);
      if (c.only_group && *c.only_group != g) return false;  // the key lives in another key group
      c.only_group = g;
    }
    return !c.only_group || (*c.only_group >= start && *c.only_group - start < count);
  }

  // One keyed record: decoded into its line(s) (a MAP's heap record into one per user key).
  void record(const KeyedContext& c, const state::KeyedRecord& rec) {
    if (printer_.full()) return;
    const state::StateMeta& m = c.proxy.states[rec.state];
    if (!req_.state.empty() && m.name != req_.state) return;
    if (c.only_group && rec.key_group != *c.only_group) return;
    Line l;
    l.operator_id = c.operator_id;
    l.uid = c.uid;
    l.subtask = c.p.subtask;
    l.state = m.name;
    l.kind = kind_of(m);
    l.key_group = rec.key_group;
    auto problem = [&](uint64_t offset, const std::string& what) {
      result_.problems.push_back(fmt::format("{}: {}: byte {}: state {}: {}", c.where, c.label, offset, m.name, what));
    };
    auto decode = [&](const state::Slice& s, const state::Type& t, std::string& out) {
      std::string why;
      if (!state::decode_delimited(s.bytes, s.offset, t, out, &why)) problem(s.offset, why);
    };
    const state::Type& value_type = serializer(m, "VALUE_SERIALIZER");
    if (m.backend == state::BackendStateType::kPriorityQueue) {
      timer_or_element(rec, value_type, c.key, l, problem, decode);
      return;
    }
    if (c.key && rec.key.bytes != c.key->bytes) return;
    decode(rec.key, c.proxy.key, l.key);
    if (rec.key_split) decode(rec.ns, serializer(m, "NAMESPACE_SERIALIZER"), l.ns);
    std::string kind = m.keyed_kind();
    if (kind == "MAP") {
      map_entries(rec, value_type, l, problem, decode);
      return;
    }
    if (kind == "LIST" && rec.rocksdb_format) {
      delimited_list(rec.value, value_type.children.empty() ? kOpaque : value_type.children[0], l.value, problem);
    } else {
      decode(rec.value, value_type, l.value);
    }
    printer_.print(l);
  }

  std::vector<rocks::DbFiles>& db_files(const snapshot::Location& loc,
                                        const std::vector<snapshot::PathMapping>& mappings,
                                        const io::ReadScope& scope) {
    if (!db_files_) db_files_ = rocks::db_files_of(md_, loc.directory, mappings, scope, true);
    return *db_files_;
  }

  template <typename Problem, typename Decode>
  void timer_or_element(const state::KeyedRecord& rec, const state::Type& t,
                        const std::optional<state::EncodedKey>& key, Line& l, const Problem& problem,
                        const Decode& decode) {
    if (t.kind != state::Kind::kTimer || t.children.size() != 2) {
      if (key) return;  // not a keyed element
      decode(rec.value, t, l.value);
      printer_.print(l);
      return;
    }
    // A timer: flipped timestamp, key, namespace (spec §5.5).
    io::ByteReader r(rec.value.bytes, rec.value.offset);
    try {
      int64_t ts = static_cast<int64_t>(static_cast<uint64_t>(r.i64("timer timestamp")) ^ 0x8000000000000000ULL);
      uint64_t k0 = r.pos();
      state::skip_value(r, t.children[0]);
      state::Slice ks{rec.value.bytes.substr(k0, r.pos() - k0), rec.value.offset + k0};
      if (key && ks.bytes != key->bytes) return;
      state::Slice ns{r.rest(), r.offset()};
      decode(ks, t.children[0], l.key);
      decode(ns, t.children[1], l.ns);
      l.value = fmt::format("{}", ts);
    } catch (const io::DecodeError& e) {
      problem(e.offset(), e.message());
      l.value.clear();
      decode(rec.value, state::Type{}, l.value);
    }
    printer_.print(l);
  }

  // A MAP state's entries: heap records hold the whole map, canonical records one user key.
  template <typename Problem, typename Decode>
  void map_entries(const state::KeyedRecord& rec, const state::Type& map_type, Line& l, const Problem& problem,
                   const Decode& decode) {
    const state::Type& uk = map_type.children.size() == 2 ? map_type.children[0] : kOpaque;
    const state::Type& uv = map_type.children.size() == 2 ? map_type.children[1] : kOpaque;
    if (rec.rocksdb_format) {
      decode(rec.user_key, uk, l.user_key);
      io::ByteReader r(rec.value.bytes, rec.value.offset);
      try {
        bool null = r.u8("map value null flag") != 0;
        if (null) {
          l.value = "null";
        } else {
          decode(state::Slice{r.rest(), r.offset()}, uv, l.value);
        }
      } catch (const io::DecodeError& e) {
        problem(e.offset(), e.message());
      }
      printer_.print(l);
      return;
    }
    io::ByteReader r(rec.value.bytes, rec.value.offset);
    try {
      int32_t n = r.count("map size", 2);
      for (int32_t i = 0; i < n && !printer_.full(); ++i) {
        uint64_t k0 = r.pos();
        state::skip_value(r, uk);
        l.user_key.clear();
        decode(state::Slice{rec.value.bytes.substr(k0, r.pos() - k0), rec.value.offset + k0}, uk, l.user_key);
        l.value.clear();
        if (r.u8("map value null flag") != 0) {
          l.value = "null";
        } else {
          uint64_t v0 = r.pos();
          state::skip_value(r, uv);
          decode(state::Slice{rec.value.bytes.substr(v0, r.pos() - v0), rec.value.offset + v0}, uv, l.value);
        }
        printer_.print(l);
      }
    } catch (const io::DecodeError& e) {
      problem(e.offset(), e.message());
    }
  }

  // A RocksDB LIST value: elements separated by one ',' byte (spec §6.4).
  template <typename Problem>
  void delimited_list(const state::Slice& s, const state::Type& element, std::string& out, const Problem& problem) {
    io::ByteReader r(s.bytes, s.offset);
    std::string json = "[";
    try {
      for (bool first = true; !r.at_end(); first = false) {
        if (!first) {
          uint64_t at = r.offset();
          if (r.u8("list delimiter") != ',') io::ByteReader::fail(at, "list elements are not separated by ','");
          json += ',';
        }
        state::decode_value(r, element, json);
      }
      out = json + "]";
    } catch (const io::DecodeError& e) {
      // Undecodable elements cannot be split: the value's bytes, named.
      if (dynamic_cast<const state::UndecodableValue*>(&e) == nullptr) problem(e.offset(), e.message());
      out.clear();
      state::decode_delimited(s.bytes, s.offset, state::Type{}, out);
    }
  }

  const flink::Metadata& md_;
  const DumpRequest& req_;
  Printer& printer_;
  DumpResult& result_;
  std::optional<std::vector<rocks::DbFiles>> db_files_;
};

}  // namespace

std::string_view dump_csv_header() { return kCsvHeader; }

DumpResult dump_state(const flink::Metadata& md, const snapshot::Location& loc,
                      const std::vector<snapshot::PathMapping>& mappings, const DumpRequest& request,
                      const std::function<void(std::string_view line)>& sink) {
  DumpResult result;
  Printer printer(request, sink, result);
  if (request.format == DumpFormat::kCsv) {
    sink(std::string(kCsvHeader) + "\n");
  }
  Dumper dumper(md, request, printer, result);
  io::ReadScope scope = snapshot::read_scope(loc, mappings, {});
  for (const StatePayload& p : state_payloads(md, request.filter)) {
    if (printer.full()) {
      result.limited = true;
      break;
    }
    std::string where = payload_where(md, p);
    std::string label;
    std::string bytes;
    try {
      bytes = read_payload_bytes(*p.stream, loc.directory, mappings, scope, &label);
    } catch (const util::Error& e) {
      result.problems.push_back(fmt::format("{}: {}", where, e.what()));
      continue;
    }
    if (auto why = not_flink_format(bytes)) {
      result.problems.push_back(fmt::format("{}: {}: byte 0: {}", where, label, *why));
      continue;
    }
    try {
      if (p.kind == StatePayload::Kind::kOperator) {
        dumper.operator_state(p, where, label, bytes);
      } else if (p.kind == StatePayload::Kind::kRawKeyed) {
        dumper.raw_timers(p, where, label, bytes);
      } else if (p.kind == StatePayload::Kind::kLegacy) {
        dumper.legacy(p, bytes);
      } else if (p.kind == StatePayload::Kind::kRocksDb) {
        if (request.read_rocksdb) {
          dumper.rocksdb(p, where, label, bytes, loc, mappings, scope);
        } else {
          (void)state::read_keyed_proxy(bytes);  // the meta stream, at least
        }
      } else {
        dumper.keyed(p, where, label, bytes);
      }
    } catch (const DumpError&) {
      throw;
    } catch (const io::DecodeError& e) {
      result.problems.push_back(fmt::format("{}: {}: byte {}: {}", where, label, e.offset(), e.message()));
    } catch (const rocks::RocksError& e) {
      result.problems.push_back(fmt::format("{}: {}", where, e.what()));
    } catch (const io::IoError& e) {
      result.problems.push_back(fmt::format("{}: {}", where, e.what()));
    }
  }
  return result;
}

}  // namespace ckpt::ops
