// io/java_serialization: hand-made streams for each construct the parser reads, and one clear
// error for each kind of bad input.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "io/byte_writer.h"
#include "io/decode_error.h"
#include "io/java_serialization.h"

namespace java = ckpt::io::java;

namespace {

// Builds streams the way ObjectOutputStream writes them; each call appends one grammar piece.
struct JavaStreamBuilder {
  std::string out;
  ckpt::io::ByteWriter w{out};

  JavaStreamBuilder& header() {
    w.u16(java::kStreamMagic);
    w.u16(java::kStreamVersion);
    return *this;
  }
  JavaStreamBuilder& u8(uint8_t v) {
    w.u8(v);
    return *this;
  }
  JavaStreamBuilder& i32(int32_t v) {
    w.i32(v);
    return *this;
  }
  JavaStreamBuilder& i64(int64_t v) {
    w.i64(v);
    return *this;
  }
  JavaStreamBuilder& utf(std::string_view s) {
    w.u16(static_cast<uint16_t>(s.size()));
    w.bytes(s);
    return *this;
  }
  JavaStreamBuilder& string(std::string_view s) {
    w.u8(java::kTcString);
    return utf(s);
  }
  // TC_CLASSDESC name suid flags fieldCount; fields, annotation and superclass follow.
  JavaStreamBuilder& class_desc(std::string_view name, int64_t suid, uint8_t flags, uint16_t fields) {
    w.u8(java::kTcClassDesc);
    utf(name);
    w.i64(suid);
    w.u8(flags);
    w.u16(fields);
    return *this;
  }
  // Empty class annotation, no superclass.
  JavaStreamBuilder& end_class() {
    w.u8(java::kTcEndBlockData);
    w.u8(java::kTcNull);
    return *this;
  }
  JavaStreamBuilder& reference(int32_t handle) {
    w.u8(java::kTcReference);
    w.i32(java::kBaseHandle + handle);
    return *this;
  }
};

// The DecodeError a parse of `bytes` throws (fails the test when none is thrown).
ckpt::io::DecodeError parse_error(const std::string& bytes) {
  try {
    java::parse_stream(bytes);
  } catch (const ckpt::io::DecodeError& e) {
    return e;
  }
  FAIL("no error for a bad stream");
  return ckpt::io::DecodeError(0, "");
}

void check_error(const std::string& bytes, uint64_t offset, std::string_view message_part) {
  ckpt::io::DecodeError e = parse_error(bytes);
  CAPTURE(e.message());
  CHECK(e.offset() == offset);
  CHECK(e.message().find(message_part) != std::string::npos);
}

}  // namespace

TEST_CASE("java serialization: TC_NULL as the top-level object") {
  JavaStreamBuilder b;
  b.header().u8(java::kTcNull);
  java::ObjectTree t = java::parse_stream(b.out);
  CHECK(t.top == nullptr);
  CHECK(t.length == 5);
}

TEST_CASE("java serialization: strings, short and long") {
  JavaStreamBuilder b;
  b.header().string("hello");
  java::ObjectTree t = java::parse_stream(b.out);
  REQUIRE(t.top != nullptr);
  CHECK(t.top->kind == java::Node::Kind::kString);
  CHECK(t.top->text == "hello");
  CHECK(java::what_is(*t.top) == "string \"hello\"");

  JavaStreamBuilder l;
  l.header().u8(java::kTcLongString).i64(3);
  l.w.bytes("abc");
  java::ObjectTree lt = java::parse_stream(l.out);
  REQUIRE(lt.top != nullptr);
  CHECK(lt.top->text == "abc");
}

TEST_CASE("java serialization: an object with primitive and reference fields, a superclass and a back reference") {
  JavaStreamBuilder b;
  b.header().u8(java::kTcObject);
  b.class_desc("Child", 7, java::kScSerializable, 3);  // handle 0
  b.u8('I').utf("count");
  b.u8('Z').utf("flag");
  b.u8('L').utf("name").string("Ljava/lang/String;");  // handle 1
  b.u8(java::kTcEndBlockData);
  b.class_desc("Base", 1, java::kScSerializable, 1);  // handle 2
  b.u8('J').utf("id");
  b.end_class();
  // handle 3: the object; its data, superclass first.
  b.i64(42);      // Base.id
  b.i32(-5);      // Child.count
  b.u8(1);        // Child.flag
  b.string("x");  // Child.name, handle 4
  java::ObjectTree t = java::parse_stream(b.out);
  REQUIRE(t.top != nullptr);
  const java::Node& o = *t.top;
  CHECK(o.kind == java::Node::Kind::kObject);
  REQUIRE(o.desc != nullptr);
  CHECK(o.desc->text == "Child");
  CHECK(o.desc->suid == 7);
  REQUIRE(o.desc->desc != nullptr);
  CHECK(o.desc->desc->text == "Base");
  CHECK(o.desc->hierarchy == 2);
  REQUIRE(o.values.size() == 4);
  CHECK(o.values[0].field->name == "id");
  CHECK(o.values[0].primitive == 42);
  CHECK(o.values[1].primitive == -5);
  CHECK(o.values[2].primitive == 1);
  REQUIRE(o.values[3].object != nullptr);
  CHECK(o.values[3].object->text == "x");
  CHECK(o.values[3].field->signature == "Ljava/lang/String;");
  CHECK(java::what_is(o) == "object of class Child");
  CHECK(t.length == b.out.size());
}

TEST_CASE("java serialization: a field value referring back to the object itself") {
  JavaStreamBuilder b;
  b.header().u8(java::kTcObject);
  b.class_desc("Node", 1, java::kScSerializable, 1);  // handle 0
  b.u8('L').utf("self").string("LNode;");             // handle 1
  b.end_class();
  b.reference(2);  // handle 2 is the object
  java::ObjectTree t = java::parse_stream(b.out);
  REQUIRE(t.top != nullptr);
  CHECK(t.top->values.at(0).object == t.top);
}

TEST_CASE("java serialization: enum constants, with a shared java.lang.Enum descriptor") {
  JavaStreamBuilder b;
  b.header().u8(java::kTcEnum);
  b.class_desc("Color", 0, java::kScSerializable | java::kScEnum, 0);  // handle 0
  b.u8(java::kTcEndBlockData);
  b.class_desc("java.lang.Enum", 0, java::kScSerializable | java::kScEnum, 0);  // handle 1
  b.end_class();
  b.string("RED");  // handle 3 (2 is the constant)
  java::ObjectTree t = java::parse_stream(b.out);
  REQUIRE(t.top != nullptr);
  CHECK(t.top->kind == java::Node::Kind::kEnum);
  CHECK(t.top->text == "RED");
  CHECK(t.top->desc->text == "Color");
  CHECK(java::kind_name(*t.top) == "enum constant");
}

TEST_CASE("java serialization: arrays of primitives and of objects") {
  JavaStreamBuilder b;
  b.header().u8(java::kTcArray);
  b.class_desc("[I", 1, java::kScSerializable, 0).end_class();
  b.i32(3).i32(1).i32(2).i32(3);
  java::ObjectTree t = java::parse_stream(b.out);
  REQUIRE(t.top != nullptr);
  CHECK(t.top->kind == java::Node::Kind::kArray);

  JavaStreamBuilder o;
  o.header().u8(java::kTcArray);
  o.class_desc("[Ljava.lang.String;", 1, java::kScSerializable, 0).end_class();  // handle 0
  o.i32(2).string("a").reference(2);                                             // the array is handle 1, "a" handle 2
  java::ObjectTree ot = java::parse_stream(o.out);
  REQUIRE(ot.top != nullptr);
  CHECK(ot.length == o.out.size());
}

TEST_CASE("java serialization: class objects, proxy descriptors, block data in annotations") {
  JavaStreamBuilder c;
  c.header().u8(java::kTcClass);
  c.class_desc("Foo", 1, java::kScSerializable, 0).end_class();
  java::ObjectTree ct = java::parse_stream(c.out);
  REQUIRE(ct.top != nullptr);
  CHECK(ct.top->kind == java::Node::Kind::kClass);

  JavaStreamBuilder p;
  p.header().u8(java::kTcObject).u8(java::kTcProxyClassDesc);
  p.i32(1).utf("java.lang.Runnable");
  p.u8(java::kTcEndBlockData).u8(java::kTcNull);
  java::ObjectTree pt = java::parse_stream(p.out);
  REQUIRE(pt.top != nullptr);
  CHECK(pt.top->desc->text == "(proxy)");

  // writeObject data: a short and a long block, then an object, in the object annotation.
  JavaStreamBuilder w;
  w.header().u8(java::kTcObject);
  w.class_desc("Custom", 1, java::kScSerializable | java::kScWriteMethod, 0).end_class();
  w.u8(java::kTcBlockData).u8(2).u8(0xAA).u8(0xBB);
  w.u8(java::kTcBlockDataLong).i32(1).u8(0xCC);
  w.string("in annotation");
  w.u8(java::kTcEndBlockData);
  java::ObjectTree wt = java::parse_stream(w.out);
  CHECK(wt.length == w.out.size());
}

TEST_CASE("java serialization: parse_first_object stops after the object, parse_stream refuses what follows") {
  JavaStreamBuilder b;
  b.header().string("a");
  const std::size_t object_end = b.out.size();
  b.out += "tail";
  CHECK(java::parse_first_object(b.out).length == object_end);
  check_error(b.out, object_end, "4 bytes follow the serialized object");
}

TEST_CASE("java serialization: truncation anywhere is one error at the end of the bytes") {
  JavaStreamBuilder b;
  b.header().u8(java::kTcObject);
  b.class_desc("Foo", 1, java::kScSerializable, 1);
  b.u8('J').utf("id");
  b.end_class();
  b.i64(1);
  REQUIRE(java::parse_stream(b.out).top != nullptr);
  for (std::size_t n = 0; n < b.out.size(); ++n) {
    CAPTURE(n);
    ckpt::io::DecodeError e = parse_error(b.out.substr(0, n));
    // Cut inside a piece: "truncated: ..."; cut before the fields a count announces: "... remain".
    CHECK((e.message().find("truncated") != std::string::npos || e.message().find("remain") != std::string::npos));
    CHECK(e.offset() <= n);
  }
}

TEST_CASE("java serialization: bad headers") {
  check_error(std::string("\xAC\xEE\x00\x05\x70", 5), 0, "magic is 0xACEE, expected 0xACED");
  check_error(std::string("\xAC\xED\x00\x04\x70", 5), 2, "version is 4, expected 5");
  check_error(std::string("\xAC\xED\x00\x05\x77\x00", 6), 4, "starts with block data");
}

TEST_CASE("java serialization: unknown and unsupported type codes") {
  JavaStreamBuilder unknown;
  unknown.header().u8(0x42);
  check_error(unknown.out, 4, "type code 0x42, expected an object (0x70-0x7E)");

  JavaStreamBuilder reset;
  reset.header().u8(java::kTcReset);
  check_error(reset.out, 4, "TC_RESET) is not supported");

  JavaStreamBuilder exception;
  exception.header().u8(java::kTcException);
  check_error(exception.out, 4, "TC_EXCEPTION) is not supported");

  JavaStreamBuilder field;
  field.header().u8(java::kTcObject).class_desc("Foo", 1, java::kScSerializable, 1);
  const std::size_t field_at = field.out.size();
  field.u8('Q').utf("x");
  check_error(field.out, field_at, "field x has type code 0x51, expected one of BCDFIJSZL[");
}

TEST_CASE("java serialization: absurd lengths and counts are refused before any allocation") {
  JavaStreamBuilder long_string;
  long_string.header().u8(java::kTcLongString).i64(INT64_C(1) << 40);
  check_error(long_string.out, 13, "truncated");

  JavaStreamBuilder negative_string;
  negative_string.header().u8(java::kTcLongString).i64(-1);
  check_error(negative_string.out, 4, "long string length -1, expected >= 0");

  JavaStreamBuilder fields;
  fields.header().u8(java::kTcObject).class_desc("Foo", 1, java::kScSerializable, 0x7000);
  check_error(fields.out, fields.out.size() - 2, "field count is 28672 but only 0 bytes remain");

  JavaStreamBuilder array;
  array.header().u8(java::kTcArray).class_desc("[J", 1, java::kScSerializable, 0).end_class();
  const std::size_t len_at = array.out.size();
  array.i32(0x10000000);
  check_error(array.out, len_at, "array length is 268435456 but only 0 bytes remain");

  JavaStreamBuilder negative_array;
  negative_array.header().u8(java::kTcArray).class_desc("[J", 1, java::kScSerializable, 0).end_class();
  const std::size_t neg_at = negative_array.out.size();
  negative_array.i32(-1);
  check_error(negative_array.out, neg_at, "array length -1, expected >= 0");

  JavaStreamBuilder block;
  block.header().u8(java::kTcObject);
  block.class_desc("Custom", 1, java::kScSerializable | java::kScWriteMethod, 0).end_class();
  const std::size_t block_at = block.out.size();
  block.u8(java::kTcBlockDataLong).i32(-2);
  check_error(block.out, block_at, "block data length -2, expected >= 0");
}

TEST_CASE("java serialization: references to handles that do not exist, or to the wrong kind") {
  JavaStreamBuilder dangling;
  dangling.header().reference(0);
  check_error(dangling.out, 4, "reference to handle 0x7E0000, but only 0 handles exist");

  // A string where a class descriptor is expected.
  JavaStreamBuilder wrong;
  wrong.header().u8(java::kTcArray).class_desc("[Ljava.lang.Object;", 1, java::kScSerializable, 0).end_class();
  wrong.i32(2).string("s");
  const std::size_t ref_at = wrong.out.size();
  wrong.u8(java::kTcObject).reference(2);
  check_error(wrong.out, ref_at + 1, "refers to a string, expected a class descriptor");

  // A class that names itself as its superclass while being defined.
  JavaStreamBuilder cycle;
  cycle.header().u8(java::kTcObject).class_desc("Loop", 1, java::kScSerializable, 0);
  cycle.u8(java::kTcEndBlockData);
  const std::size_t super_at = cycle.out.size();
  cycle.reference(0);
  check_error(cycle.out, super_at, "refers to class Loop while it is still being defined");
}

TEST_CASE("java serialization: nesting and class chains beyond the limits") {
  // Arrays of arrays, each holding the next: one level deeper per array.
  JavaStreamBuilder deep;
  deep.header();
  for (int i = 0; i <= java::kMaxDepth; ++i) {
    deep.u8(java::kTcArray);
    if (i == 0) {
      deep.class_desc("[Ljava.lang.Object;", 1, java::kScSerializable, 0).end_class();
    } else {
      deep.reference(0);
    }
    deep.i32(1);
  }
  deep.u8(java::kTcNull);
  ckpt::io::DecodeError e = parse_error(deep.out);
  CHECK(e.message().find("nested more than 64 levels deep") != std::string::npos);

  // A chain of superclasses longer than kMaxHierarchy (each descriptor's superclass follows it).
  JavaStreamBuilder chain;
  chain.header().u8(java::kTcObject);
  for (int i = 0; i <= java::kMaxHierarchy; ++i) {
    std::string name = "C";
    name += std::to_string(i);
    chain.class_desc(name, 1, java::kScSerializable, 0).u8(java::kTcEndBlockData);
  }
  chain.u8(java::kTcNull);
  ckpt::io::DecodeError c = parse_error(chain.out);
  CHECK((c.message().find("superclasses") != std::string::npos ||
         c.message().find("nested more than") != std::string::npos));
}

TEST_CASE("java serialization: invalid modified UTF-8 in a name, and shown() escapes what it prints") {
  JavaStreamBuilder b;
  b.header().u8(java::kTcObject);
  const std::size_t name_at = b.out.size() + 3;  // the name's first byte: after TC_CLASSDESC and its u16 length
  b.class_desc(std::string_view("\xC0", 1), 1, java::kScSerializable, 0).end_class();
  check_error(b.out, name_at, "class name is not valid modified UTF-8");

  CHECK(java::shown(std::string_view("a\\b\x01", 4)) == "a\\x5cb\\x01");
  CHECK(java::shown(std::string(150, 'x')) == std::string(100, 'x') + "...");
}
