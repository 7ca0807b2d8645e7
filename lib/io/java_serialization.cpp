#include "io/java_serialization.h"

#include <fmt/format.h>

#include <array>

#include "io/byte_reader.h"
#include "io/mutf8.h"

namespace ckpt::io::java {
namespace {

// One pass over the grammar, appending every node to `nodes` (owned by the caller's ObjectTree) and
// every object that takes a handle to handles_, in stream order, so that back references resolve.
class JavaStreamParser {
 public:
  JavaStreamParser(std::string_view bytes, std::deque<Node>& nodes) : r_(bytes), nodes_(nodes) {}

  // The stream's one top-level object (nullptr for TC_NULL); the stream must end right after it.
  const Node* parse() {
    const Node* top = parse_object();
    if (!r_.at_end()) {
      fail(r_.offset(), fmt::format("{} bytes follow the serialized object, expected end of file", r_.remaining()));
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
  [[noreturn]] static void fail(uint64_t at, std::string message) { io::ByteReader::fail(at, std::move(message)); }

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
  std::string_view utf(const char* what) {
    uint16_t len = r_.u16(what);
    return checked_mutf8(r_.bytes(len, what), what);
  }
  std::string_view checked_mutf8(std::string_view s, const char* what) {
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
          fail(at, fmt::format("{} refers to a {}, expected a class descriptor", what, kind_name(*n)));
        }
        if (!n->complete) {
          fail(at, fmt::format("{} refers to class {} while it is still being defined", what, shown(n->text)));
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
      fail(at,
           fmt::format("{} is {}, expected a string", what, n == nullptr ? std::string_view("null") : kind_name(*n)));
    }
    return n;
  }

  const Node* new_string(uint8_t tc, uint64_t at, const char* what) {
    std::string_view text;
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
             fmt::format("class {}: flags 0x{:02X} are both serializable and externalizable", shown(d.text), d.flags));
      }
      bool is_enum = (d.flags & kScEnum) != 0;
      if (is_enum && d.suid != 0) {
        fail(flags_at, fmt::format("enum class {} has serialVersionUID {}, expected 0", shown(d.text), d.suid));
      }
      uint64_t count_at = r_.offset();
      uint16_t count = r_.u16("field count");
      if (count > 0x7FFF) fail(count_at, fmt::format("field count {} is negative", int16_t(count)));
      if (is_enum && count != 0) {
        fail(count_at, fmt::format("enum class {} has {} fields, expected 0", shown(d.text), count));
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
        if (f.signature.empty()) fail(at, fmt::format("field {} has an empty type signature", shown(f.name)));
        break;
      default:
        fail(at, fmt::format("field {} has type code 0x{:02X}, expected one of BCDFIJSZL[", shown(f.name),
                             static_cast<uint8_t>(f.type)));
    }
    return f;
  }

  // classAnnotation / objectAnnotation: block data and objects up to TC_ENDBLOCKDATA.
  // `into`: the object whose annotation this is (its objects are kept in `annotations`), or
  // nullptr for a class annotation.
  void annotation(int depth, Node* into = nullptr) {
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
        default: {
          const Node* n = object_after(tc, at, depth, "annotation");
          if (into != nullptr) into->annotations.push_back(n);
          break;
        }
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
      if (cls.flags & kScWriteMethod) annotation(depth, &o);
    } else if (cls.flags & kScExternalizable) {
      if (!(cls.flags & kScBlockData)) {
        fail(r_.offset(), fmt::format("class {} is externalizable in stream protocol 1, whose data "
                                      "cannot be parsed without the class",
                                      shown(cls.text)));
      }
      annotation(depth, &o);
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
      for (int32_t i = 0; i < len; ++i) a.elements.push_back(object(depth + 1, "array element"));
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
  std::deque<Node>& nodes_;  // deque: nodes are referenced by address
  std::vector<const Node*> handles_;
};

}  // namespace

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

std::string shown(std::string_view s) {
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

ObjectTree parse_stream(std::string_view bytes) {
  ObjectTree tree;
  JavaStreamParser parser(bytes, tree.nodes);
  tree.top = parser.parse();
  tree.length = static_cast<std::size_t>(parser.bytes_read());
  return tree;
}

ObjectTree parse_first_object(std::string_view bytes) {
  ObjectTree tree;
  JavaStreamParser parser(bytes, tree.nodes);
  tree.top = parser.parse_object();
  tree.length = static_cast<std::size_t>(parser.bytes_read());
  return tree;
}

}  // namespace ckpt::io::java
