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
#include "state/proxy_writer.h"
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

TEST_CASE("pipeline state: hashmap snapshots restore across a rescale, with and without zstd") {
  for (bool compress : {false, true}) {
    const int32_t max_p = 128;
    auto a = make_hashmap_backend(flink::range_of_subtask(max_p, 2, 0));
    auto b = make_hashmap_backend(flink::range_of_subtask(max_p, 2, 1));
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
    KeyedSnapshot sa = a->snapshot(compress), sb = b->snapshot(compress);
    CHECK(sa.offsets.size() == 64);
    // Restore into 3 subtasks and check every key landed exactly once.
    int64_t total = 0;
    for (int32_t i = 0; i < 3; ++i) {
      auto n = make_hashmap_backend(flink::range_of_subtask(max_p, 3, i));
      n->declare_value_state("count", NamespaceKind::kVoid);
      n->declare_value_state("window-contents", NamespaceKind::kTimeWindow);
      n->declare_timers("_timer_state/event_window-timers", NamespaceKind::kTimeWindow);
      n->restore(sa.payload, sa.range, flink::I64Array(be(sa.offsets)));
      n->restore(sb.payload, sb.range, flink::I64Array(be(sb.offsets)));
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
