// pipeline/state_format + hashmap backend: Flink serializers, key-grouped snapshots (with and
// without zstd), restore into a different key-group range, operator list state, channel state.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <tuple>

#include "flink/key_groups.h"
#include "io/byte_reader.h"
#include "io/byte_writer.h"
#include "pipeline/channel_state.h"
#include "pipeline/state_backend.h"
#include "pipeline/state_format.h"
#include "state/backend_proxy.h"
#include "state/keyed_payload.h"
#include "state/proxy_writer.h"
#include "state/raw_timers.h"
#include "state/type.h"

using namespace ckpt;
using namespace ckpt::pipeline;

namespace {
std::string be(const std::vector<int64_t>& v) {
  std::string out;
  io::ByteWriter w(out);
  for (int64_t x : v) w.i64(x);
  return out;
}
}  // namespace

TEST_CASE("pipeline state: StringSerializer bytes are Flink's StringValue encoding") {
  std::string out;
  write_java_string(out, "abc");
  CHECK(out == std::string("\x04"
                           "abc",
                           4));
  out.clear();
  write_java_string(out, "\xC3\xA9");  // U+00E9: one UTF-16 unit 0xE9 -> varint E9 01
  CHECK(out == std::string("\x02\xE9\x01", 3));
  io::ByteReader r(out);
  CHECK(read_java_string(r) == "\xC3\xA9");
  std::string astral;
  write_java_string(astral, "\xF0\x9F\x98\x80");  // two surrogate units
  io::ByteReader r2(astral);
  CHECK(read_java_string(r2) == "\xF0\x9F\x98\x80");
  CHECK(astral[0] == 3);
}

TEST_CASE(
    "pipeline state: hashmap snapshots in both of Flink's layouts restore across a rescale, with and without Snappy") {
  for (auto [compress, layout] :
       {std::pair{false, state::KeyedLayout::kHeap}, std::pair{true, state::KeyedLayout::kHeap},
        std::pair{false, state::KeyedLayout::kCanonical}, std::pair{true, state::KeyedLayout::kCanonical}}) {
    CAPTURE(compress);
    CAPTURE(static_cast<int>(layout));
    const bool canonical = layout == state::KeyedLayout::kCanonical;
    const int32_t max_p = 128;
    auto a = make_hashmap_backend(flink::range_of_subtask(max_p, 2, 0), max_p);
    auto b = make_hashmap_backend(flink::range_of_subtask(max_p, 2, 1), max_p);
    for (auto* be_ : {a.get(), b.get()}) {
      be_->declare_value_state("count", NamespaceKind::kVoid);
      be_->declare_value_state("window-contents", NamespaceKind::kTimeWindow);
      be_->declare_timers("_timer_state/event_window-timers", NamespaceKind::kTimeWindow);
    }
    std::vector<std::string> words;
    for (int i = 0; i < 500; ++i) words.push_back("w" + std::to_string(i));
    for (const auto& w : words) {
      int32_t kg = flink::key_group_for_hash(flink::java_hash_string(w), max_p);
      KeyedStateBackend& be_ = flink::subtask_for_key_group(max_p, 2, kg) == 0 ? *a : *b;
      be_.set_current_key(w, kg);
      be_.update(0, Namespace{}, static_cast<int64_t>(w.size()));
      be_.update(1, Namespace{0, 1000}, 7);
      be_.register_event_timer(Namespace{0, 1000}, 999);
    }
    KeyedSnapshot sa = a->snapshot(compress, layout), sb = b->snapshot(compress, layout);
    CHECK(sa.offsets.size() == 64);
    // Flink's format: the state spec's reader finds the proxy, the layout and every entry.
    state::KeyedProxy proxy = state::read_keyed_proxy(sa.payload);
    CHECK(proxy.version == 6);
    CHECK(proxy.compressed == compress);
    REQUIRE(proxy.states.size() == 3);
    CHECK(proxy.states[2].name == "_timer_state/event_window-timers");
    state::KeyedPayload kp;
    kp.bytes = sa.payload;
    kp.key_group_start = sa.range.start;
    kp.offsets = sa.offsets;
    kp.max_parallelism = max_p;
    kp.canonical_handle = canonical;
    CHECK(state::detect_keyed_layout(kp, proxy) == layout);
    int64_t records = 0;
    state::KeyedVisitor v;
    v.record = [&](const state::KeyedRecord&) { ++records; };
    v.problem = [](const state::KeyedProblem& e) { FAIL(e.message); };
    state::walk_keyed_payload(kp, proxy, layout, v);
    CHECK(records == sa.entries);
    // Restore into 3 subtasks and check every key landed exactly once.
    int64_t total = 0;
    for (int32_t i = 0; i < 3; ++i) {
      auto n = make_hashmap_backend(flink::range_of_subtask(max_p, 3, i), max_p);
      n->declare_value_state("count", NamespaceKind::kVoid);
      n->declare_value_state("window-contents", NamespaceKind::kTimeWindow);
      n->declare_timers("_timer_state/event_window-timers", NamespaceKind::kTimeWindow);
      n->restore(sa.payload, sa.range, flink::I64Array(be(sa.offsets)), canonical);
      n->restore(sb.payload, sb.range, flink::I64Array(be(sb.offsets)), canonical);
      total += n->num_entries();
      for (const auto& w : words) {
        int32_t kg = flink::key_group_for_hash(flink::java_hash_string(w), max_p);
        if (flink::subtask_for_key_group(max_p, 3, kg) != i) continue;
        n->set_current_key(w, kg);
        CHECK(n->value(0, Namespace{}) == static_cast<int64_t>(w.size()));
        CHECK(n->value(1, Namespace{0, 1000}) == 7);
      }
      Timer t;
      int timers = 0;
      while (n->poll_timer(999, t)) ++timers;
      CHECK(timers > 0);
    }
    CHECK(total == 3 * 500);
  }
}

TEST_CASE("pipeline state: the CKKS keyed snapshots of ckpt 0.1 still restore") {
  // Header: magic, version 1, compression 0, 2 states (count: value, VoidNamespace; timers), then
  // key group 3: count {("ab", 5)}, timers {(ts 42, "ab")}; plain timestamps.
  std::string p;
  io::ByteWriter w(p);
  w.bytes("CKKS");
  w.i32(1);
  w.u8(0);
  w.i32(2);
  for (auto [name, kind, value] :
       {std::tuple{"count", 0, "LongSerializer"}, std::tuple{"_timer_state/event_user-timers", 1, ""}}) {
    state::write_utf(w, name);
    w.u8(static_cast<uint8_t>(kind));
    state::write_utf(w, "StringSerializer");
    state::write_utf(w, "VoidNamespaceSerializer");
    state::write_utf(w, value);
  }
  std::vector<int64_t> offsets{static_cast<int64_t>(p.size())};
  w.i32(3);
  w.u16(0);
  w.i32(1);
  w.u8(0);
  write_java_string(p, "ab");
  w.i64(5);
  w.u16(1);
  w.i32(1);
  w.i64(42);
  write_java_string(p, "ab");
  w.u8(0);
  auto b = make_hashmap_backend({3, 1});
  b->declare_value_state("count", NamespaceKind::kVoid);
  b->declare_timers("_timer_state/event_user-timers", NamespaceKind::kVoid);
  b->restore(p, {3, 1}, flink::I64Array(be(offsets)));
  b->set_current_key("ab", 3);
  CHECK(b->value(0, Namespace{}) == 5);
  Timer t;
  REQUIRE(b->poll_timer(100, t));
  CHECK(t.timestamp == 42);
  CHECK(t.key == "ab");
}

TEST_CASE("pipeline state: RocksDB's heap timers are Flink's raw keyed timers") {
  RawTimersWriter w("_timer_state/event_window-timers", NamespaceKind::kTimeWindow);
  w.begin_key_group(7, 2);
  w.add_timer(999, "a", Namespace{0, 1000});
  w.add_timer(-5, "b", Namespace{-10, 0});
  w.begin_key_group(8, 0);
  std::string payload = w.finish();
  REQUIRE(w.offsets().size() == 2);
  state::KeyedPayload kp;
  kp.bytes = payload;
  kp.key_group_start = 7;
  kp.offsets = w.offsets();
  std::vector<std::string> seen;
  state::RawTimerVisitor v;
  v.service = [&](const state::TimerService& s, int32_t kg) {
    CHECK(s.name == "window-timers");
    CHECK(state::type_name(s.key) == "String");
    CHECK(state::type_name(s.ns) == "TimeWindow");
    seen.push_back("service " + std::to_string(kg));
  };
  v.timer = [&](const state::RawTimer& t) {
    CHECK(t.event_time);
    seen.push_back(std::to_string(t.key_group) + " " + std::to_string(t.timestamp));
  };
  v.problem = [](const state::KeyedProblem& e) { FAIL(e.message); };
  state::walk_raw_timers(kp, v);
  CHECK(seen == std::vector<std::string>{"service 7", "7 999", "7 -5", "service 8"});
  // And the pipeline restores them.
  auto b = make_hashmap_backend({7, 2});
  b->declare_timers("_timer_state/event_window-timers", NamespaceKind::kTimeWindow);
  b->restore(payload, {7, 2}, flink::I64Array(be(w.offsets())));
  Timer t;
  REQUIRE(b->poll_timer(1000, t));
  CHECK(t.timestamp == -5);
  CHECK(t.ns.start == -10);
  REQUIRE(b->poll_timer(1000, t));
  CHECK(t.timestamp == 999);
  CHECK(t.key == "a");
}

TEST_CASE("pipeline state: a corrupt keyed payload is a DecodeError, not a crash") {
  auto a = make_hashmap_backend({0, 4});
  a->declare_value_state("count", NamespaceKind::kVoid);
  a->set_current_key("x", 1);
  a->update(0, Namespace{}, 1);
  KeyedSnapshot s = a->snapshot(false);
  std::string bad = s.payload.substr(0, s.payload.size() - 3);
  auto b = make_hashmap_backend({0, 4});
  b->declare_value_state("count", NamespaceKind::kVoid);
  CHECK_THROWS_AS(b->restore(bad, s.range, flink::I64Array(be(s.offsets))), io::DecodeError);
  CHECK_THROWS_AS(b->restore("XXXX", s.range, flink::I64Array(be(s.offsets))), io::DecodeError);
}

TEST_CASE("pipeline state: operator list state elements are found by their offsets") {
  std::vector<ListStateData> states(2);
  states[0].name = "SourceReaderState";
  states[0].elements = {"a", "bb", ""};
  states[1].name = "other";
  states[1].mode = flink::DistributionMode::kUnion;
  states[1].elements = {"ccc"};
  OperatorStatePayload p = write_operator_state(states);
  flink::Metadata md;
  std::vector<flink::OperatorStateEntry> entries;
  for (std::size_t i = 0; i < 2; ++i) {
    flink::OperatorStateEntry e;
    e.name = md.intern(states[i].name);
    e.mode = static_cast<int8_t>(states[i].mode);
    e.offsets = flink::I64Array(md.intern(be(p.offsets[i])));
    entries.push_back(e);
  }
  auto back = read_operator_state(p.bytes, entries);
  REQUIRE(back.size() == 2);
  CHECK(back[0].elements == states[0].elements);
  CHECK(back[1].elements == states[1].elements);
  CHECK(back[1].mode == flink::DistributionMode::kUnion);

  // Flink's format: the operator backend proxy, read by the state spec's reader.
  state::OperatorProxy proxy = state::read_operator_proxy(p.bytes);
  CHECK(proxy.version == 6);
  REQUIRE(proxy.states.size() == 2);
  CHECK(proxy.states[0].name == "SourceReaderState");
  CHECK(proxy.states[1].distribution() == "UNION");
  CHECK(state::type_name(*proxy.states[0].serializer("VALUE_SERIALIZER")) == "Byte[]");
  CHECK(p.offsets[0][0] == static_cast<int64_t>(proxy.length));

  // The CKOS payloads ckpt 0.1 wrote still read: magic, version 1, per state utf name, mode, utf
  // serializer; then the elements, framed as Flink frames byte[].
  std::string old;
  io::ByteWriter w(old);
  w.bytes("CKOS");
  w.i32(1);
  w.i32(2);
  for (const auto* n : {"SourceReaderState", "other"}) {
    state::write_utf(w, n);
    w.u8(0);
    state::write_utf(w, "ckpt.SourceSplitSerializer");
  }
  std::vector<std::vector<int64_t>> old_offsets(2);
  for (std::size_t i = 0; i < 2; ++i) {
    for (const auto& e : states[i].elements) {
      old_offsets[i].push_back(static_cast<int64_t>(old.size()));
      w.i32(static_cast<int32_t>(e.size()));
      w.bytes(e);
    }
    entries[i].offsets = flink::I64Array(md.intern(be(old_offsets[i])));
  }
  auto legacy = read_operator_state(old, entries);
  REQUIRE(legacy.size() == 2);
  CHECK(legacy[0].elements == states[0].elements);
  CHECK(legacy[1].elements == states[1].elements);
  // Anything else is refused with the offset, not misread.
  CHECK_THROWS_AS(read_operator_state("XXXXXXXXXXXX", entries), io::DecodeError);

  // Compressed (execution.checkpointing.snapshot-compression): the proxy says so, every offset is
  // a chunk boundary of the one Snappy stream, and the elements read back.
  OperatorStatePayload z = write_operator_state(states, true);
  CHECK(state::read_operator_proxy(z.bytes).compressed);
  for (std::size_t i = 0; i < 2; ++i) entries[i].offsets = flink::I64Array(md.intern(be(z.offsets[i])));
  auto unz = read_operator_state(z.bytes, entries);
  REQUIRE(unz.size() == 2);
  CHECK(unz[0].elements == states[0].elements);
  CHECK(unz[1].elements == states[1].elements);
}

TEST_CASE("pipeline state: channel state uses Flink's file layout (version 0, length-prefixed entries)") {
  std::vector<Record> recs;
  for (int i = 0; i < 2500; ++i) {
    Record r;
    r.word = "w" + std::to_string(i % 17);
    r.timestamp = i;
    r.key_group = flink::key_group_for_hash(flink::java_hash_string(r.word), 128);
    recs.push_back(r);
  }
  SnapshotLocation mem;  // in memory: inline
  std::vector<CapturedChannel> ch(2);
  ch[0].records = recs;
  ch[1].b = 1;
  auto results = persist_channel_state(mem, ch, "test");
  REQUIRE(results.size() == 1);           // empty channels get no handle
  CHECK(results[0].offsets.size() == 3);  // 1024-record buffers
  CHECK(results[0].offsets[0] == 4);
  std::vector<Record> back;
  read_channel_state(results[0].stream.data, flink::I64Array(be(results[0].offsets)), 128, back);
  REQUIRE(back.size() == recs.size());
  CHECK(back[2499].word == recs[2499].word);
  CHECK(back[2499].key_group == recs[2499].key_group);
  CHECK(back[2499].timestamp == 2499);
}

TEST_CASE("pipeline state: the hashmap backend agrees with std::map over mixed reads, writes and clears") {
  // update() reuses the probe of a preceding value() of the same (state, namespace); any other
  // interleaving must still land on the right entry.
  auto backend = make_hashmap_backend({0, 8});
  int a = backend->declare_value_state("a", NamespaceKind::kTimeWindow);
  int b = backend->declare_value_state("b", NamespaceKind::kTimeWindow);
  std::map<std::tuple<int, std::string, int64_t>, int64_t> model;
  std::mt19937_64 rng(7);
  for (int op = 0; op < 100000; ++op) {
    uint64_t word = rng() % 500;
    std::string key = "w" + std::to_string(word);
    backend->set_current_key(key, static_cast<int32_t>(word % 8));
    int st = rng() % 2 ? a : b;
    int64_t start = static_cast<int64_t>(rng() % 3) * 10;
    Namespace ns{start, start + 10};
    const std::string& where = key;
    auto model_key = std::make_tuple(st, where, start);
    switch (rng() % 4) {
      case 0: {  // read-modify-write, the records' pattern
        int64_t n = backend->value(st, ns).value_or(0) + 1;
        backend->update(st, ns, n);
        model[model_key] = n;
        break;
      }
      case 1: {  // read, then write another state or namespace
        (void)backend->value(st, ns);
        int other = st == a ? b : a;
        int64_t v = static_cast<int64_t>(rng() % 1000);
        backend->update(other, ns, v);
        model[std::make_tuple(other, where, start)] = v;
        break;
      }
      case 2:
        (void)backend->value(st, ns);
        backend->clear(st, ns);
        model.erase(model_key);
        break;
      default: {
        auto it = model.find(model_key);
        auto got = backend->value(st, ns);
        REQUIRE(got.has_value() == (it != model.end()));
        if (got) REQUIRE(*got == it->second);
      }
    }
  }
}
