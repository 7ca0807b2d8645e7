// What a serializer snapshot says about the bytes of a key, namespace or value: the type tree the
// value decoder (state/value_codec.h) walks. It is built from the serializer snapshots stored in
// a state payload's proxy (state/serializer_snapshot.h), the only type information Flink keeps
// with the data.
//
// A Type is one of Flink's serializers. Composite serializers have their nested serializers as
// `children`, in the order the snapshot lists them; what a kind keeps in `names`, `ids`, `a`, `b`
// and `flag` is stated beside the kind. kOpaque is a serializer whose snapshot ckpt could step
// over but whose values it cannot decode (Kryo user classes, custom serializers): its values are
// shown as bytes with `snapshot_class` named, never guessed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::state {

struct AvroSchema;  // state/avro.h

enum class Kind : uint8_t {
  kBoolean,
  kByte,
  kShort,
  kChar,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kString,          // Flink StringValue encoding
  kVoid,            // one byte 00: Void, GlobalWindow, the table NullSerializer
  kVoidNamespace,   // one byte 00, but a length of 0 to Flink (spec §5.1)
  kTimeWindow,      // i64 start, i64 end
  kCountWindow,     // i64 id
  kPrimitiveArray,  // i32 n + n elements; children[0] is the element (a primitive kind)
  kStringArray,     // i32 n + n StringValue strings
  kBigInteger,
  kBigDecimal,
  kDate,          // java.util.Date: i64 millis
  kSqlTimestamp,  // i64 millis + i32 nanos
  kInstant,
  kLocalDate,
  kLocalTime,
  kLocalDateTime,
  kEnum,           // i32 index into `names` (the constants the snapshot lists)
  kScalaEnum,      // i32 id; `names` and `ids` are the snapshot's (name, id) pairs
  kTuple,          // children back to back (a Flink tuple or a Scala case class)
  kPojo,           // `names` the field names, children the fields (null when unresolved)
  kRow,            // legacy Row: null mask then fields; flag = supports RowKind
  kList,           // i32 n + n × children[0]
  kMap,            // i32 n + n × (children[0], bool null, [children[1]])
  kGenericArray,   // i32 n + n × (bool present, [children[0]])
  kTraversable,    // Scala collections: as kGenericArray
  kOption,         // Scala Option: bool defined + [children[0]]
  kEither,         // bool isLeft + children[0] or children[1] (Java and Scala)
  kTry,            // Scala Try: bool success + children[0], or a Throwable through Kryo
  kNullable,       // bool isNull + (a padding bytes, or children[0])
  kTimer,          // flipped i64 timestamp, children[0] key, children[1] namespace
  kTtl,            // i64 last access, children[1] the user value (children[0] the LongSerializer)
  kRowData,        // i32 size + BinaryRowData; `logical` the field types
  kStringData,     // i32 n + UTF-8
  kTimestampData,  // a = precision
  kDecimalData,    // a = precision, b = scale
  kRawValue,       // i32 n + bytes of children[0]
  kExternal,       // exactly children[0]
  kBinaryRow,      // as kRowData; a = number of fields (types unknown)
  kLinkedList,     // i32 n, [null mask if flag], elements children[0]
  kWindowKey,      // i64 window + children[0]
  kStreamElement,  // tag byte + record / watermark / ...; children[0] the record type
  kKryo,           // only Kryo's built-in classes decode
  kAvro,           // `schema` the writer schema (JSON)
  kJava,           // one java.io.ObjectOutputStream blob
  kEventId,        // CEP: i32 id, i64 timestamp
  kNodeId,         // CEP
  kDeweyNumber,    // CEP
  kLockable,       // CEP: i32 refs + children[0]
  kSharedBufferEdge,
  kSharedBufferNode,
  kNfaState,  // CEP; flag = supports previous timestamp
  kOpaque,    // decodable by neither layout nor class: shown as bytes
};

// A Flink SQL logical type, from the Java-serialized LogicalType objects of a RowData snapshot.
struct LogicalType {
  std::string root;       // "INT", "BIGINT", "VARCHAR", "TIMESTAMP", "DECIMAL", "ROW", ...
  int32_t precision = 0;  // also VARCHAR/CHAR/BINARY length
  int32_t scale = 0;
  bool nullable = true;
  std::vector<std::string> field_names;  // ROW
  std::vector<LogicalType> children;     // ROW fields, ARRAY element, MAP key and value
};

struct Type {
  Kind kind = Kind::kOpaque;
  std::string snapshot_class;  // the serializer snapshot's class as written (for opaque values)
  std::string type_class;      // the class the snapshot names: tuple, POJO, enum, Kryo, Avro, array component
  std::string schema;          // Avro: the writer schema
  std::shared_ptr<const AvroSchema> avro;  // Avro: the schema parsed (nullptr: values stay opaque)
  std::vector<std::string> names;
  std::vector<int32_t> ids;
  std::vector<Type> children;
  std::vector<LogicalType> logical;
  int32_t a = 0;
  int32_t b = 0;
  bool flag = false;

  const Type& child(std::size_t i) const;  // children[i]; an internal error when absent
};

// A Type of kind `k` with nothing else set (basic types).
inline Type basic(Kind k) {
  Type t;
  t.kind = k;
  return t;
}

// A short readable name: "Long", "String", "Tuple2<Long, String>", "List<Long>",
// "Map<String, Long>", "TimeWindow", "VoidNamespace" is "Void", "Pojo(com.acme.Order)",
// "Kryo(com.acme.Event)", "RowData(INT, VARCHAR(10))", "TTL<Long>", "opaque(<snapshot class>)".
std::string type_name(const Type& t);

// The byte length every value of `t` has, or -1 when it varies: Flink's TypeSerializer
// getLength(), which decides whether RocksDB keys carry length bytes (spec §6.3). As in Flink a
// tuple is fixed only when all its fields have a length > 0; VoidNamespace is 0 although it
// writes a byte.
int32_t fixed_length(const Type& t);

}  // namespace ckpt::state
