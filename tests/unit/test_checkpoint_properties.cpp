// The V4+ properties trailer (spec §10): the templates byte for byte, the generic Java
// serialization parser on hand-built streams of every construct, its limits, and hostile input
// (every truncation, every bit flip, random mutations). The "fixtures" suite checks every real
// trailer.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixtures.h"
#include "flink/checkpoint_properties.h"
#include "io/decode_error.h"
#include "util/error.h"

using namespace ckpt::flink;
using Props = CheckpointProperties;
using Kind = CheckpointProperties::Kind;
using Format = CheckpointProperties::Format;
using Action = CheckpointProperties::Action;

namespace {

// Bytes from space-separated hex pairs.
std::string hex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

// A hand-built Java serialization stream.
struct Java {
  std::string s = hex("AC ED 00 05");

  Java& raw(std::string_view h) {
    s += hex(h);
    return *this;
  }
  Java& u8(uint8_t v) {
    s.push_back(static_cast<char>(v));
    return *this;
  }
  Java& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Java& i32(int32_t v) {
    return u16(static_cast<uint16_t>(static_cast<uint32_t>(v) >> 16)).u16(static_cast<uint16_t>(v));
  }
  Java& i64(int64_t v) {
    return i32(static_cast<int32_t>(static_cast<uint64_t>(v) >> 32)).i32(static_cast<int32_t>(v));
  }
  Java& utf(std::string_view t) {
    u16(static_cast<uint16_t>(t.size()));
    s += t;
    return *this;
  }
  Java& str(std::string_view t) { return u8(0x74).utf(t); }
  Java& desc(std::string_view name, int64_t suid, uint8_t flags, uint16_t fields) {
    return u8(0x72).utf(name).i64(suid).u8(flags).u16(fields);
  }
  Java& prim(char type, std::string_view name) { return u8(static_cast<uint8_t>(type)).utf(name); }
  Java& ref_field(char type, std::string_view name, std::string_view sig) { return prim(type, name).str(sig); }
  Java& end() { return u8(0x78); }                    // TC_ENDBLOCKDATA
  Java& end_no_super() { return u8(0x78).u8(0x70); }  // empty annotation, no superclass
  Java& ref(int32_t handle) { return u8(0x71).i32(0x7E0000 + handle); }
};

enum class Outcome { kThrew, kNull, kParsed, kUnparsed };

struct Result {
  Outcome outcome = Outcome::kThrew;
  Props props;
  std::string detail;
  uint64_t error_offset = 0;
  std::string error;
};

// Any exception other than DecodeError escapes and fails the test.
Result classify(std::string_view bytes) {
  Result r;
  try {
    switch (parse_properties_trailer(bytes, r.props, &r.detail)) {
      case TrailerState::kNull:
        r.outcome = Outcome::kNull;
        break;
      case TrailerState::kParsed:
        r.outcome = Outcome::kParsed;
        break;
      case TrailerState::kUnparsed:
        r.outcome = Outcome::kUnparsed;
        break;
      case TrailerState::kAbsent:
        FAIL("parse_properties_trailer returned kAbsent");
        break;
    }
  } catch (const ckpt::io::DecodeError& e) {
    r.outcome = Outcome::kThrew;
    r.error_offset = e.offset();
    r.error = e.message();
  }
  return r;
}

bool same(const Props& a, const Props& b) {
  return a.discard_cancelled == b.discard_cancelled && a.discard_failed == b.discard_failed &&
         a.discard_finished == b.discard_finished && a.discard_subsumed == b.discard_subsumed &&
         a.discard_suspended == b.discard_suspended && a.forced == b.forced && a.unclaimed == b.unclaimed &&
         a.kind == b.kind && a.format == b.format && a.action == b.action && a.type_name == b.type_name &&
         a.sharing_strategy == b.sharing_strategy;
}

// The invariants every input must satisfy, whatever it holds.
void check_invariants(const std::string& bytes, const Result& r) {
  switch (r.outcome) {
    case Outcome::kThrew:
      CHECK(r.error_offset <= bytes.size());
      break;
    case Outcome::kNull:
      CHECK(bytes == encode_null_trailer());
      break;
    case Outcome::kParsed:
      CHECK(encode_properties_trailer(r.props) == bytes);
      break;
    case Outcome::kUnparsed:
      CHECK_FALSE(r.detail.empty());
      break;
  }
}

// Every kind of trailer Flink writes, plus the flag and strategy variants ckpt can write.
std::vector<Props> all_variants() {
  std::vector<Props> v;
  for (Retention r : {Retention::kNeverRetain, Retention::kRetainOnFailure, Retention::kRetainOnCancellation}) {
    v.push_back(checkpoint_properties(r));
    v.push_back(checkpoint_properties(r, true));
  }
  for (Format f : {Format::kCanonical, Format::kNative}) {
    for (Action a : {Action::kNone, Action::kSuspend, Action::kTerminate}) {
      v.push_back(savepoint_properties(f, a));
      v.push_back(savepoint_properties(f, a, true));
    }
  }
  Props no_sharing = checkpoint_properties(Retention::kNeverRetain);
  no_sharing.sharing_strategy = "NO_SHARING";
  v.push_back(no_sharing);
  Props unclaimed = savepoint_properties(Format::kCanonical);
  unclaimed.unclaimed = true;
  v.push_back(unclaimed);
  return v;
}

// Spec §10.2, transcribed independently of the library's encoder.
std::string spec_prefix() {
  return hex("AC ED 00 05 73 72 00 38") + "org.apache.flink.runtime.checkpoint.CheckpointProperties" +
         hex("00 00 00 00 00 00 00 02 02 00 08") + hex("5A 00 10") + "discardCancelled" + hex("5A 00 0D") +
         "discardFailed" + hex("5A 00 0F") + "discardFinished" + hex("5A 00 0F") + "discardSubsumed" + hex("5A 00 10") +
         "discardSuspended" + hex("5A 00 06") + "forced" + hex("5A 00 09") + "unclaimed" + hex("4C 00 0E") +
         "checkpointType" + hex("74 00 32") + "Lorg/apache/flink/runtime/checkpoint/SnapshotType;" + hex("78 70");
}
std::string spec_str(std::string_view s) {
  std::string out = hex("74 00");
  out.push_back(static_cast<char>(s.size()));
  return out + std::string(s);
}
std::string spec_enumbase() {
  return hex("72 00 0E") + "java.lang.Enum" + hex("00 00 00 00 00 00 00 00 12 00 00 78 70");
}
std::string spec_checkpoint_type(std::string_view name, std::string_view strategy) {
  return hex("73 72 00 32") + "org.apache.flink.runtime.checkpoint.CheckpointType" +
         hex("D6 DE 4F 03 05 AE 1D 3A 02 00 02") + hex("4C 00 04") + "name" + hex("74 00 12") + "Ljava/lang/String;" +
         hex("4C 00 14") + "sharingFilesStrategy" + hex("74 00 47") +
         "Lorg/apache/flink/runtime/checkpoint/SnapshotType$SharingFilesStrategy;" + hex("78 70") + spec_str(name) +
         hex("7E 72 00 45") + "org.apache.flink.runtime.checkpoint.SnapshotType$SharingFilesStrategy" +
         hex("00 00 00 00 00 00 00 00 12 00 00 78") + spec_enumbase() + spec_str(strategy);
}
std::string spec_savepoint_type(std::string_view format, std::string_view name, std::string_view action) {
  return hex("73 72 00 31") + "org.apache.flink.runtime.checkpoint.SavepointType" +
         hex("A0 87 D3 08 A4 58 14 B8 02 00 03") + hex("4C 00 0A") + "formatType" + hex("74 00 35") +
         "Lorg/apache/flink/core/execution/SavepointFormatType;" + hex("4C 00 04") + "name" + hex("74 00 12") +
         "Ljava/lang/String;" + hex("4C 00 14") + "postCheckpointAction" + hex("74 00 48") +
         "Lorg/apache/flink/runtime/checkpoint/SavepointType$PostCheckpointAction;" + hex("78 70") +
         hex("7E 72 00 33") + "org.apache.flink.core.execution.SavepointFormatType" +
         hex("00 00 00 00 00 00 00 00 12 00 00 78") + spec_enumbase() + spec_str(format) + spec_str(name) +
         hex("7E 72 00 46") + "org.apache.flink.runtime.checkpoint.SavepointType$PostCheckpointAction" +
         hex("00 00 00 00 00 00 00 00 12 00 00 78") + hex("71 00 7E 00 09") + spec_str(action);
}

uint64_t next_random(uint64_t& state) {  // xorshift64: deterministic, no <random> state to seed
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Templates

TEST_CASE("encode_properties_trailer emits the exact bytes of spec §10.2") {
  CHECK(spec_prefix().size() == 258);
  const std::string never = hex("01 01 01 01 01 00 00");
  CHECK(encode_properties_trailer(checkpoint_properties(Retention::kNeverRetain)) ==
        spec_prefix() + never + spec_checkpoint_type("Checkpoint", "FORWARD_BACKWARD"));
  CHECK(encode_properties_trailer(checkpoint_properties(Retention::kRetainOnCancellation, true)) ==
        spec_prefix() + hex("00 00 01 01 00 00 00") + spec_checkpoint_type("Full Checkpoint", "FORWARD"));
  CHECK(encode_properties_trailer(savepoint_properties(Format::kCanonical, Action::kNone, true)) ==
        spec_prefix() + hex("00 00 00 00 00 01 00") + spec_savepoint_type("CANONICAL", "Savepoint", "NONE"));
  CHECK(encode_properties_trailer(savepoint_properties(Format::kNative, Action::kSuspend)) ==
        spec_prefix() + hex("00 00 00 00 00 00 00") + spec_savepoint_type("NATIVE", "Suspend Savepoint", "SUSPEND"));
  CHECK(encode_properties_trailer(savepoint_properties(Format::kNative, Action::kTerminate)) ==
        spec_prefix() + hex("00 00 00 00 00 00 00") +
            spec_savepoint_type("NATIVE", "Terminate Savepoint", "TERMINATE"));
}

TEST_CASE("trailer sizes match spec §10.2") {
  auto size = [](const Props& p) { return encode_properties_trailer(p).size(); };
  CHECK(size(checkpoint_properties(Retention::kNeverRetain)) == 604);
  CHECK(size(checkpoint_properties(Retention::kNeverRetain, true)) == 600);
  CHECK(size(savepoint_properties(Format::kCanonical)) == 745);
  CHECK(size(savepoint_properties(Format::kNative)) == 742);
  CHECK(size(savepoint_properties(Format::kCanonical, Action::kSuspend)) == 756);
  CHECK(size(savepoint_properties(Format::kNative, Action::kSuspend)) == 753);
  CHECK(size(savepoint_properties(Format::kCanonical, Action::kTerminate)) == 760);
  CHECK(size(savepoint_properties(Format::kNative, Action::kTerminate)) == 757);
}

TEST_CASE("the seven booleans sit at trailer bytes 0x102-0x108 in alphabetical field order") {
  Props p = savepoint_properties(Format::kCanonical);
  p.discard_cancelled = true;  // 0x102
  p.discard_subsumed = true;   // 0x105
  p.unclaimed = true;          // 0x108
  const std::string t = encode_properties_trailer(p);
  CHECK(t.substr(0x102, 7) == hex("01 00 00 01 00 00 01"));
  CHECK(t.substr(0, 258) == spec_prefix());
}

TEST_CASE("encode derives the Java type name from kind and action, not from type_name") {
  Props p = savepoint_properties(Format::kNative, Action::kTerminate);
  p.type_name = "whatever";
  p.sharing_strategy = "ignored for savepoints";
  CHECK(encode_properties_trailer(p) ==
        encode_properties_trailer(savepoint_properties(Format::kNative, Action::kTerminate)));

  Props c = checkpoint_properties(Retention::kRetainOnFailure, true);
  c.type_name.clear();
  c.sharing_strategy.clear();  // empty: the strategy Flink pairs with the kind
  CHECK(encode_properties_trailer(c) ==
        encode_properties_trailer(checkpoint_properties(Retention::kRetainOnFailure, true)));
  c.kind = Kind::kCheckpoint;
  CHECK(encode_properties_trailer(c) == encode_properties_trailer(checkpoint_properties(Retention::kRetainOnFailure)));
}

TEST_CASE("encode rejects values it cannot represent") {
  Props p = checkpoint_properties(Retention::kNeverRetain);
  p.sharing_strategy = "BACKWARD";
  CHECK_THROWS_AS(encode_properties_trailer(p), ckpt::util::Error);
  p.sharing_strategy = "forward";  // the constant names are case-sensitive
  CHECK_THROWS_AS(encode_properties_trailer(p), ckpt::util::Error);

  Props bad_kind = checkpoint_properties(Retention::kNeverRetain);
  bad_kind.kind = static_cast<Kind>(7);
  CHECK_THROWS_AS(encode_properties_trailer(bad_kind), ckpt::util::Error);
  Props bad_action = savepoint_properties(Format::kNative);
  bad_action.action = static_cast<Action>(3);
  CHECK_THROWS_AS(encode_properties_trailer(bad_action), ckpt::util::Error);
  Props bad_format = savepoint_properties(Format::kNative);
  bad_format.format = static_cast<Format>(2);
  CHECK_THROWS_AS(encode_properties_trailer(bad_format), ckpt::util::Error);
}

TEST_CASE("the null trailer") {
  CHECK(encode_null_trailer() == hex("AC ED 00 05 70"));
  Props untouched = savepoint_properties(Format::kNative, Action::kSuspend, true);
  Props out = untouched;
  std::string detail = "stale";
  CHECK(parse_properties_trailer(encode_null_trailer(), out, &detail) == TrailerState::kNull);
  CHECK(same(out, untouched));
  CHECK(detail.empty());
  CHECK(parse_properties_trailer(encode_null_trailer(), out) == TrailerState::kNull);  // no detail
}

// ---------------------------------------------------------------------------------------------
// Presets and display

TEST_CASE("presets match the table of spec §10.1") {
  struct Row {
    Props p;
    bool c, fa, fi, sub, sus;
  };
  const Row rows[] = {
      {checkpoint_properties(Retention::kNeverRetain), true, true, true, true, true},
      {checkpoint_properties(Retention::kRetainOnFailure), true, false, true, true, true},
      {checkpoint_properties(Retention::kRetainOnCancellation), false, false, true, true, false},
      {checkpoint_properties(Retention::kRetainOnFailure, true), true, false, true, true, true},
      {savepoint_properties(Format::kCanonical), false, false, false, false, false},
      {savepoint_properties(Format::kNative, Action::kTerminate, true), false, false, false, false, false},
  };
  for (const Row& r : rows) {
    CAPTURE(describe(r.p));
    CHECK(r.p.discard_cancelled == r.c);
    CHECK(r.p.discard_failed == r.fa);
    CHECK(r.p.discard_finished == r.fi);
    CHECK(r.p.discard_subsumed == r.sub);
    CHECK(r.p.discard_suspended == r.sus);
    CHECK_FALSE(r.p.unclaimed);
  }
  CHECK_FALSE(checkpoint_properties(Retention::kNeverRetain).forced);
  CHECK(savepoint_properties(Format::kCanonical, Action::kNone, true).forced);
  CHECK_FALSE(savepoint_properties(Format::kCanonical).forced);

  const Props full = checkpoint_properties(Retention::kNeverRetain, true);
  CHECK(full.kind == Kind::kFullCheckpoint);
  CHECK(full.type_name == "Full Checkpoint");
  CHECK(full.sharing_strategy == "FORWARD");
  const Props inc = checkpoint_properties(Retention::kNeverRetain);
  CHECK(inc.kind == Kind::kCheckpoint);
  CHECK(inc.type_name == "Checkpoint");
  CHECK(inc.sharing_strategy == "FORWARD_BACKWARD");
  const Props stop = savepoint_properties(Format::kNative, Action::kSuspend);
  CHECK(stop.kind == Kind::kSavepoint);
  CHECK(stop.format == Format::kNative);
  CHECK(stop.action == Action::kSuspend);
  CHECK(stop.type_name == "Suspend Savepoint");
  CHECK(stop.sharing_strategy.empty());
  CHECK(savepoint_properties(Format::kCanonical, Action::kTerminate).type_name == "Terminate Savepoint");
  CHECK(savepoint_properties(Format::kCanonical).type_name == "Savepoint");
}

TEST_CASE("retention_of recognises the three checkpoint presets") {
  for (Retention r : {Retention::kNeverRetain, Retention::kRetainOnFailure, Retention::kRetainOnCancellation}) {
    CHECK(retention_of(checkpoint_properties(r)) == r);
    CHECK(retention_of(checkpoint_properties(r, true)) == r);
  }
  CHECK_FALSE(retention_of(savepoint_properties(Format::kCanonical)));
  Props odd = checkpoint_properties(Retention::kNeverRetain);
  odd.discard_finished = false;
  CHECK_FALSE(retention_of(odd));
}

TEST_CASE("display names") {
  CHECK(describe(checkpoint_properties(Retention::kNeverRetain)) == "checkpoint");
  CHECK(describe(checkpoint_properties(Retention::kNeverRetain, true)) == "full checkpoint");
  CHECK(describe(savepoint_properties(Format::kCanonical)) == "savepoint (canonical)");
  CHECK(describe(savepoint_properties(Format::kNative)) == "savepoint (native)");
  CHECK(describe(savepoint_properties(Format::kNative, Action::kSuspend)) == "suspend savepoint (native)");
  CHECK(describe(savepoint_properties(Format::kCanonical, Action::kTerminate)) == "terminate savepoint (canonical)");
  Props bad = savepoint_properties(Format::kCanonical);
  bad.action = static_cast<Action>(9);
  CHECK(describe(bad) == "?");
  bad.kind = static_cast<Kind>(9);
  CHECK(describe(bad) == "?");

  CHECK(describe(TrailerState::kAbsent) == "absent");
  CHECK(describe(TrailerState::kNull) == "null");
  CHECK(describe(TrailerState::kParsed) == "parsed");
  CHECK(describe(TrailerState::kUnparsed) == "unparsed");
  CHECK(describe(Retention::kNeverRetain) == "NEVER_RETAIN_AFTER_TERMINATION");
  CHECK(describe(Retention::kRetainOnFailure) == "RETAIN_ON_FAILURE");
  CHECK(describe(Retention::kRetainOnCancellation) == "RETAIN_ON_CANCELLATION");

  CHECK(type_name(Kind::kCheckpoint, Action::kTerminate) == "Checkpoint");  // action: savepoints only
  CHECK(type_name(Kind::kSavepoint, Action::kSuspend) == "Suspend Savepoint");
  CHECK(format_name(Format::kNative) == "NATIVE");
  CHECK(action_name(Action::kTerminate) == "TERMINATE");
  CHECK(format_name(static_cast<Format>(5)) == "?");
}

// ---------------------------------------------------------------------------------------------
// Parsing the templates

TEST_CASE("parse inverts encode for every variant") {
  for (const Props& p : all_variants()) {
    CAPTURE(describe(p));
    const std::string bytes = encode_properties_trailer(p);
    Result r = classify(bytes);
    REQUIRE(r.outcome == Outcome::kParsed);
    CHECK(same(r.props, p));
    CHECK(r.detail.empty());
  }
}

TEST_CASE("parse writes `out` only on kParsed and works without a detail string") {
  const Props sentinel = savepoint_properties(Format::kNative, Action::kTerminate, true);
  Props out = sentinel;
  const std::string other = Java().str("hello").s;
  CHECK(parse_properties_trailer(other, out) == TrailerState::kUnparsed);
  CHECK(same(out, sentinel));
  CHECK(parse_properties_trailer(encode_properties_trailer(checkpoint_properties(Retention::kNeverRetain)), out) ==
        TrailerState::kParsed);
  CHECK(same(out, checkpoint_properties(Retention::kNeverRetain)));
}

// ---------------------------------------------------------------------------------------------
// Known classes in unknown shapes: kUnparsed, with a reason

namespace {
std::string replaced(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}
}  // namespace

TEST_CASE("CheckpointProperties of an unknown shape is kUnparsed with a reason") {
  const std::string cp = encode_properties_trailer(checkpoint_properties(Retention::kNeverRetain));
  const std::string sp = encode_properties_trailer(savepoint_properties(Format::kCanonical, Action::kSuspend));

  struct Case {
    const char* what;
    std::string bytes;
    const char* reason;
  };
  const Case cases[] = {
      {"CheckpointProperties UID",
       replaced(cp, hex("00 00 00 00 00 00 00 02 02 00 08"), hex("00 00 00 00 00 00 00 03 02 00 08")),
       "serialVersionUID 3, expected 2"},
      {"CheckpointType UID", replaced(cp, hex("D6 DE 4F 03"), hex("D6 DE 4F 04")), "serialVersionUID"},
      {"SavepointType UID", replaced(sp, hex("A0 87 D3 08"), hex("A0 87 D3 09")), "serialVersionUID"},
      {"unknown CheckpointType name", replaced(cp, spec_str("Checkpoint"), spec_str("Checkpoinz")),
       "unknown name \"Checkpoinz\""},
      {"unknown strategy", replaced(cp, spec_str("FORWARD_BACKWARD"), spec_str("BACKWARD")),
       "unknown constant BACKWARD"},
      {"unknown action", replaced(sp, spec_str("SUSPEND"), spec_str("PAUSE")), "unknown constant PAUSE"},
      {"unknown format", replaced(sp, spec_str("CANONICAL"), spec_str("CANON")), "unknown constant CANON"},
      {"name does not fit the action", replaced(sp, spec_str("Suspend Savepoint"), spec_str("Terminate Savepoint")),
       "is named \"Terminate Savepoint\", expected \"Suspend Savepoint\""},
      {"renamed boolean field", replaced(cp, "discardFailed", "discardFAILED"), "no boolean field discardFailed"},
      {"boolean written as 2", cp.substr(0, 0x103) + hex("02") + cp.substr(0x104),
       "not encoded the way Flink writes it (first difference at trailer byte 259)"},
      {"checkpointType null", cp.substr(0, 0x109) + hex("70"), "checkpointType holds null"},
      {"checkpointType is the properties object itself", cp.substr(0, 0x109) + hex("71 00 7E 00 02"),
       "holds a object of class org.apache.flink.runtime.checkpoint.CheckpointProperties"},
      {"checkpointType is a string", cp.substr(0, 0x109) + spec_str("Checkpoint"), "holds a string \"Checkpoint\""},
  };
  for (const Case& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    Result r = classify(c.bytes);
    CHECK(r.outcome == Outcome::kUnparsed);
    CAPTURE(r.detail);
    CAPTURE(r.error);
    CHECK(r.detail.find(c.reason) != std::string::npos);
  }
}

TEST_CASE("CheckpointProperties with an extra field is kUnparsed") {
  Java j;
  j.u8(0x73).desc("org.apache.flink.runtime.checkpoint.CheckpointProperties", 2, 0x02, 9);
  for (const char* f : {"discardCancelled", "discardFailed", "discardFinished", "discardSubsumed", "discardSuspended",
                        "forced", "unclaimed"}) {
    j.prim('Z', f);
  }
  j.prim('I', "zzNewField");
  j.ref_field('L', "checkpointType", "Lorg/apache/flink/runtime/checkpoint/SnapshotType;").end_no_super();
  j.raw("01 01 01 01 01 00 00").i32(7);
  const std::string cp = encode_properties_trailer(checkpoint_properties(Retention::kNeverRetain));
  j.s += cp.substr(0x109);
  Result r = classify(j.s);
  CHECK(r.outcome == Outcome::kUnparsed);
  CHECK(r.detail.find("a checkpoint CheckpointProperties, but not encoded the way Flink writes it") !=
        std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The generic parser on other well-formed streams: kUnparsed, and every truncation throws

namespace {

void check_other_stream(const std::string& bytes, std::string_view reason) {
  Result r = classify(bytes);
  CHECK(r.outcome == Outcome::kUnparsed);
  CAPTURE(r.detail);
  CAPTURE(r.error);
  CHECK(r.detail.find(reason) != std::string::npos);
  // The parser must know exactly where the object ends: no strict prefix is a whole stream,
  // and nothing may follow it.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    Result t = classify(bytes.substr(0, n));
    CHECK(t.outcome == Outcome::kThrew);
  }
  Result longer = classify(bytes + hex("70"));
  CHECK(longer.outcome == Outcome::kThrew);
  CHECK(longer.error_offset == bytes.size());
}

}  // namespace

TEST_CASE("strings, enums, classes and class descriptors at top level") {
  check_other_stream(Java().str("hello").s, "holds a string \"hello\"");
  check_other_stream(Java().u8(0x7C).i64(3).raw("41 42 43").s,
                     "holds a string \"ABC\"");  // TC_LONGSTRING
  check_other_stream(Java().str("").s, "holds a string \"\"");
  check_other_stream(Java().str("\xC3\xA9\xC0\x80").s, "holds a string \"\\xc3\\xa9\\xc0\\x80\"");
  check_other_stream(Java()
                         .u8(0x7E)
                         .desc("com.example.Color", 0, 0x12, 0)
                         .end()
                         .desc("java.lang.Enum", 0, 0x12, 0)
                         .end_no_super()
                         .str("RED")
                         .s,
                     "holds a enum constant of class com.example.Color");
  check_other_stream(Java().u8(0x76).desc("java.lang.String", 1, 0x02, 0).end_no_super().s,
                     "holds a class of class java.lang.String");
  check_other_stream(Java().desc("com.example.Foo", 1, 0x02, 0).end_no_super().s,
                     "holds a class descriptor of com.example.Foo");
}

TEST_CASE("objects with fields of every primitive type, arrays and references") {
  Java j;
  j.u8(0x73).desc("com.example.Prims", 42, 0x02, 11);
  j.prim('B', "b").prim('C', "c").prim('D', "d").prim('F', "f").prim('I', "i").prim('J', "j");
  j.prim('S', "s").prim('Z', "z");
  j.ref_field('L', "o", "Ljava/lang/Object;").ref_field('[', "a", "[I");
  j.ref_field('L', "again", "Ljava/lang/Object;");  // signature written again: a new string
  j.end().desc("com.example.Base", 7, 0x02, 1).ref_field('L', "name", "Ljava/lang/String;").end_no_super();
  // Handles: 0 Prims desc, 1..4 signatures, 5 Base desc, 6 its signature, 7 the object.
  j.str("base first");                                                 // Base.name
  j.raw("7F").raw("00 41").raw("3F F0 00 00 00 00 00 00");             // b, c, d
  j.raw("3F 80 00 00").i32(-5).i64(INT64_MIN).raw("80 00").raw("01");  // f, i, j, s, z
  j.ref(7);                                                            // o: the object itself
  j.u8(0x75).desc("[I", 0x4DBA602676EAB2A5LL, 0x02, 0).end_no_super().i32(3).raw("00 00 00 01 00 00 00 02 00 00 00 03");
  j.ref(4);  // again: the "[I" signature string
  check_other_stream(j.s, "holds a object of class com.example.Prims");
}

TEST_CASE("arrays of every element type") {
  for (const char* type : {"[B", "[Z", "[C", "[S", "[I", "[F", "[J", "[D"}) {
    CAPTURE(type);
    const int size = type[1] == 'B' || type[1] == 'Z'   ? 1
                     : type[1] == 'C' || type[1] == 'S' ? 2
                     : type[1] == 'I' || type[1] == 'F' ? 4
                                                        : 8;
    Java j;
    j.u8(0x75).desc(type, 1, 0x02, 0).end_no_super().i32(2);
    j.s += std::string(static_cast<std::size_t>(2 * size), '\x01');
    check_other_stream(j.s, "holds a array of class ");
  }
  Java nested;
  nested.u8(0x75).desc("[[Ljava.lang.String;", 1, 0x02, 0).end_no_super().i32(3);
  nested.u8(0x75).desc("[Ljava.lang.String;", 2, 0x02, 0).end_no_super().i32(2).str("x").u8(0x70);
  nested.u8(0x70);
  nested.ref(2);  // the inner array again
  check_other_stream(nested.s, "holds a array of class [[Ljava.lang.String;");
  check_other_stream(Java().u8(0x75).desc("[J", 1, 0x02, 0).end_no_super().i32(0).s, "array");
}

TEST_CASE("custom writeObject data, externalizable data and annotations") {
  Java custom;
  custom.u8(0x73).desc("com.example.Custom", 3, 0x03, 1).prim('I', "x");
  custom.raw("77 02 CA FE").str("class annotation").end().u8(0x70);  // annotated class
  custom.i32(5).raw("77 03 AA BB CC 7A 00 00 00 02 DD EE").str("q").raw("77 00").end();
  check_other_stream(custom.s, "holds a object of class com.example.Custom");

  Java ext;
  ext.u8(0x73).desc("com.example.Ext", 4, 0x0C, 0).end_no_super();
  ext.raw("77 04 00 00 00 2A").u8(0x73).ref(0).raw("77 00").end().end();  // nested externalizable
                                                                          // object
  check_other_stream(ext.s, "holds a object of class com.example.Ext");
}

TEST_CASE("dynamic proxies") {
  Java proxy;
  proxy.u8(0x73).u8(0x7D).i32(2).utf("java.lang.Runnable").utf("java.io.Closeable").end();
  proxy.desc("java.lang.reflect.Proxy", -2222568056686623797LL, 0x02, 1);
  proxy.ref_field('L', "h", "Ljava/lang/reflect/InvocationHandler;").end_no_super();
  proxy.u8(0x70);  // h
  check_other_stream(proxy.s, "holds a object of class (proxy)");
}

// ---------------------------------------------------------------------------------------------
// Malformed streams: DecodeError at the right place

TEST_CASE("malformed streams throw DecodeError") {
  struct Case {
    const char* what;
    std::string bytes;
    uint64_t offset;
    const char* message;
  };
  const Java enum_base = Java().desc("java.lang.Enum", 0, 0x12, 0).end_no_super();
  // An Object[] up to its length (offset 40): handles 0 (its class) and 1 (the array).
  const Java objects = Java().u8(0x75).desc("[Ljava.lang.Object;", 1, 0x02, 0).end_no_super();
  const Case cases[] = {
      {"empty", "", 0, "truncated"},
      {"magic only", hex("AC ED"), 2, "truncated"},
      {"no object", hex("AC ED 00 05"), 4, "truncated"},
      {"wrong magic", hex("AC EE 00 05 70"), 0, "magic is 0xACEE"},
      {"wrong version", hex("AC ED 00 04 70"), 2, "version is 4"},
      {"TC_RESET", hex("AC ED 00 05 79 70"), 4, "TC_RESET"},
      {"TC_EXCEPTION", hex("AC ED 00 05 7B 70"), 4, "TC_EXCEPTION"},
      {"type code below the range", hex("AC ED 00 05 6F"), 4, "type code 0x6F"},
      {"type code above the range", hex("AC ED 00 05 7F"), 4, "type code 0x7F"},
      {"end block data at top level", hex("AC ED 00 05 78"), 4, "type code 0x78"},
      {"block data at top level", hex("AC ED 00 05 77 01 00"), 4, "block data"},
      {"two objects", hex("AC ED 00 05 70 70"), 5, "1 bytes follow the serialized object"},
      {"null then garbage", hex("AC ED 00 05 70 00 01 02"), 5, "3 bytes follow"},
      {"reference without handles", hex("AC ED 00 05 71 00 7E 00 00"), 4, "reference to handle 0x7E0000"},
      {"reference below the base", objects.s + hex("00 00 00 01") + hex("71 00 7D FF FF"), 44,
       "reference to handle 0x7DFFFF"},
      {"reference past the end", objects.s + hex("00 00 00 01") + hex("71 00 7E 00 02"), 44,
       "reference to handle 0x7E0002, but only 2 handles exist"},
      {"negative long string", Java().u8(0x7C).i64(-1).s, 4, "long string length -1"},
      {"huge long string", Java().u8(0x7C).i64(INT64_MAX).raw("41").s, 13, "truncated"},
      {"string not modified UTF-8", Java().str("\xFF").s, 7, "not valid modified UTF-8"},
      {"class name not modified UTF-8", Java().desc("\xF0\x9F\x98\x80", 1, 2, 0).end_no_super().s, 7,
       "class name is not valid modified UTF-8"},
      {"cut-off UTF-8 sequence", Java().str("ab\xC3").s, 9, "cut off"},
      {"serializable and externalizable", Java().desc("X", 1, 0x06, 0).end_no_super().s, 16,
       "both serializable and externalizable"},
      {"negative field count", Java().desc("X", 1, 0x02, 0x8000).s, 17, "field count -32768 is negative"},
      {"field count past the end", Java().desc("X", 1, 0x02, 100).prim('I', "a").s, 17, "field count is 100"},
      {"bad field type code", Java().desc("X", 1, 0x02, 1).prim('X', "a").end_no_super().s, 19,
       "field a has type code 0x58"},
      {"null field signature", Java().desc("X", 1, 0x02, 1).prim('L', "a").raw("70").end_no_super().s, 23,
       "field type signature is null, expected a string"},
      {"empty field signature", Java().desc("X", 1, 0x02, 1).ref_field('L', "a", "").end_no_super().s, 19,
       "empty type signature"},
      {"field signature is an object", Java().desc("X", 1, 0x02, 1).prim('L', "a").u8(0x73).ref(0).s, 24,
       "still being defined"},
      {"enum class with a UID", Java().u8(0x7E).desc("E", 5, 0x12, 0).end().s, 17, "serialVersionUID 5, expected 0"},
      {"enum class with fields", Java().u8(0x7E).desc("E", 0, 0x12, 1).prim('I', "x").s, 18, "has 1 fields"},
      {"enum of a non-enum class", Java().u8(0x7E).desc("E", 1, 0x02, 0).end_no_super().str("A").s, 4,
       "which is not an enum"},
      {"enum constant name not a string",
       Java().u8(0x7E).desc("E", 0, 0x12, 0).end().s + enum_base.s.substr(4) + hex("70"), 51,
       "enum constant name is null"},
      {"object of a null class", hex("AC ED 00 05 73 70"), 4, "class descriptor of object is null"},
      {"object of a string", objects.s + hex("00 00 00 02") + Java().str("a").s.substr(4) + hex("73 71 00 7E 00 02"),
       49, "refers to a string"},
      {"class descriptor of a bad type", hex("AC ED 00 05 73 74 00 01 41"), 5, "expected a class descriptor"},
      {"superclass is itself", Java().desc("A", 1, 0x02, 0).end().ref(0).s, 20, "still being defined"},
      {"protocol-1 externalizable", Java().u8(0x73).desc("X", 1, 0x04, 0).end_no_super().s, 22, "protocol 1"},
      {"array of a non-array class", Java().u8(0x75).desc("Foo", 1, 0x02, 0).end_no_super().i32(0).s, 4,
       "not an array type"},
      {"array of an unknown element type", Java().u8(0x75).desc("[Q", 1, 0x02, 0).end_no_super().i32(0).s, 4,
       "not an array type"},
      {"negative array length", Java().u8(0x75).desc("[I", 1, 0x02, 0).end_no_super().i32(-1).s, 23, "array length -1"},
      {"array length past the end", Java().u8(0x75).desc("[J", 1, 0x02, 0).end_no_super().i32(INT32_MAX).s + "12345678",
       23, "array length is 2147483647"},
      {"object array length past the end",
       Java().u8(0x75).desc("[Ljava.lang.Object;", 1, 0x02, 0).end_no_super().i32(1 << 30).raw("70 70").s, 40,
       "array length is 1073741824"},
      {"negative block data length", Java().u8(0x73).desc("X", 1, 0x03, 0).end_no_super().raw("7A FF FF FF FF").s, 22,
       "block data length -1"},
      {"unterminated annotation", Java().desc("X", 1, 0x02, 0).raw("77 01 00").s, 22, "truncated"},
  };
  for (const Case& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    Result r = classify(c.bytes);
    CAPTURE(r.detail);
    REQUIRE(r.outcome == Outcome::kThrew);
    CAPTURE(r.error);
    CHECK(r.error.find(c.message) != std::string::npos);
    CHECK(r.error_offset == c.offset);
  }
}

TEST_CASE("deep nesting is refused, not recursed into") {
  Java j;
  j.u8(0x75).desc("[Ljava.lang.Object;", 1, 0x02, 0).end_no_super().i32(1);
  for (int i = 0; i < 100000; ++i) j.u8(0x75).ref(0).i32(1);  // handle 0: the array class
  j.u8(0x70);
  Result r = classify(j.s);
  REQUIRE(r.outcome == Outcome::kThrew);
  CHECK(r.error.find("nested more than 64 levels") != std::string::npos);

  // 60 levels are fine.
  Java ok;
  ok.u8(0x75).desc("[Ljava.lang.Object;", 1, 0x02, 0).end_no_super().i32(1);
  for (int i = 0; i < 60; ++i) ok.u8(0x75).ref(0).i32(1);
  ok.u8(0x70);
  CHECK(classify(ok.s).outcome == Outcome::kUnparsed);

  // Nested class annotations recurse too.
  Java ann;
  for (int i = 0; i < 100000; ++i) ann.desc("A", 1, 0x02, 0);
  Result a = classify(ann.s);
  REQUIRE(a.outcome == Outcome::kThrew);
  CHECK(a.error.find("nested more than 64 levels") != std::string::npos);
}

TEST_CASE("long class hierarchies are refused") {
  // Each element is a TC_CLASS whose new descriptor extends the previous one by reference, so the
  // chain grows without nesting. Handles: 0 array class, 1 array, then 2 + 2i descriptor i and
  // 3 + 2i its class object.
  auto chain = [](int length) {
    Java j;
    j.u8(0x75).desc("[Ljava.lang.Object;", 1, 0x02, 0).end_no_super().i32(length);
    for (int i = 0; i < length; ++i) {
      j.u8(0x76).desc("C" + std::to_string(i), 1, 0x02, 0).end();
      if (i == 0) {
        j.u8(0x70);
      } else {
        j.ref(2 + 2 * (i - 1));
      }
    }
    return j.s;
  };
  CHECK(classify(chain(64)).outcome == Outcome::kUnparsed);
  Result r = classify(chain(65));
  REQUIRE(r.outcome == Outcome::kThrew);
  CHECK(r.error.find("class C64 has more than 64 superclasses") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Hostile input derived from real templates

TEST_CASE("every truncation of every template throws DecodeError") {
  std::vector<std::string> trailers{encode_null_trailer()};
  for (const Props& p : all_variants()) trailers.push_back(encode_properties_trailer(p));
  for (const std::string& t : trailers) {
    for (std::size_t n = 0; n < t.size(); ++n) {
      Result r = classify(t.substr(0, n));
      if (r.outcome != Outcome::kThrew || r.error_offset > n) {
        CAPTURE(n);
        FAIL("a truncated trailer did not throw at or before its end");
      }
    }
  }
}

TEST_CASE("trailing bytes after the object throw DecodeError at the first extra byte") {
  std::vector<std::string> trailers{encode_null_trailer()};
  for (const Props& p : all_variants()) trailers.push_back(encode_properties_trailer(p));
  for (const std::string& t : trailers) {
    for (const std::string& extra : {hex("00"), hex("70"), hex("78"), hex("AC ED 00 05 70"), t}) {
      Result r = classify(t + extra);
      CHECK(r.outcome == Outcome::kThrew);
      CHECK(r.error_offset == t.size());
      CHECK(r.error.find("follow the serialized object") != std::string::npos);
    }
  }
}

TEST_CASE("every single-bit flip of the templates is handled") {
  std::vector<std::string> trailers{encode_null_trailer(),
                                    encode_properties_trailer(checkpoint_properties(Retention::kNeverRetain)),
                                    encode_properties_trailer(savepoint_properties(Format::kNative, Action::kSuspend))};
  std::map<Outcome, int> seen;
  for (const std::string& t : trailers) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string m = t;
        m[i] = static_cast<char>(m[i] ^ (1 << bit));
        Result r = classify(m);
        ++seen[r.outcome];
        check_invariants(m, r);
      }
    }
  }
  // Flipping bit 0 of a boolean yields other valid properties; most flips break the stream.
  CHECK(seen[Outcome::kParsed] == 2 * 7);
  CHECK(seen[Outcome::kThrew] > 0);
  CHECK(seen[Outcome::kUnparsed] > 0);
}

TEST_CASE("random mutations of the templates never crash") {
  std::vector<std::string> trailers{encode_null_trailer()};
  for (const Props& p : all_variants()) trailers.push_back(encode_properties_trailer(p));
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string m = trailers[next_random(state) % trailers.size()];
    const int edits = 1 + static_cast<int>(next_random(state) % 4);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      const std::size_t at = next_random(state) % m.size();
      const auto byte = static_cast<char>(next_random(state));
      switch (next_random(state) % 5) {
        case 0:
          m[at] = byte;
          break;
        case 1:
          m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), byte);
          break;
        case 2:
          m.erase(at, 1 + next_random(state) % 8);
          break;
        case 3:
          m.insert(at, m.substr(next_random(state) % m.size(), next_random(state) % 32));
          break;
        default:
          m[at] = static_cast<char>(0x70 + next_random(state) % 15);
          break;  // a type code
      }
    }
    Result r = classify(m);
    check_invariants(m, r);
  }
}

TEST_CASE("random streams after the magic never crash") {
  uint64_t state = 12345;
  for (int iter = 0; iter < 5000; ++iter) {
    std::string m = hex("AC ED 00 05");
    const std::size_t len = next_random(state) % 48;
    for (std::size_t i = 0; i < len; ++i) {
      const uint64_t x = next_random(state);
      // Mostly type codes and small numbers, so that the parser gets past the first byte.
      m.push_back(static_cast<char>(x % 3 == 0 ? 0x70 + (x >> 8) % 15 : x % 3 == 1 ? (x >> 8) % 4 : x >> 8));
    }
    Result r = classify(m);
    check_invariants(m, r);
  }
}

// ---------------------------------------------------------------------------------------------
// Real trailers

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The trailer of a V4+ file, located without parsing the body: it starts at the last stream
// header that opens a CheckpointProperties descriptor, or is a final null stream.
std::optional<std::string> locate_trailer(const std::string& file) {
  const std::string start = hex("AC ED 00 05 73 72 00 38") + "org.apache.flink.runtime.checkpoint.CheckpointProperties";
  if (const auto at = file.rfind(start); at != std::string::npos) return file.substr(at);
  const std::string null_trailer = encode_null_trailer();
  if (file.size() >= null_trailer.size() &&
      file.compare(file.size() - null_trailer.size(), null_trailer.size(), null_trailer) == 0) {
    return null_trailer;
  }
  return std::nullopt;
}

int32_t header_version(const std::string& file) {
  if (file.size() < 8 || file.compare(0, 4, hex("49 60 67 2D")) != 0) return -1;
  uint32_t v = 0;
  for (int i = 4; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(file[static_cast<std::size_t>(i)]);
  return static_cast<int32_t>(v);
}

std::set<std::string> real_trailers() {
  std::set<std::string> out;
  for (const auto& path : fixtures::all_metadata()) {
    const std::string file = read_file(path);
    if (header_version(file) < 4) continue;
    if (auto t = locate_trailer(file)) out.insert(*t);
  }
  return out;
}

}  // namespace

TEST_SUITE("fixtures") {
  TEST_CASE("every real V4+ trailer parses and re-encodes byte for byte" * doctest::skip(!fixtures::available())) {
    std::map<std::string, int> kinds;
    int files = 0;
    for (const auto& path : fixtures::all_metadata()) {
      const std::string file = read_file(path);
      if (header_version(file) < 4) continue;
      ++files;
      CAPTURE(path.string());
      const auto trailer = locate_trailer(file);
      REQUIRE(trailer.has_value());
      Result r = classify(*trailer);
      CAPTURE(r.detail);
      CAPTURE(r.error);
      if (r.outcome == Outcome::kNull) {
        ++kinds["null"];
        continue;
      }
      REQUIRE(r.outcome == Outcome::kParsed);
      CHECK(encode_properties_trailer(r.props) == *trailer);
      ++kinds[std::string(describe(r.props)) + (r.props.forced ? ", forced" : "") +
              (retention_of(r.props) ? std::string(", ") + std::string(describe(*retention_of(r.props))) : "")];
    }
    CHECK(files >= 100);
    for (const auto& [kind, n] : kinds) MESSAGE(n << " x " << kind);
  }

  TEST_CASE("real trailers: every truncation, bit flip and trailing byte is handled" *
            doctest::skip(!fixtures::available())) {
    const auto trailers = real_trailers();
    REQUIRE(trailers.size() >= 2);
    for (const std::string& t : trailers) {
      for (std::size_t n = 0; n < t.size(); ++n) {
        Result r = classify(t.substr(0, n));
        if (r.outcome != Outcome::kThrew) {
          CAPTURE(n);
          FAIL("a truncated real trailer did not throw");
        }
      }
      for (std::size_t i = 0; i < t.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
          std::string m = t;
          m[i] = static_cast<char>(m[i] ^ (1 << bit));
          check_invariants(m, classify(m));
        }
      }
      Result extra = classify(t + hex("00"));
      CHECK(extra.outcome == Outcome::kThrew);
      CHECK(extra.error_offset == t.size());
    }
  }
}
