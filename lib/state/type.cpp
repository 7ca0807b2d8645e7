#include "state/type.h"

#include <fmt/format.h>

#include "util/error.h"

namespace ckpt::state {

const Type& Type::child(std::size_t i) const {
  if (i >= children.size()) {
    throw util::Error(util::ErrorKind::kInternal, fmt::format("serializer {} has {} nested serializers, {} needed",
                                                              snapshot_class, children.size(), i + 1));
  }
  return children[i];
}

namespace {

// "org.apache.flink.api.java.tuple.Tuple2" -> "Tuple2"; "a.b.Outer$Inner" -> "Outer$Inner".
std::string_view simple_class(std::string_view cls) {
  auto dot = cls.rfind('.');
  return dot == std::string_view::npos ? cls : cls.substr(dot + 1);
}

std::string joined_children(const Type& t, std::size_t from = 0) {
  std::string out;
  for (std::size_t i = from; i < t.children.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += type_name(t.children[i]);
  }
  return out;
}

std::string logical_name(const LogicalType& l) {
  std::string out = l.root;
  if (l.root == "ROW") {
    out += "<";
    for (std::size_t i = 0; i < l.children.size(); ++i) {
      if (i != 0) out += ", ";
      if (i < l.field_names.size()) out += l.field_names[i] + " ";
      out += logical_name(l.children[i]);
    }
    out += ">";
  } else if (l.root == "ARRAY" || l.root == "MULTISET" || l.root == "MAP") {
    out += "<";
    for (std::size_t i = 0; i < l.children.size(); ++i) out += (i != 0 ? ", " : "") + logical_name(l.children[i]);
    out += ">";
  } else if (l.root == "DECIMAL") {
    out += fmt::format("({}, {})", l.precision, l.scale);
  } else if (l.root == "VARCHAR" || l.root == "CHAR" || l.root == "BINARY" || l.root == "VARBINARY" ||
             l.root == "TIMESTAMP" || l.root == "TIMESTAMP_LTZ" || l.root == "TIME") {
    out += fmt::format("({})", l.precision);
  }
  if (!l.nullable) out += " NOT NULL";
  return out;
}

}  // namespace

std::string type_name(const Type& t) {
  switch (t.kind) {
    case Kind::kBoolean:
      return "Boolean";
    case Kind::kByte:
      return "Byte";
    case Kind::kShort:
      return "Short";
    case Kind::kChar:
      return "Char";
    case Kind::kInt:
      return "Integer";
    case Kind::kLong:
      return "Long";
    case Kind::kFloat:
      return "Float";
    case Kind::kDouble:
      return "Double";
    case Kind::kString:
      return "String";
    case Kind::kVoid:
      return t.type_class.empty() ? "Void" : std::string(simple_class(t.type_class));
    case Kind::kVoidNamespace:
      return "VoidNamespace";
    case Kind::kTimeWindow:
      return "TimeWindow";
    case Kind::kCountWindow:
      return "CountWindow";
    case Kind::kPrimitiveArray:
      return type_name(t.child(0)) + "[]";
    case Kind::kStringArray:
      return "String[]";
    case Kind::kBigInteger:
      return "BigInteger";
    case Kind::kBigDecimal:
      return "BigDecimal";
    case Kind::kDate:
      return "Date";
    case Kind::kSqlTimestamp:
      return "Timestamp";
    case Kind::kInstant:
      return "Instant";
    case Kind::kLocalDate:
      return "LocalDate";
    case Kind::kLocalTime:
      return "LocalTime";
    case Kind::kLocalDateTime:
      return "LocalDateTime";
    case Kind::kEnum:
    case Kind::kScalaEnum:
      return fmt::format("Enum({})", simple_class(t.type_class));
    case Kind::kTuple:
      return fmt::format("{}<{}>", t.type_class.empty() ? "Tuple" : simple_class(t.type_class), joined_children(t));
    case Kind::kPojo:
      return fmt::format("Pojo({})", t.type_class);
    case Kind::kRow:
      return fmt::format("Row<{}>", joined_children(t));
    case Kind::kList:
      return fmt::format("List<{}>", joined_children(t));
    case Kind::kMap:
      return fmt::format("Map<{}>", joined_children(t));
    case Kind::kGenericArray:
      return type_name(t.child(0)) + "[]";
    case Kind::kTraversable:
      return fmt::format("Traversable<{}>", joined_children(t));
    case Kind::kOption:
      return fmt::format("Option<{}>", joined_children(t));
    case Kind::kEither:
      return fmt::format("Either<{}>", joined_children(t));
    case Kind::kTry:
      return fmt::format("Try<{}>", type_name(t.child(0)));
    case Kind::kNullable:
      return fmt::format("Nullable<{}>", joined_children(t));
    case Kind::kTimer:
      return fmt::format("Timer<{}>", joined_children(t));
    case Kind::kTtl:
      return fmt::format("TTL<{}>", type_name(t.child(1)));
    case Kind::kRowData: {
      std::string out = "RowData(";
      for (std::size_t i = 0; i < t.logical.size(); ++i) out += (i != 0 ? ", " : "") + logical_name(t.logical[i]);
      return out + ")";
    }
    case Kind::kStringData:
      return "StringData";
    case Kind::kTimestampData:
      return fmt::format("TimestampData({})", t.a);
    case Kind::kDecimalData:
      return fmt::format("DecimalData({}, {})", t.a, t.b);
    case Kind::kRawValue:
      return fmt::format("RawValue<{}>", joined_children(t));
    case Kind::kExternal:
      return fmt::format("External<{}>", joined_children(t));
    case Kind::kBinaryRow:
      return fmt::format("BinaryRowData({} fields)", t.a);
    case Kind::kLinkedList:
      return fmt::format("LinkedList<{}>", joined_children(t));
    case Kind::kWindowKey:
      return fmt::format("WindowKey<{}>", joined_children(t));
    case Kind::kStreamElement:
      return fmt::format("StreamElement<{}>", joined_children(t));
    case Kind::kKryo:
      return fmt::format("Kryo({})", t.type_class);
    case Kind::kAvro:
      return fmt::format("Avro({})", t.type_class);
    case Kind::kJava:
      return "JavaSerialized";
    case Kind::kEventId:
      return "EventId";
    case Kind::kNodeId:
      return "NodeId";
    case Kind::kDeweyNumber:
      return "DeweyNumber";
    case Kind::kLockable:
      return fmt::format("Lockable<{}>", joined_children(t));
    case Kind::kSharedBufferEdge:
      return "SharedBufferEdge";
    case Kind::kSharedBufferNode:
      return "SharedBufferNode";
    case Kind::kNfaState:
      return "NFAState";
    case Kind::kOpaque:
      break;
  }
  return fmt::format("opaque({})", t.snapshot_class);
}

int32_t fixed_length(const Type& t) {
  switch (t.kind) {
    case Kind::kBoolean:
    case Kind::kByte:
    case Kind::kVoid:
      return 1;
    case Kind::kShort:
    case Kind::kChar:
      return 2;
    case Kind::kInt:
    case Kind::kFloat:
    case Kind::kEnum:
    case Kind::kScalaEnum:
      return 4;
    case Kind::kLong:
    case Kind::kDouble:
    case Kind::kDate:
    case Kind::kCountWindow:
      return 8;
    case Kind::kVoidNamespace:
      return 0;
    case Kind::kTimeWindow:
      return 16;
    case Kind::kSqlTimestamp:
    case Kind::kInstant:
      return 12;
    case Kind::kLocalDate:
      return 6;
    case Kind::kLocalTime:
      return 7;
    case Kind::kLocalDateTime:
      return 13;
    case Kind::kEventId:
      return 12;
    case Kind::kTuple: {
      // TupleSerializerBase: the sum when every field has a length > 0 (a VoidNamespace field
      // makes the tuple variable).
      int32_t sum = 0;
      for (const Type& c : t.children) {
        int32_t n = fixed_length(c);
        if (n <= 0) return -1;
        sum += n;
      }
      return t.children.empty() ? -1 : sum;
    }
    case Kind::kTimestampData:
      return t.a <= 3 ? 8 : 12;
    case Kind::kDecimalData:
      return t.a <= 18 ? 8 : -1;
    default:
      return -1;
  }
}

}  // namespace ckpt::state
