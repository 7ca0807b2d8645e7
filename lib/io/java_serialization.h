// Java Object Serialization (java.io.ObjectOutputStream, stream protocol 2): a parser of the
// grammar into a small tree of the stream's objects, and the constants a writer needs.
//
// Generic: it knows no class. flink/checkpoint_properties maps the tree of a `_metadata` trailer
// to CheckpointProperties; it needs the parser because the trailer is not length-prefixed and only
// the grammar tells where the object ends.
//
// The parser understands the whole grammar except TC_RESET, TC_EXCEPTION and old-protocol
// (protocol 1) externalizable data, which it rejects as unsupported. It is safe on arbitrary
// bytes: nesting and class hierarchies are capped at 64, every handle and tree node costs at least
// one input byte, and no allocation is sized by a length not first checked against the bytes that
// remain. Every error is an io::DecodeError whose offset is relative to the first stream byte.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::io::java {

// java.io.ObjectStreamConstants.
inline constexpr uint16_t kStreamMagic = 0xACED;
inline constexpr uint16_t kStreamVersion = 5;
inline constexpr int32_t kBaseHandle = 0x7E0000;

inline constexpr uint8_t kTcNull = 0x70, kTcReference = 0x71, kTcClassDesc = 0x72, kTcObject = 0x73, kTcString = 0x74,
                         kTcArray = 0x75, kTcClass = 0x76, kTcBlockData = 0x77, kTcEndBlockData = 0x78, kTcReset = 0x79,
                         kTcBlockDataLong = 0x7A, kTcException = 0x7B, kTcLongString = 0x7C, kTcProxyClassDesc = 0x7D,
                         kTcEnum = 0x7E;

inline constexpr uint8_t kScWriteMethod = 0x01, kScSerializable = 0x02, kScExternalizable = 0x04, kScBlockData = 0x08,
                         kScEnum = 0x10;

// Limits of the parser. Real streams nest a handful of levels; the limits only stop hostile input
// from exhausting the stack (nesting) or from making every object walk a long class chain
// (quadratic time).
inline constexpr int kMaxDepth = 64;
inline constexpr int kMaxHierarchy = 64;

// ---------------------------------------------------------------------------------------------
// The tree. Strings are views into the parsed bytes, which must outlive it.

struct Node;

struct Field {
  char type = 0;  // JVM type code: B C D F I J S Z, or L / [ for references
  std::string_view name;
  std::string_view signature;  // L and [ only, e.g. "Ljava/lang/String;"
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
  std::string_view text;       // string: the value; class desc: class name; enum: constant name
  const Node* desc = nullptr;  // object, enum, array, class: its class; class desc: superclass
  int64_t suid = 0;
  uint8_t flags = 0;
  int hierarchy = 1;          // class desc: classes in the chain up to the root
  std::vector<Field> fields;  // class desc
  std::vector<Value> values;  // object: field values, superclass fields first
  // object: the objects written by its classes' writeObject / writeExternal methods, in order
  // (e.g. an ArrayList's elements); array of objects: its elements (nullptr = null)
  std::vector<const Node*> annotations;
  std::vector<const Node*> elements;
};

// "string", "class descriptor", "object", "enum constant", "array", "class".
std::string_view kind_name(const Node& n);

// "string \"abc\"", "class descriptor of Foo", "enum constant of class Bar", ...
std::string what_is(const Node& n);

// A name from the stream, for messages: arbitrary bytes, so non-printable ones (and backslashes)
// are escaped as \xNN, and the text is capped at 100 bytes ("..." follows when longer).
std::string shown(std::string_view s);

// The nodes of one parsed stream. Nodes point at one another, so the tree is kept whole; moving it
// keeps every node where it is.
struct ObjectTree {
  std::deque<Node> nodes;
  const Node* top = nullptr;  // the stream's one top-level object; nullptr for TC_NULL
  std::size_t length = 0;     // bytes of the stream header and that object
};

// The stream header and its one top-level object, which must end the bytes (an error names what
// follows it).
ObjectTree parse_stream(std::string_view bytes);

// The stream header and its one top-level object, as ObjectInputStream.readObject reads them: the
// bytes after it are not looked at (ObjectTree::length says where it ended).
ObjectTree parse_first_object(std::string_view bytes);

}  // namespace ckpt::io::java
