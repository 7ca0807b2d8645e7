#include "flink/checkpoint_properties.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "io/byte_writer.h"
#include "io/decode_error.h"
#include "io/java_serialization.h"
#include "util/error.h"

namespace ckpt::flink {
namespace {

using Props = CheckpointProperties;
using io::java::kBaseHandle, io::java::kStreamMagic, io::java::kStreamVersion;
using io::java::kScEnum, io::java::kScSerializable;
using io::java::kTcClassDesc, io::java::kTcEndBlockData, io::java::kTcEnum, io::java::kTcNull, io::java::kTcObject,
    io::java::kTcReference, io::java::kTcString;
using io::java::Node;
using io::java::shown;
using io::java::Value;
using io::java::what_is;

// ---------------------------------------------------------------------------------------------
// The classes of the trailer (spec §10.1). Shared by the shape matcher and the encoder so that
// what is accepted and what is written cannot drift apart.

constexpr std::string_view kPropsClass = "org.apache.flink.runtime.checkpoint.CheckpointProperties";
constexpr std::string_view kCheckpointTypeClass = "org.apache.flink.runtime.checkpoint.CheckpointType";
constexpr std::string_view kSavepointTypeClass = "org.apache.flink.runtime.checkpoint.SavepointType";
constexpr std::string_view kSharingClass = "org.apache.flink.runtime.checkpoint.SnapshotType$SharingFilesStrategy";
constexpr std::string_view kFormatClass = "org.apache.flink.core.execution.SavepointFormatType";
constexpr std::string_view kActionClass = "org.apache.flink.runtime.checkpoint.SavepointType$PostCheckpointAction";
constexpr std::string_view kEnumClass = "java.lang.Enum";

constexpr std::string_view kSnapshotTypeSig = "Lorg/apache/flink/runtime/checkpoint/SnapshotType;";
constexpr std::string_view kStringSig = "Ljava/lang/String;";
constexpr std::string_view kSharingSig = "Lorg/apache/flink/runtime/checkpoint/SnapshotType$SharingFilesStrategy;";
constexpr std::string_view kFormatSig = "Lorg/apache/flink/core/execution/SavepointFormatType;";
constexpr std::string_view kActionSig = "Lorg/apache/flink/runtime/checkpoint/SavepointType$PostCheckpointAction;";

// CheckpointProperties declares its UID; the two type classes rely on the JVM's computed default,
// which changes with any change to their members (spec §10.3).
constexpr int64_t kPropsSuid = 2;
constexpr int64_t kCheckpointTypeSuid = static_cast<int64_t>(0xD6DE4F0305AE1D3AULL);
constexpr int64_t kSavepointTypeSuid = static_cast<int64_t>(0xA087D308A45814B8ULL);

// The boolean fields in stream order (Java sorts primitive fields by name).
struct Flag {
  std::string_view name;
  bool Props::*member;
};
constexpr std::array<Flag, 7> kFlags = {{
    {"discardCancelled", &Props::discard_cancelled},
    {"discardFailed", &Props::discard_failed},
    {"discardFinished", &Props::discard_finished},
    {"discardSubsumed", &Props::discard_subsumed},
    {"discardSuspended", &Props::discard_suspended},
    {"forced", &Props::forced},
    {"unclaimed", &Props::unclaimed},
}};

constexpr std::array<std::string_view, 3> kStrategies = {"FORWARD_BACKWARD", "FORWARD", "NO_SHARING"};
constexpr std::array<std::string_view, 2> kFormats = {"CANONICAL", "NATIVE"};
constexpr std::array<std::string_view, 3> kActions = {"NONE", "SUSPEND", "TERMINATE"};

template <std::size_t N>
std::optional<std::size_t> index_of(const std::array<std::string_view, N>& names, Bytes s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return i;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Shape matcher: reads the known classes out of the tree. Every check that fails says what was
// found; anything subtler (field order, signatures, flags) is caught by comparing with the
// re-encoded template afterwards.

class ShapeMatcher {
 public:
  // Fills `p` from `top`; false with `why()` set when the stream is something else.
  bool match(const Node& top, Props& p) {
    if (!is_object_of(&top, kPropsClass, kPropsSuid, "the stream")) return false;
    for (const Flag& f : kFlags) {
      const Value* v = field(top, f.name, 'Z');
      if (v == nullptr) return false;
      p.*f.member = v->primitive != 0;
    }
    const Value* type = field(top, "checkpointType", 'L');
    if (type == nullptr) return false;
    const Node* t = type->object;
    if (t != nullptr && t->kind == Node::Kind::kObject && t->desc->text == kSavepointTypeClass) {
      return is_object_of(t, kSavepointTypeClass, kSavepointTypeSuid, "checkpointType") && savepoint_type(*t, p);
    }
    return is_object_of(t, kCheckpointTypeClass, kCheckpointTypeSuid, "checkpointType") && checkpoint_type(*t, p);
  }

  std::string& why() { return why_; }

 private:
  bool checkpoint_type(const Node& t, Props& p) {
    Bytes name;
    if (!string_field(t, "name", name)) return false;
    if (name == type_name(Props::Kind::kCheckpoint, Props::Action::kNone)) {
      p.kind = Props::Kind::kCheckpoint;
    } else if (name == type_name(Props::Kind::kFullCheckpoint, Props::Action::kNone)) {
      p.kind = Props::Kind::kFullCheckpoint;
    } else {
      return mismatch(fmt::format("CheckpointType has the unknown name \"{}\"", shown(name)));
    }
    auto strategy = enum_field(t, "sharingFilesStrategy", kSharingClass, kStrategies);
    if (!strategy) return false;
    p.type_name = std::string(name);
    p.sharing_strategy = std::string(kStrategies[*strategy]);
    return true;
  }

  bool savepoint_type(const Node& t, Props& p) {
    auto format = enum_field(t, "formatType", kFormatClass, kFormats);
    if (!format) return false;
    auto action = enum_field(t, "postCheckpointAction", kActionClass, kActions);
    if (!action) return false;
    p.kind = Props::Kind::kSavepoint;
    p.format = static_cast<Props::Format>(*format);
    p.action = static_cast<Props::Action>(*action);
    Bytes name;
    if (!string_field(t, "name", name)) return false;
    if (name != type_name(p.kind, p.action)) {
      return mismatch(fmt::format("SavepointType with action {} is named \"{}\", expected \"{}\"",
                                  action_name(p.action), shown(name), type_name(p.kind, p.action)));
    }
    p.type_name = std::string(name);
    return true;
  }

  bool mismatch(std::string why) {
    why_ = std::move(why);
    return false;
  }

  bool is_object_of(const Node* n, std::string_view cls, int64_t suid, std::string_view what) {
    if (n == nullptr) return mismatch(fmt::format("{} holds null, expected a {} object", what, cls));
    if (n->kind != Node::Kind::kObject || n->desc->text != cls) {
      return mismatch(fmt::format("{} holds a {}, expected a {} object", what, what_is(*n), cls));
    }
    if (n->desc->suid != suid) {
      return mismatch(
          fmt::format("class {} has serialVersionUID {}, expected {} (a different "
                      "Flink version of the class)",
                      cls, n->desc->suid, suid));
    }
    return true;
  }

  const Value* field(const Node& obj, std::string_view name, char type) {
    for (const Value& v : obj.values) {
      if (v.field->name == name && v.field->type == type) return &v;
    }
    mismatch(
        fmt::format("class {} has no {} field {}", shown(obj.desc->text), type == 'Z' ? "boolean" : "object", name));
    return nullptr;
  }

  bool string_field(const Node& obj, std::string_view name, Bytes& out) {
    const Value* v = field(obj, name, 'L');
    if (v == nullptr) return false;
    if (v->object == nullptr || v->object->kind != Node::Kind::kString) {
      return mismatch(fmt::format("field {} of class {} is not a string", name, shown(obj.desc->text)));
    }
    out = v->object->text;
    return true;
  }

  template <std::size_t N>
  std::optional<std::size_t> enum_field(const Node& obj, std::string_view name, std::string_view cls,
                                        const std::array<std::string_view, N>& constants) {
    const Value* v = field(obj, name, 'L');
    if (v == nullptr) return std::nullopt;
    const Node* e = v->object;
    if (e == nullptr || e->kind != Node::Kind::kEnum || e->desc->text != cls) {
      mismatch(fmt::format("field {} is not a constant of enum {}", name, cls));
      return std::nullopt;
    }
    auto i = index_of(constants, e->text);
    if (!i) mismatch(fmt::format("enum {} has the unknown constant {}", cls, shown(e->text)));
    return i;
  }

  std::string why_;
};

// ---------------------------------------------------------------------------------------------
// Template writer: the pieces ObjectOutputStream emits for these classes (spec §10.2).

class TemplateWriter {
 public:
  explicit TemplateWriter(std::string& out) : w_(out) {}

  void stream_header() {
    w_.u16(kStreamMagic);
    w_.u16(kStreamVersion);
  }
  void u8(uint8_t v) { w_.u8(v); }
  void reference(int32_t handle) {
    w_.u8(kTcReference);
    w_.i32(kBaseHandle + handle);
  }
  void string(std::string_view s) {
    w_.u8(kTcString);
    utf(s);
  }
  void class_desc(std::string_view name, int64_t suid, uint8_t flags, uint16_t fields) {
    w_.u8(kTcClassDesc);
    utf(name);
    w_.i64(suid);
    w_.u8(flags);
    w_.u16(fields);
  }
  void primitive_field(char type, std::string_view name) {
    w_.u8(static_cast<uint8_t>(type));
    utf(name);
  }
  void object_field(std::string_view name, std::string_view signature) {
    primitive_field('L', name);
    string(signature);
  }
  // Empty annotation, no superclass.
  void end_class() {
    w_.u8(kTcEndBlockData);
    w_.u8(kTcNull);
  }
  // An enum constant's class, up to (not including) its superclass java.lang.Enum.
  void enum_class(std::string_view name) {
    w_.u8(kTcEnum);
    class_desc(name, 0, kScSerializable | kScEnum, 0);
    w_.u8(kTcEndBlockData);
  }
  void enum_base() {
    class_desc(kEnumClass, 0, kScSerializable | kScEnum, 0);
    end_class();
  }

 private:
  void utf(std::string_view s) {
    w_.u16(static_cast<uint16_t>(s.size()));
    w_.bytes(s);
  }

  io::ByteWriter w_;
};

// Handle of the java.lang.Enum descriptor in a savepoint trailer, where it is first written for
// formatType and then referenced by postCheckpointAction. Handles before it: 0 the properties
// class, 1 its SnapshotType signature, 2 the properties object, 3 the SavepointType class, 4-6 its
// three field signatures, 7 the SavepointType object, 8 the SavepointFormatType class.
constexpr int32_t kSavepointEnumBaseHandle = 9;

std::string_view strategy_for(const Props& props) {
  if (props.sharing_strategy.empty()) {
    return props.kind == Props::Kind::kFullCheckpoint ? kStrategies[1] : kStrategies[0];
  }
  if (!index_of(kStrategies, props.sharing_strategy)) {
    throw util::Error(util::ErrorKind::kInput, "unknown sharing strategy \"" + shown(props.sharing_strategy) +
                                                   "\", expected FORWARD_BACKWARD, FORWARD or NO_SHARING");
  }
  return props.sharing_strategy;
}

template <typename E, std::size_t N>
std::string_view enum_text(E e, const std::array<std::string_view, N>& names) {
  auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : std::string_view("?");
}

}  // namespace

std::size_t properties_stream_length(Bytes bytes) { return io::java::parse_first_object(bytes).length; }

TrailerState parse_properties_trailer(Bytes trailer, CheckpointProperties& out, std::string* detail) {
  if (detail) detail->clear();
  const io::java::ObjectTree tree = io::java::parse_stream(trailer);
  const Node* top = tree.top;
  if (top == nullptr) return TrailerState::kNull;

  CheckpointProperties parsed;
  ShapeMatcher matcher;
  if (matcher.match(*top, parsed)) {
    std::string canonical = encode_properties_trailer(parsed);
    if (canonical == trailer) {
      out = std::move(parsed);
      return TrailerState::kParsed;
    }
    std::size_t at = 0;
    while (at < canonical.size() && at < trailer.size() && canonical[at] == trailer[at]) ++at;
    matcher.why() = fmt::format(
        "a {} CheckpointProperties, but not encoded the way Flink writes it (first difference at "
        "trailer byte {})",
        describe(parsed), at);
  }
  if (detail) *detail = std::move(matcher.why());
  return TrailerState::kUnparsed;
}

std::string encode_properties_trailer(const CheckpointProperties& props) {
  std::string_view name = type_name(props.kind, props.action);
  bool savepoint = props.kind == Props::Kind::kSavepoint;
  if (name == "?" || (savepoint && format_name(props.format) == "?")) {
    throw util::Error(util::ErrorKind::kInput, "checkpoint properties hold an out-of-range enum value");
  }
  std::string_view strategy = savepoint ? std::string_view() : strategy_for(props);

  std::string out;
  TemplateWriter w(out);
  w.stream_header();
  w.u8(kTcObject);
  w.class_desc(kPropsClass, kPropsSuid, kScSerializable, static_cast<uint16_t>(kFlags.size() + 1));
  for (const Flag& f : kFlags) w.primitive_field('Z', f.name);
  w.object_field("checkpointType", kSnapshotTypeSig);
  w.end_class();
  for (const Flag& f : kFlags) w.u8(props.*f.member ? 1 : 0);

  w.u8(kTcObject);
  if (!savepoint) {
    w.class_desc(kCheckpointTypeClass, kCheckpointTypeSuid, kScSerializable, 2);
    w.object_field("name", kStringSig);
    w.object_field("sharingFilesStrategy", kSharingSig);
    w.end_class();
    w.string(name);
    w.enum_class(kSharingClass);
    w.enum_base();
    w.string(strategy);
  } else {
    w.class_desc(kSavepointTypeClass, kSavepointTypeSuid, kScSerializable, 3);
    w.object_field("formatType", kFormatSig);
    w.object_field("name", kStringSig);
    w.object_field("postCheckpointAction", kActionSig);
    w.end_class();
    w.enum_class(kFormatClass);
    w.enum_base();
    w.string(format_name(props.format));
    w.string(name);
    w.enum_class(kActionClass);
    w.reference(kSavepointEnumBaseHandle);
    w.string(action_name(props.action));
  }
  return out;
}

std::string encode_null_trailer() {
  std::string out;
  TemplateWriter w(out);
  w.stream_header();
  w.u8(kTcNull);
  return out;
}

CheckpointProperties checkpoint_properties(Retention retention, bool full) {
  Props p;
  // Flink deletes a checkpoint whenever it is subsumed or the job finishes; retention only
  // decides cancellation, failure and suspension.
  p.discard_subsumed = true;
  p.discard_finished = true;
  p.discard_cancelled = retention != Retention::kRetainOnCancellation;
  p.discard_failed = retention == Retention::kNeverRetain;
  p.discard_suspended = retention != Retention::kRetainOnCancellation;
  p.kind = full ? Props::Kind::kFullCheckpoint : Props::Kind::kCheckpoint;
  p.type_name = std::string(type_name(p.kind, p.action));
  p.sharing_strategy = std::string(full ? kStrategies[1] : kStrategies[0]);
  return p;
}

CheckpointProperties savepoint_properties(CheckpointProperties::Format format, CheckpointProperties::Action action,
                                          bool forced) {
  Props p;
  p.forced = forced;
  p.kind = Props::Kind::kSavepoint;
  p.format = format;
  p.action = action;
  p.type_name = std::string(type_name(p.kind, p.action));
  return p;
}

std::optional<Retention> retention_of(const CheckpointProperties& props) {
  if (props.kind == Props::Kind::kSavepoint) return std::nullopt;
  auto discards = [](const Props& p) {
    return std::array{p.discard_cancelled, p.discard_failed, p.discard_finished, p.discard_subsumed,
                      p.discard_suspended};
  };
  for (Retention r : {Retention::kNeverRetain, Retention::kRetainOnFailure, Retention::kRetainOnCancellation}) {
    if (discards(props) == discards(checkpoint_properties(r))) return r;
  }
  return std::nullopt;
}

std::string_view describe(const CheckpointProperties& props) {
  static constexpr std::array<std::array<std::string_view, 2>, 3> kSavepoints = {{
      {"savepoint (canonical)", "savepoint (native)"},
      {"suspend savepoint (canonical)", "suspend savepoint (native)"},
      {"terminate savepoint (canonical)", "terminate savepoint (native)"},
  }};
  switch (props.kind) {
    case Props::Kind::kCheckpoint:
      return "checkpoint";
    case Props::Kind::kFullCheckpoint:
      return "full checkpoint";
    case Props::Kind::kSavepoint: {
      auto a = static_cast<std::size_t>(props.action);
      auto f = static_cast<std::size_t>(props.format);
      return a < kSavepoints.size() && f < kFormats.size() ? kSavepoints[a][f] : "?";
    }
  }
  return "?";
}

std::string_view describe(TrailerState state) {
  static constexpr std::array<std::string_view, 4> kNames = {"absent", "null", "parsed", "unparsed"};
  return enum_text(state, kNames);
}

std::string_view describe(Retention retention) {
  static constexpr std::array<std::string_view, 3> kNames = {"NEVER_RETAIN_AFTER_TERMINATION", "RETAIN_ON_FAILURE",
                                                             "RETAIN_ON_CANCELLATION"};
  return enum_text(retention, kNames);
}

std::string_view type_name(CheckpointProperties::Kind kind, CheckpointProperties::Action action) {
  static constexpr std::array<std::string_view, 3> kSavepointNames = {"Savepoint", "Suspend Savepoint",
                                                                      "Terminate Savepoint"};
  switch (kind) {
    case Props::Kind::kCheckpoint:
      return "Checkpoint";
    case Props::Kind::kFullCheckpoint:
      return "Full Checkpoint";
    case Props::Kind::kSavepoint:
      return enum_text(action, kSavepointNames);
  }
  return "?";
}

std::string_view format_name(CheckpointProperties::Format format) { return enum_text(format, kFormats); }

std::string_view action_name(CheckpointProperties::Action action) { return enum_text(action, kActions); }

}  // namespace ckpt::flink
