#include "flink/checkpoint_properties.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <utility>
#include <vector>

#include "io/byte_reader.h"
#include "io/byte_writer.h"
#include "io/decode_error.h"
#include "io/mutf8.h"

namespace ckpt::flink {
namespace {

using Props = CheckpointProperties;

// ---------------------------------------------------------------------------------------------
// Java Object Serialization constants (java.io.ObjectStreamConstants).

constexpr uint16_t kStreamMagic = 0xACED;
constexpr uint16_t kStreamVersion = 5;
constexpr int32_t kBaseHandle = 0x7E0000;

constexpr uint8_t kTcNull = 0x70, kTcReference = 0x71, kTcClassDesc = 0x72, kTcObject = 0x73,
                  kTcString = 0x74, kTcArray = 0x75, kTcClass = 0x76, kTcBlockData = 0x77,
                  kTcEndBlockData = 0x78, kTcReset = 0x79, kTcBlockDataLong = 0x7A,
                  kTcException = 0x7B, kTcLongString = 0x7C, kTcProxyClassDesc = 0x7D,
                  kTcEnum = 0x7E;

constexpr uint8_t kScWriteMethod = 0x01, kScSerializable = 0x02, kScExternalizable = 0x04,
                  kScBlockData = 0x08, kScEnum = 0x10;

// Real streams nest a handful of levels; the limits only stop hostile input from exhausting the
// stack (nesting) or from making every object walk a long class chain (quadratic time).
constexpr int kMaxDepth = 64;
constexpr int kMaxHierarchy = 64;

// ---------------------------------------------------------------------------------------------
// The classes of the trailer (spec §10.1). Shared by the shape matcher and the encoder so that
// what is accepted and what is written cannot drift apart.

constexpr std::string_view kPropsClass = "org.apache.flink.runtime.checkpoint.CheckpointProperties";
constexpr std::string_view kCheckpointTypeClass =
    "org.apache.flink.runtime.checkpoint.CheckpointType";
constexpr std::string_view kSavepointTypeClass =
    "org.apache.flink.runtime.checkpoint.SavepointType";
constexpr std::string_view kSharingClass =
    "org.apache.flink.runtime.checkpoint.SnapshotType$SharingFilesStrategy";
constexpr std::string_view kFormatClass = "org.apache.flink.core.execution.SavepointFormatType";
constexpr std::string_view kActionClass =
    "org.apache.flink.runtime.checkpoint.SavepointType$PostCheckpointAction";
constexpr std::string_view kEnumClass = "java.lang.Enum";

constexpr std::string_view kSnapshotTypeSig = "Lorg/apache/flink/runtime/checkpoint/SnapshotType;";
constexpr std::string_view kStringSig = "Ljava/lang/String;";
constexpr std::string_view kSharingSig =
    "Lorg/apache/flink/runtime/checkpoint/SnapshotType$SharingFilesStrategy;";
constexpr std::string_view kFormatSig = "Lorg/apache/flink/core/execution/SavepointFormatType;";
constexpr std::string_view kActionSig =
    "Lorg/apache/flink/runtime/checkpoint/SavepointType$PostCheckpointAction;";

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

constexpr std::array<std::string_view, 3> kStrategies = {"FORWARD_BACKWARD", "FORWARD",
                                                         "NO_SHARING"};
constexpr std::array<std::string_view, 2> kFormats = {"CANONICAL", "NATIVE"};
constexpr std::array<std::string_view, 3> kActions = {"NONE", "SUSPEND", "TERMINATE"};

template <std::size_t N>
std::optional<std::size_t> index_of(const std::array<std::string_view, N>& names, Bytes s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return i;
  }
  return std::nullopt;
}

// Names from the stream in messages: arbitrary bytes, so escaped and capped.
std::string shown(Bytes s) {
  constexpr std::size_t kMax = 100;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Generic parser. It builds a small tree of the stream's objects, which the shape matcher below
// inspects; strings are views into the trailer.

struct Node;

struct Field {
  char type = 0;  // JVM type code: B C D F I J S Z, or L / [ for references
  Bytes name;
  Bytes signature;  // L and [ only, e.g. "Ljava/lang/String;"
};

struct Value {
  const Field* field = nullptr;  // points into the class descriptor's `fields`
  int64_t primitive = 0;         // primitive fields: the raw big-endian value
  const Node* object = nullptr;  // reference fields; nullptr = null
};

struct Node {
  enum class Kind { kString, kClassDesc, kObject, kEnum, kArray, kClass };
  Kind kind = Kind::kString;
  // A descriptor may be referenced (as a descriptor) only once it is complete: that keeps
  // class chains acyclic and the field list stable while objects point into it.
  bool complete = false;
  Bytes text;                  // string: the value; class desc: class name; enum: constant name
  const Node* desc = nullptr;  // object, enum, array, class: its class; class desc: superclass
  int64_t suid = 0;
  uint8_t flags = 0;
  int hierarchy = 1;          // class desc: classes in the chain up to the root
  std::vector<Field> fields;  // class desc
  std::vector<Value> values;  // object: field values, superclass fields first
};

std::string_view kind_name(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kString:
      return "string";
    case Node::Kind::kClassDesc:
      return "class descriptor";
    case Node::Kind::kObject:
      return "object";
    case Node::Kind::kEnum:
      return "enum constant";
    case Node::Kind::kArray:
      return "array";
    case Node::Kind::kClass:
      return "class";
  }
  return "?";
}

// "string \"abc\"", "class descriptor of Foo", "enum constant of class Bar", ...
std::string what_is(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kString:
      return fmt::format("string \"{}\"", shown(n.text));
    case Node::Kind::kClassDesc:
      return fmt::format("class descriptor of {}", shown(n.text));
    default:
      return fmt::format("{} of class {}", kind_name(n), shown(n.desc->text));
  }
}

class StreamParser {
 public:
  explicit StreamParser(Bytes bytes) : r_(bytes) {}

  // The stream's one top-level object (nullptr for TC_NULL); the stream must end right after it.
  const Node* parse() {
    const Node* top = parse_object();
    if (!r_.at_end()) {
      fail(r_.offset(), fmt::format("{} bytes follow the serialized object, expected end of file",
                                    r_.remaining()));
    }
    return top;
  }

  // Reads the stream header and its one top-level object, as ObjectInputStream.readObject does,
  // and stops there; bytes_read() then says where the object ended.
  const Node* parse_object() {
    uint64_t at = r_.offset();
    if (uint16_t magic = r_.u16("stream magic"); magic != kStreamMagic) {
      fail(at, fmt::format("Java serialization magic is 0x{:04X}, expected 0xACED", magic));
    }
    at = r_.offset();
    if (uint16_t version = r_.u16("stream version"); version != kStreamVersion) {
      fail(at, fmt::format("Java serialization version is {}, expected 5", version));
    }
    at = r_.offset();
    uint8_t tc = r_.u8("top-level object");
    if (tc == kTcBlockData || tc == kTcBlockDataLong) {
      fail(at, "the stream starts with block data, expected one object");
    }
    return object_after(tc, at, 0, "top-level object");
  }

  uint64_t bytes_read() const { return r_.offset(); }

 private:
  [[noreturn]] static void fail(uint64_t at, std::string message) {
    io::ByteReader::fail(at, std::move(message));
  }

  static void check_depth(uint64_t at, int depth) {
    if (depth > kMaxDepth) {
      fail(at, fmt::format("objects nested more than {} levels deep", kMaxDepth));
    }
  }

  Node& add(Node::Kind kind) {
    Node& n = nodes_.emplace_back();
    n.kind = kind;
    return n;
  }
  void assign_handle(const Node& n) { handles_.push_back(&n); }

  // Modified UTF-8 with a u16 length (class and field names).
  Bytes utf(const char* what) {
    uint16_t len = r_.u16(what);
    return checked_mutf8(r_.bytes(len, what), what);
  }
  Bytes checked_mutf8(Bytes s, const char* what) {
    if (auto problem = io::check_mutf8(s)) {
      uint64_t at = r_.offset() - s.size() + problem->offset;
      fail(at, fmt::format("{} is not valid modified UTF-8: {}", what, problem->message));
    }
    return s;
  }

  const Node* reference(uint64_t at) {
    int32_t handle = r_.i32("handle");
    int64_t index = int64_t{handle} - kBaseHandle;
    if (index < 0 || index >= static_cast<int64_t>(handles_.size())) {
      fail(at, fmt::format("reference to handle 0x{:X}, but only {} handles exist (from 0x{:X})",
                           static_cast<uint32_t>(handle), handles_.size(), kBaseHandle));
    }
    return handles_[static_cast<std::size_t>(index)];
  }

  // object := newObject | newClass | newArray | newString | newEnum | newClassDesc | prevObject
  //           | nullReference, after its type code `tc` (read at `at`) was consumed.
  const Node* object_after(uint8_t tc, uint64_t at, int depth, const char* what) {
    check_depth(at, depth);
    switch (tc) {
      case kTcNull:
        return nullptr;
      case kTcReference:
        return reference(at);
      case kTcClassDesc:
      case kTcProxyClassDesc:
        return new_class_desc(tc, at, depth);
      case kTcObject:
        return new_object(at, depth);
      case kTcString:
      case kTcLongString:
        return new_string(tc, at, what);
      case kTcArray:
        return new_array(at, depth);
      case kTcClass:
        return new_class(at, depth);
      case kTcEnum:
        return new_enum(at, depth);
      case kTcReset:
      case kTcException:
        fail(at, fmt::format("{}: type code 0x{:02X} (TC_{}) is not supported", what, tc,
                             tc == kTcReset ? "RESET" : "EXCEPTION"));
      default:
        fail(at, fmt::format("{}: type code 0x{:02X}, expected an object (0x70-0x7E)", what, tc));
    }
  }

  const Node* object(int depth, const char* what) {
    uint64_t at = r_.offset();
    uint8_t tc = r_.u8(what);
    return object_after(tc, at, depth, what);
  }

  // classDesc := newClassDesc | nullReference | (ClassDesc)prevObject
  const Node* class_desc(int depth, const char* what) {
    uint64_t at = r_.offset();
    uint8_t tc = r_.u8(what);
    check_depth(at, depth);
    switch (tc) {
      case kTcNull:
        return nullptr;
      case kTcClassDesc:
      case kTcProxyClassDesc:
        return new_class_desc(tc, at, depth);
      case kTcReference: {
        const Node* n = reference(at);
        if (n->kind != Node::Kind::kClassDesc) {
          fail(at,
               fmt::format("{} refers to a {}, expected a class descriptor", what, kind_name(*n)));
        }
        if (!n->complete) {
          fail(at, fmt::format("{} refers to class {} while it is still being defined", what,
                               shown(n->text)));
        }
        return n;
      }
      default:
        fail(at, fmt::format("{}: type code 0x{:02X}, expected a class descriptor", what, tc));
    }
  }

  // A (String)object: the signature of a reference field or an enum constant's name.
  const Node* string_object(int depth, const char* what) {
    uint64_t at = r_.offset();
    const Node* n = object(depth, what);
    if (n == nullptr || n->kind != Node::Kind::kString) {
      fail(at, fmt::format("{} is {}, expected a string", what,
                           n == nullptr ? std::string_view("null") : kind_name(*n)));
    }
    return n;
  }

  const Node* new_string(uint8_t tc, uint64_t at, const char* what) {
    Bytes text;
    if (tc == kTcString) {
      text = r_.bytes(r_.u16(what), what);
    } else {
      int64_t len = r_.i64(what);
      if (len < 0) fail(at, fmt::format("{}: long string length {}, expected >= 0", what, len));
      text = r_.bytes(static_cast<uint64_t>(len), what);
    }
    Node& n = add(Node::Kind::kString);
    n.text = checked_mutf8(text, what);
    n.complete = true;
    assign_handle(n);
    return &n;
  }

  const Node* new_class_desc(uint8_t tc, uint64_t at, int depth) {
    Node& d = add(Node::Kind::kClassDesc);
    if (tc == kTcClassDesc) {
      d.text = utf("class name");
      d.suid = r_.i64("serialVersionUID");
      assign_handle(d);
      uint64_t flags_at = r_.offset();
      d.flags = r_.u8("class descriptor flags");
      if ((d.flags & kScSerializable) && (d.flags & kScExternalizable)) {
        fail(flags_at,
             fmt::format("class {}: flags 0x{:02X} are both serializable and externalizable",
                         shown(d.text), d.flags));
      }
      bool is_enum = (d.flags & kScEnum) != 0;
      if (is_enum && d.suid != 0) {
        fail(flags_at, fmt::format("enum class {} has serialVersionUID {}, expected 0",
                                   shown(d.text), d.suid));
      }
      uint64_t count_at = r_.offset();
      uint16_t count = r_.u16("field count");
      if (count > 0x7FFF) fail(count_at, fmt::format("field count {} is negative", int16_t(count)));
      if (is_enum && count != 0) {
        fail(count_at,
             fmt::format("enum class {} has {} fields, expected 0", shown(d.text), count));
      }
      r_.check_fits(count_at, count, 3, "field count");  // type code + empty name at least
      d.fields.reserve(count);
      for (uint16_t i = 0; i < count; ++i) d.fields.push_back(field(depth));
    } else {
      // A dynamic proxy: serializable, no fields of its own (the handler lives in its superclass).
      assign_handle(d);
      d.text = "(proxy)";
      d.flags = kScSerializable;
      int32_t count = r_.count("proxy interface count", 2);
      for (int32_t i = 0; i < count; ++i) utf("proxy interface name");
    }
    annotation(depth + 1);
    d.desc = class_desc(depth + 1, "superclass descriptor");
    d.hierarchy = d.desc ? d.desc->hierarchy + 1 : 1;
    if (d.hierarchy > kMaxHierarchy) {
      fail(at, fmt::format("class {} has more than {} superclasses", shown(d.text), kMaxHierarchy));
    }
    d.complete = true;
    return &d;
  }

  Field field(int depth) {
    uint64_t at = r_.offset();
    Field f;
    f.type = static_cast<char>(r_.u8("field type code"));
    f.name = utf("field name");
    switch (f.type) {
      case 'B':
      case 'C':
      case 'D':
      case 'F':
      case 'I':
      case 'J':
      case 'S':
      case 'Z':
        break;
      case 'L':
      case '[':
        f.signature = string_object(depth + 1, "field type signature")->text;
        if (f.signature.empty())
          fail(at, fmt::format("field {} has an empty type signature", shown(f.name)));
        break;
      default:
        fail(at, fmt::format("field {} has type code 0x{:02X}, expected one of BCDFIJSZL[",
                             shown(f.name), static_cast<uint8_t>(f.type)));
    }
    return f;
  }

  // classAnnotation / objectAnnotation: block data and objects up to TC_ENDBLOCKDATA.
  void annotation(int depth) {
    for (;;) {
      uint64_t at = r_.offset();
      uint8_t tc = r_.u8("annotation");
      switch (tc) {
        case kTcEndBlockData:
          return;
        case kTcBlockData:
          r_.bytes(r_.u8("block data length"), "block data");
          break;
        case kTcBlockDataLong: {
          int32_t len = r_.i32("block data length");
          if (len < 0) fail(at, fmt::format("block data length {}, expected >= 0", len));
          r_.bytes(static_cast<uint64_t>(len), "block data");
          break;
        }
        default:
          object_after(tc, at, depth, "annotation");
          break;
      }
    }
  }

  const Node* required_class(int depth, uint64_t at, const char* what) {
    const Node* desc = class_desc(depth + 1, what);
    if (desc == nullptr) fail(at, fmt::format("{} is null", what));
    return desc;
  }

  const Node* new_object(uint64_t at, int depth) {
    const Node* desc = required_class(depth, at, "class descriptor of object");
    Node& o = add(Node::Kind::kObject);
    o.desc = desc;
    assign_handle(o);
    std::array<const Node*, kMaxHierarchy> chain{};
    std::size_t n = 0;
    for (const Node* c = desc; c != nullptr; c = c->desc) chain[n++] = c;
    while (n > 0) class_data(o, *chain[--n], depth + 1);
    o.complete = true;
    return &o;
  }

  void class_data(Node& o, const Node& cls, int depth) {
    if (cls.flags & kScSerializable) {
      for (const Field& f : cls.fields) o.values.push_back(value(f, depth));
      if (cls.flags & kScWriteMethod) annotation(depth);
    } else if (cls.flags & kScExternalizable) {
      if (!(cls.flags & kScBlockData)) {
        fail(r_.offset(), fmt::format("class {} is externalizable in stream protocol 1, whose data "
                                      "cannot be parsed without the class",
                                      shown(cls.text)));
      }
      annotation(depth);
    }
  }

  Value value(const Field& f, int depth) {
    Value v;
    v.field = &f;
    switch (f.type) {
      case 'B':
        v.primitive = r_.i8("byte field");
        break;
      case 'Z':
        v.primitive = r_.u8("boolean field");
        break;
      case 'C':
        v.primitive = r_.u16("char field");
        break;
      case 'S':
        v.primitive = static_cast<int16_t>(r_.u16("short field"));
        break;
      case 'I':
        v.primitive = r_.i32("int field");
        break;
      case 'F':
        v.primitive = r_.i32("float field");
        break;
      case 'J':
        v.primitive = r_.i64("long field");
        break;
      case 'D':
        v.primitive = r_.i64("double field");
        break;
      default:
        v.object = object(depth, "field value");
        break;
    }
    return v;
  }

  const Node* new_array(uint64_t at, int depth) {
    const Node* desc = required_class(depth, at, "class descriptor of array");
    Node& a = add(Node::Kind::kArray);
    a.desc = desc;
    assign_handle(a);
    uint64_t len_at = r_.offset();
    int32_t len = r_.i32("array length");
    if (len < 0) fail(len_at, fmt::format("array length {}, expected >= 0", len));
    char element = desc->text.size() >= 2 && desc->text[0] == '[' ? desc->text[1] : '\0';
    std::size_t size = 0;
    switch (element) {
      case 'B':
      case 'Z':
        size = 1;
        break;
      case 'C':
      case 'S':
        size = 2;
        break;
      case 'I':
      case 'F':
        size = 4;
        break;
      case 'J':
      case 'D':
        size = 8;
        break;
      case 'L':
      case '[':
        break;
      default:
        fail(at, fmt::format("array class {} is not an array type", shown(desc->text)));
    }
    if (size != 0) {
      r_.check_fits(len_at, static_cast<uint64_t>(len), size, "array length");
      r_.bytes(static_cast<uint64_t>(len) * size, "array elements");
    } else {
      r_.check_fits(len_at, static_cast<uint64_t>(len), 1, "array length");
      for (int32_t i = 0; i < len; ++i) object(depth + 1, "array element");
    }
    a.complete = true;
    return &a;
  }

  const Node* new_class(uint64_t at, int depth) {
    const Node* desc = required_class(depth, at, "class descriptor of class");
    Node& c = add(Node::Kind::kClass);
    c.desc = desc;
    c.complete = true;
    assign_handle(c);
    return &c;
  }

  const Node* new_enum(uint64_t at, int depth) {
    const Node* desc = required_class(depth, at, "class descriptor of enum");
    if (!(desc->flags & kScEnum)) {
      fail(at, fmt::format("enum constant of class {}, which is not an enum", shown(desc->text)));
    }
    Node& e = add(Node::Kind::kEnum);
    e.desc = desc;
    assign_handle(e);
    e.text = string_object(depth + 1, "enum constant name")->text;
    e.complete = true;
    return &e;
  }

  io::ByteReader r_;
  std::deque<Node> nodes_;  // deque: nodes are referenced by address
  std::vector<const Node*> handles_;
};

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
      return is_object_of(t, kSavepointTypeClass, kSavepointTypeSuid, "checkpointType") &&
             savepoint_type(*t, p);
    }
    return is_object_of(t, kCheckpointTypeClass, kCheckpointTypeSuid, "checkpointType") &&
           checkpoint_type(*t, p);
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
    if (n == nullptr)
      return mismatch(fmt::format("{} holds null, expected a {} object", what, cls));
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
    mismatch(fmt::format("class {} has no {} field {}", shown(obj.desc->text),
                         type == 'Z' ? "boolean" : "object", name));
    return nullptr;
  }

  bool string_field(const Node& obj, std::string_view name, Bytes& out) {
    const Value* v = field(obj, name, 'L');
    if (v == nullptr) return false;
    if (v->object == nullptr || v->object->kind != Node::Kind::kString) {
      return mismatch(
          fmt::format("field {} of class {} is not a string", name, shown(obj.desc->text)));
    }
    out = v->object->text;
    return true;
  }

  template <std::size_t N>
  std::optional<std::size_t> enum_field(const Node& obj, std::string_view name,
                                        std::string_view cls,
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
    throw std::invalid_argument("unknown sharing strategy \"" + shown(props.sharing_strategy) +
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

std::size_t properties_stream_length(Bytes bytes) {
  StreamParser parser(bytes);
  parser.parse_object();
  return static_cast<std::size_t>(parser.bytes_read());
}

TrailerState parse_properties_trailer(Bytes trailer, CheckpointProperties& out,
                                      std::string* detail) {
  if (detail) detail->clear();
  StreamParser parser(trailer);
  const Node* top = parser.parse();
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
    throw std::invalid_argument("checkpoint properties hold an out-of-range enum value");
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

CheckpointProperties savepoint_properties(CheckpointProperties::Format format,
                                          CheckpointProperties::Action action, bool forced) {
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
  for (Retention r :
       {Retention::kNeverRetain, Retention::kRetainOnFailure, Retention::kRetainOnCancellation}) {
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
  static constexpr std::array<std::string_view, 4> kNames = {"absent", "null", "parsed",
                                                             "unparsed"};
  return enum_text(state, kNames);
}

std::string_view describe(Retention retention) {
  static constexpr std::array<std::string_view, 3> kNames = {
      "NEVER_RETAIN_AFTER_TERMINATION", "RETAIN_ON_FAILURE", "RETAIN_ON_CANCELLATION"};
  return enum_text(retention, kNames);
}

std::string_view type_name(CheckpointProperties::Kind kind, CheckpointProperties::Action action) {
  static constexpr std::array<std::string_view, 3> kSavepointNames = {
      "Savepoint", "Suspend Savepoint", "Terminate Savepoint"};
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

std::string_view format_name(CheckpointProperties::Format format) {
  return enum_text(format, kFormats);
}

std::string_view action_name(CheckpointProperties::Action action) {
  return enum_text(action, kActions);
}

}  // namespace ckpt::flink
