#include "state/serializer_snapshot.h"

#include <fmt/format.h>

#include <functional>

#include "io/java_serialization.h"
#include "state/avro.h"
#include "state/java_types.h"
#include "state/strings.h"

namespace ckpt::state {

namespace {

constexpr int32_t kAdapterVersion = 0x7A53C4F0;             // TypeSerializerConfigSnapshot.ADAPTER_VERSION
constexpr int32_t kCompositeMagic = 911108;                 // CompositeTypeSerializerSnapshot.MAGIC_NUMBER
constexpr int32_t kNestedMagic = 1333245;                   // NestedSerializersSnapshotDelegate.MAGIC_NUMBER
constexpr int64_t kOptionalMapHeader = 0x000004F2C69A3D70;  // LinkedOptionalMapSerializer header

using io::ByteReader;

std::string_view simple_name(std::string_view cls) {
  auto dot = cls.rfind('.');
  return dot == std::string_view::npos ? cls : cls.substr(dot + 1);
}

Type make(Kind k, std::string_view cls) {
  Type t;
  t.kind = k;
  t.snapshot_class = std::string(cls);
  return t;
}

// Snapshots of stateless serializers (SimpleTypeSerializerSnapshot and the like): no payload from
// version 3 on, the serializer's class name in version 2.
struct Simple {
  std::string_view name;
  Kind kind;
  Kind element = Kind::kOpaque;  // kPrimitiveArray: the element
  std::string_view type_class = {};
};
constexpr Simple kSimple[] = {
    {"LongSerializer$LongSerializerSnapshot", Kind::kLong},
    {"IntSerializer$IntSerializerSnapshot", Kind::kInt},
    {"ShortSerializer$ShortSerializerSnapshot", Kind::kShort},
    {"ByteSerializer$ByteSerializerSnapshot", Kind::kByte},
    {"CharSerializer$CharSerializerSnapshot", Kind::kChar},
    {"FloatSerializer$FloatSerializerSnapshot", Kind::kFloat},
    {"DoubleSerializer$DoubleSerializerSnapshot", Kind::kDouble},
    {"BooleanSerializer$BooleanSerializerSnapshot", Kind::kBoolean},
    {"StringSerializer$StringSerializerSnapshot", Kind::kString},
    {"VoidSerializer$VoidSerializerSnapshot", Kind::kVoid},
    {"BigIntSerializer$BigIntSerializerSnapshot", Kind::kBigInteger},
    {"BigDecSerializer$BigDecSerializerSnapshot", Kind::kBigDecimal},
    {"DateSerializer$DateSerializerSnapshot", Kind::kDate},
    {"SqlDateSerializer$SqlDateSerializerSnapshot", Kind::kDate},
    {"SqlTimeSerializer$SqlTimeSerializerSnapshot", Kind::kDate},
    {"SqlTimestampSerializer$SqlTimestampSerializerSnapshot", Kind::kSqlTimestamp},
    {"InstantSerializer$InstantSerializerSnapshot", Kind::kInstant},
    {"LocalDateSerializer$LocalDateSerializerSnapshot", Kind::kLocalDate},
    {"LocalTimeSerializer$LocalTimeSerializerSnapshot", Kind::kLocalTime},
    {"LocalDateTimeSerializer$LocalDateTimeSerializerSnapshot", Kind::kLocalDateTime},
    {"BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kByte},
    {"LongPrimitiveArraySerializer$LongPrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kLong},
    {"IntPrimitiveArraySerializer$IntPrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kInt},
    {"ShortPrimitiveArraySerializer$ShortPrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kShort},
    {"CharPrimitiveArraySerializer$CharPrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kChar},
    {"FloatPrimitiveArraySerializer$FloatPrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kFloat},
    {"DoublePrimitiveArraySerializer$DoublePrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kDouble},
    {"BooleanPrimitiveArraySerializer$BooleanPrimitiveArraySerializerSnapshot", Kind::kPrimitiveArray, Kind::kBoolean},
    {"StringArraySerializer$StringArraySerializerSnapshot", Kind::kStringArray},
    {"VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot", Kind::kVoidNamespace},
    {"GlobalWindow$Serializer$GlobalWindowSerializerSnapshot", Kind::kVoid, Kind::kOpaque, "GlobalWindow"},
    {"TimeWindow$Serializer$TimeWindowSerializerSnapshot", Kind::kTimeWindow},
    {"CountWindow$Serializer$CountWindowSerializerSnapshot", Kind::kCountWindow},
    {"JavaSerializer$JavaSerializerSnapshot", Kind::kJava},
    {"StringDataSerializer$StringDataSerializerSnapshot", Kind::kStringData},
    {"NullSerializer$NullSerializerSnapshot", Kind::kVoid, Kind::kOpaque, "Null"},
    {"EventId$EventIdSerializer$EventIdSerializerSnapshot", Kind::kEventId},
    {"DeweyNumber$DeweyNumberSerializer$DeweyNumberSerializerSnapshot", Kind::kDeweyNumber},
};

const Simple* find_simple(std::string_view simple) {
  for (const Simple& s : kSimple) {
    if (s.name == simple) return &s;
  }
  return nullptr;
}

// Composite snapshots (CompositeTypeSerializerSnapshot): an outer payload, then the nested
// snapshots. `outer` reads the outer payload for the given outer version.
struct Composite {
  std::string_view name;
  Kind kind;
};
constexpr Composite kComposite[] = {
    {"TupleSerializerSnapshot", Kind::kTuple},
    {"ScalaCaseClassSerializerSnapshot", Kind::kTuple},
    {"Tuple2CaseClassSerializerSnapshot", Kind::kTuple},
    {"ListSerializerSnapshot", Kind::kList},
    {"ArrayListSerializerSnapshot", Kind::kList},
    {"MapSerializerSnapshot", Kind::kMap},
    {"GenericArraySerializerSnapshot", Kind::kGenericArray},
    {"TimerSerializerSnapshot", Kind::kTimer},
    {"TtlStateFactory$TtlSerializerSnapshot", Kind::kTtl},
    {"RowSerializer$RowSerializerSnapshot", Kind::kRow},
    {"NullableSerializer$NullableSerializerSnapshot", Kind::kNullable},
    {"ScalaOptionSerializerSnapshot", Kind::kOption},
    {"OptionSerializerSnapshot", Kind::kOption},
    {"ScalaEitherSerializerSnapshot", Kind::kEither},
    {"JavaEitherSerializerSnapshot", Kind::kEither},
    {"ScalaTrySerializerSnapshot", Kind::kTry},
    {"TraversableSerializerSnapshot", Kind::kTraversable},
    {"ExternalSerializer$ExternalSerializerSnapshot", Kind::kExternal},
    {"RawValueDataSerializer$RawValueDataSerializerSnapshot", Kind::kRawValue},
    {"LinkedListSerializer$LinkedListSerializerSnapshot", Kind::kLinkedList},
    {"WindowKeySerializer$WindowKeySerializerSnapshot", Kind::kWindowKey},
    {"StreamElementSerializer$StreamElementSerializerSnapshot", Kind::kStreamElement},
    {"NFAStateSerializerSnapshot", Kind::kNfaState},
    {"NodeId$NodeIdSerializer$NodeIdSerializerSnapshot", Kind::kNodeId},
    {"LockableTypeSerializerSnapshot", Kind::kLockable},
    {"SharedBufferEdge$SharedBufferEdgeSerializer$SharedBufferEdgeSerializerSnapshot", Kind::kSharedBufferEdge},
    {"SharedBufferNodeSerializerSnapshotV2", Kind::kSharedBufferNode},
    {"TwoPhaseCommitSinkFunction$StateSerializerSnapshot", Kind::kOpaque},
};

const Composite* find_composite(std::string_view simple) {
  for (const Composite& c : kComposite) {
    if (c.name == simple) return &c;
  }
  return nullptr;
}

// Legacy TypeSerializerConfigSnapshot classes whose payload is a resilience block of the nested
// serializers (CompositeTypeSerializerConfigSnapshot subclasses).
constexpr std::string_view kLegacyCompositeConfigs[] = {
    "CollectionSerializerConfigSnapshot",
    "MapSerializerConfigSnapshot",
    "EitherSerializerConfigSnapshot",
    "ScalaOptionSerializerConfigSnapshot",
    "OptionSerializer$OptionSerializerConfigSnapshot",
    "ScalaTrySerializerConfigSnapshot",
    "TrySerializer$TrySerializerConfigSnapshot",
    "ScalaEitherSerializerConfigSnapshot",
    "EitherSerializerConfigSnapshot",
    "TraversableSerializerConfigSnapshot",
    "TimerSerializer$TimerSerializerConfigSnapshot",
    "CompositeTypeSerializerConfigSnapshot",
    "ListSerializerConfigSnapshot",
};

class SnapshotReader {
 public:
  explicit SnapshotReader(ByteReader& r) : r_(r) {}

  Type top_level() {
    uint64_t at = r_.offset();
    int32_t proxy = r_.i32("serializer snapshot proxy version");
    if (proxy == 2) return versioned(0);
    if (proxy == 1) return config_snapshot_v1(0);
    ByteReader::fail(at, fmt::format("serializer snapshot proxy version {}, expected 1 or 2", proxy));
  }

  Type versioned(int depth) {
    uint64_t at = r_.offset();
    if (depth > kMaxNesting)
      ByteReader::fail(at, fmt::format("serializer snapshots nested deeper than {}", kMaxNesting));
    std::string cls = read_utf(r_, "serializer snapshot class");
    int32_t version = r_.i32("serializer snapshot version");
    if (version == kAdapterVersion) return adapter(cls, at, depth);
    return payload(cls, version, at, depth);
  }

  // Flink 1.3–1.6 top-level form (TypeSerializerConfigSnapshotSerializationProxy version 1): utf
  // class, then the config snapshot's own version and payload.
  Type config_snapshot_v1(int depth) {
    uint64_t at = r_.offset();
    std::string cls = read_utf(r_, "serializer config snapshot class");
    int32_t version = r_.i32("serializer config snapshot version");
    return legacy_config(cls, version, Type{}, at, depth);
  }

  std::vector<Type> resilience_block() {
    uint64_t at = r_.offset();
    int32_t n = r_.count("number of serializers in a resilience block", 8);
    std::vector<std::pair<int32_t, int32_t>> offsets;
    offsets.reserve(static_cast<std::size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
      int32_t s = r_.i32("serializer offset");
      int32_t c = r_.i32("config snapshot offset");
      offsets.emplace_back(s, c);
    }
    int32_t len = r_.count("resilience buffer length", 1);
    uint64_t buffer_at = r_.offset();
    std::string_view buffer = r_.bytes(static_cast<uint64_t>(len), "resilience buffer");
    // Pieces end where the next one begins; offsets must rise (ser0 < cfg0 <= ser1 < ...).
    std::vector<int32_t> bounds;
    for (auto [s, c] : offsets) {
      bounds.push_back(s);
      bounds.push_back(c);
    }
    bounds.push_back(len);
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
      if (bounds[i] < 0 || bounds[i] > bounds[i + 1]) {
        ByteReader::fail(at, fmt::format("resilience block offsets {} and {} are out of order (buffer of {} bytes)",
                                         bounds[i], bounds[i + 1], len));
      }
    }
    std::vector<Type> out;
    out.reserve(offsets.size());
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      auto piece = [&](std::size_t k) {
        return buffer.substr(static_cast<std::size_t>(bounds[k]), static_cast<std::size_t>(bounds[k + 1] - bounds[k]));
      };
      ByteReader ser(piece(2 * i), buffer_at + static_cast<uint64_t>(bounds[2 * i]));
      Type t = java_serializer_block_or_opaque(ser);
      if (t.kind == Kind::kOpaque) {
        // The serializer is not understood: the config snapshot may still say what it writes.
        ByteReader cfg(piece(2 * i + 1), buffer_at + static_cast<uint64_t>(bounds[2 * i + 1]));
        try {
          SnapshotReader nested(cfg);
          Type from_config = nested.top_level();
          if (from_config.kind != Kind::kOpaque && cfg.at_end()) t = std::move(from_config);
        } catch (const io::DecodeError&) {
          // Keep the opaque type: the piece's extent is known, so nothing after it is lost.
        }
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  Type java_serializer_block() {
    uint64_t at = r_.offset();
    int32_t version = r_.i32("serializer proxy version");
    if (version != 1) ByteReader::fail(at, fmt::format("Java-serialized serializer version {}, expected 1", version));
    int32_t len = r_.count("Java-serialized serializer length", 1);
    uint64_t blob_at = r_.offset();
    std::string_view blob = r_.bytes(static_cast<uint64_t>(len), "Java-serialized serializer");
    try {
      io::java::ObjectTree tree = io::java::parse_first_object(blob);
      return type_of_serializer_object(tree.top);
    } catch (const io::DecodeError& e) {
      // Flink read these failure-tolerantly too: a serializer that does not parse is opaque.
      (void)blob_at;
      return make(Kind::kOpaque, "java-serialized serializer");
    }
  }

  Type java_serializer_object() {
    uint64_t at = r_.offset();
    io::java::ObjectTree tree;
    try {
      tree = io::java::parse_first_object(r_.rest());
    } catch (const io::DecodeError& e) {
      ByteReader::fail(at + e.offset(), "Java-serialized serializer: " + e.message());
    }
    r_.bytes(tree.length, "Java-serialized serializer");
    return type_of_serializer_object(tree.top);
  }

 private:
  Type java_serializer_block_or_opaque(ByteReader& piece) {
    SnapshotReader nested(piece);
    try {
      return nested.java_serializer_block();
    } catch (const io::DecodeError&) {
      return make(Kind::kOpaque, "java-serialized serializer");
    }
  }

  // One Java-serialized object with no length prefix: its extent comes from the grammar.
  io::java::ObjectTree java_object(const char* what) {
    uint64_t at = r_.offset();
    io::java::ObjectTree tree;
    try {
      tree = io::java::parse_first_object(r_.rest());
    } catch (const io::DecodeError& e) {
      ByteReader::fail(at + e.offset(), std::string(what) + ": " + e.message());
    }
    r_.bytes(tree.length, what);
    return tree;
  }

  std::vector<Type> nested_block(int depth) {
    uint64_t at = r_.offset();
    int32_t magic = r_.i32("nested serializers magic");
    if (magic != kNestedMagic) {
      ByteReader::fail(at, fmt::format("nested serializers magic 0x{:08X}, expected 0x{:08X}",
                                       static_cast<uint32_t>(magic), static_cast<uint32_t>(kNestedMagic)));
    }
    int32_t version = r_.i32("nested serializers version");
    if (version != 1) ByteReader::fail(at + 4, fmt::format("nested serializers version {}, expected 1", version));
    int32_t n = r_.count("number of nested serializers", 6);
    std::vector<Type> out;
    out.reserve(static_cast<std::size_t>(n));
    for (int32_t i = 0; i < n; ++i) out.push_back(versioned(depth + 1));
    return out;
  }

  // frames of a LinkedOptionalMap: visit(name, key frame or nullopt, value frame or nullopt).
  using FrameVisitor = std::function<void(const std::string&, std::optional<ByteReader>, std::optional<ByteReader>)>;
  void optional_map(const char* what, const FrameVisitor& visit) {
    uint64_t at = r_.offset();
    int64_t header = r_.i64(what);
    if (header != kOptionalMapHeader) {
      ByteReader::fail(at, fmt::format("{}: header 0x{:016X}, expected 0x{:016X}", what, static_cast<uint64_t>(header),
                                       static_cast<uint64_t>(kOptionalMapHeader)));
    }
    int32_t n = r_.count(what, 4);
    for (int32_t i = 0; i < n; ++i) {
      std::string name = read_utf(r_, what);
      std::optional<ByteReader> key, value;
      if (r_.u8(what) != 0) {
        int32_t len = r_.count(what, 1);
        uint64_t frame_at = r_.offset();
        key.emplace(r_.bytes(static_cast<uint64_t>(len), what), frame_at);
      }
      if (r_.u8(what) != 0) {
        int32_t len = r_.count(what, 1);
        uint64_t frame_at = r_.offset();
        value.emplace(r_.bytes(static_cast<uint64_t>(len), what), frame_at);
      }
      visit(name, std::move(key), std::move(value));
    }
  }

  Type payload(const std::string& cls, int32_t version, uint64_t at, int depth) {
    std::string_view simple = simple_name(cls);
    if (const Simple* s = find_simple(simple); s != nullptr) {
      if (version <= 2) read_utf(r_, "serializer class");  // SimpleTypeSerializerSnapshot v2
      Type t = make(s->kind, cls);
      t.type_class = std::string(s->type_class);
      if (s->kind == Kind::kPrimitiveArray) t.children.push_back(make(s->element, cls));
      return t;
    }
    if (const Composite* c = find_composite(simple); c != nullptr) return composite(cls, *c, version, at, depth);
    if (simple == "PojoSerializerSnapshot") return pojo(cls, version, at, depth);
    if (simple == "KryoSerializerSnapshot") return kryo(cls, version, at);
    if (simple == "AvroSerializerSnapshot") return avro(cls, version, at);
    if (simple == "RowDataSerializer$RowDataSerializerSnapshot") return row_data(cls, version, at, depth);
    if (simple == "TimestampDataSerializer$TimestampDataSerializerSnapshot") {
      Type t = make(Kind::kTimestampData, cls);
      t.a = r_.i32("timestamp precision");
      return t;
    }
    if (simple == "DecimalDataSerializer$DecimalSerializerSnapshot") {
      Type t = make(Kind::kDecimalData, cls);
      t.a = r_.i32("decimal precision");
      t.b = r_.i32("decimal scale");
      return t;
    }
    if (simple == "BinaryRowDataSerializer$BinaryRowDataSerializerSnapshot") {
      Type t = make(Kind::kBinaryRow, cls);
      t.a = r_.i32("number of row fields");
      return t;
    }
    if (simple == "ArrayDataSerializer$ArrayDataSerializerSnapshot" ||
        simple == "MapDataSerializer$MapDataSerializerSnapshot") {
      int blobs = simple.starts_with("Array") ? 2 : 4;  // types and serializers, Java-serialized
      for (int i = 0; i < blobs; ++i) java_object("Java-serialized table type");
      return make(Kind::kOpaque, cls);
    }
    if (simple == "EnumSerializer$EnumSerializerSnapshot") {
      Type t = make(Kind::kEnum, cls);
      t.type_class = read_utf(r_, "enum class");
      int32_t n = r_.count("number of enum constants", 2);
      for (int32_t i = 0; i < n; ++i) t.names.push_back(read_utf(r_, "enum constant"));
      return t;
    }
    if (simple == "ScalaEnumSerializerSnapshot") {
      Type t = make(Kind::kScalaEnum, cls);
      t.type_class = read_utf(r_, "enum class");
      int32_t n = r_.count("number of enum values", 6);
      for (int32_t i = 0; i < n; ++i) {
        t.names.push_back(read_utf(r_, "enum value name"));
        t.ids.push_back(r_.i32("enum value id"));
      }
      return t;
    }
    if (simple == "EitherSerializerSnapshot") {
      Type t = make(Kind::kEither, cls);
      t.children = nested_block(depth);
      return t;
    }
    if (simple == "TtlAwareSerializerSnapshot") {
      r_.u8("TTL enabled");
      return versioned(depth + 1);
    }
    if (simple == "TypeSerializerSnapshotMigrationITCase$TestSerializerSnapshot") {
      // Flink's own test serializer (flink-tests), whose TestSerializer writes a long: its
      // snapshot payload is one utf string.
      read_utf(r_, "test serializer payload");
      return make(Kind::kLong, cls);
    }
    ByteReader::fail(at, fmt::format("serializer snapshot class {} (version {}) is not one ckpt knows; its payload "
                                     "has no length, so the states after it cannot be found",
                                     cls, version));
  }

  Type composite(const std::string& cls, const Composite& c, int32_t version, uint64_t at, int depth) {
    int32_t outer_version = version;
    if (version >= 3) {
      uint64_t magic_at = r_.offset();
      int32_t magic = r_.i32("composite snapshot magic");
      if (magic != kCompositeMagic) {
        ByteReader::fail(magic_at, fmt::format("{}: composite snapshot magic 0x{:08X}, expected 0x{:08X}", cls,
                                               static_cast<uint32_t>(magic), static_cast<uint32_t>(kCompositeMagic)));
      }
      outer_version = r_.i32("outer snapshot version");
    }
    (void)at;
    Type t = make(c.kind, cls);
    std::string_view simple = simple_name(cls);
    // The outer payloads (writeOuterSnapshot of each class).
    if (simple == "TupleSerializerSnapshot" || simple == "ScalaCaseClassSerializerSnapshot" ||
        simple == "Tuple2CaseClassSerializerSnapshot") {
      t.type_class = read_utf(r_, "tuple class");
    } else if (simple == "GenericArraySerializerSnapshot") {
      t.type_class = read_utf(r_, "array component class");
    } else if (simple == "RowSerializer$RowSerializerSnapshot") {
      if (outer_version >= 3) t.flag = r_.u8("row kind supported") != 0;
    } else if (simple == "NullableSerializer$NullableSerializerSnapshot") {
      t.a = r_.count("null padding length", 0);
    } else if (simple == "TraversableSerializerSnapshot") {
      if (outer_version >= 2) read_utf(r_, "collection builder code");
    } else if (simple == "ExternalSerializer$ExternalSerializerSnapshot") {
      java_object("Java-serialized data type");
      r_.u8("internal input");
    } else if (simple == "LinkedListSerializer$LinkedListSerializerSnapshot") {
      t.flag = r_.u8("null mask") != 0;
    } else if (simple == "NFAStateSerializerSnapshot") {
      if (outer_version >= 2) t.flag = r_.u8("previous timestamp supported") != 0;
    } else if (simple == "TwoPhaseCommitSinkFunction$StateSerializerSnapshot") {
      if (outer_version >= 2) r_.u8("null transaction supported");
    }
    t.children = nested_block(depth);
    if (t.kind == Kind::kTtl && t.children.size() != 2) {
      ByteReader::fail(at, fmt::format("{}: {} nested serializers, expected 2", cls, t.children.size()));
    }
    return t;
  }

  Type pojo(const std::string& cls, int32_t version, uint64_t at, int depth) {
    if (version != 2) ByteReader::fail(at, fmt::format("{} version {}, expected 2", cls, version));
    Type t = make(Kind::kPojo, cls);
    t.type_class = read_utf(r_, "POJO class");
    optional_map("POJO fields",
                 [&](const std::string& name, std::optional<ByteReader> key, std::optional<ByteReader> value) {
                   std::string field = name;
                   if (key) {
                     read_utf(*key, "field declaring class");
                     field = read_utf(*key, "field name");
                   }
                   Type ft = make(Kind::kOpaque, "unresolved POJO field");
                   if (value) {
                     SnapshotReader nested(*value);
                     ft = nested.versioned(depth + 1);
                   }
                   t.names.push_back(field);
                   t.children.push_back(std::move(ft));
                 });
    auto skip = [](const std::string&, std::optional<ByteReader>, std::optional<ByteReader>) {};
    optional_map("POJO registered subclasses", skip);
    optional_map("POJO non-registered subclasses", skip);
    return t;
  }

  Type kryo(const std::string& cls, int32_t version, uint64_t at) {
    if (version != 2) ByteReader::fail(at, fmt::format("{} version {}, expected 2", cls, version));
    Type t = make(Kind::kKryo, cls);
    t.type_class = read_utf(r_, "Kryo type class");
    auto skip = [](const std::string&, std::optional<ByteReader>, std::optional<ByteReader>) {};
    optional_map("Kryo registrations", [&](const std::string& name, std::optional<ByteReader>,
                                           std::optional<ByteReader>) { t.names.push_back(name); });
    optional_map("Kryo default serializers", skip);
    optional_map("Kryo default serializer classes", skip);
    return t;
  }

  Type avro(const std::string& cls, int32_t version, uint64_t at) {
    Type t = make(Kind::kAvro, cls);
    if (version == 1) {
      t.schema = read_utf(r_, "Avro schema");
    } else if (version == 2) {
      t.type_class = read_utf(r_, "Avro runtime class");
      t.schema = read_utf(r_, "Avro schema");
    } else if (version == 3) {
      t.type_class = read_string_value(r_, "Avro runtime class").value_or("");
      t.schema = read_string_value(r_, "Avro schema").value_or("");
    } else {
      ByteReader::fail(at, fmt::format("{} version {}, expected 1 to 3", cls, version));
    }
    t.avro = parse_avro_schema(t.schema);
    return t;
  }

  Type row_data(const std::string& cls, int32_t version, uint64_t at, int depth) {
    if (version != 3 && version != 4) ByteReader::fail(at, fmt::format("{} version {}, expected 3 or 4", cls, version));
    Type t = make(Kind::kRowData, cls);
    int32_t n = r_.count("number of row fields", 4);
    for (int32_t i = 0; i < n; ++i) {
      io::java::ObjectTree tree = java_object("Java-serialized logical type");
      t.logical.push_back(logical_type_of(tree.top));
    }
    t.children = nested_block(depth);
    if (t.children.size() != static_cast<std::size_t>(n)) {
      ByteReader::fail(at, fmt::format("{}: {} logical types but {} field serializers", cls, n, t.children.size()));
    }
    if (version >= 4 && r_.u8("row field names present") != 0) {
      for (int32_t i = 0; i < n; ++i) t.names.push_back(read_utf(r_, "row field name"));
    }
    return t;
  }

  // The adapter form of a legacy TypeSerializerConfigSnapshot written through the new API:
  // i32 1, the Java-serialized prior serializer, the config snapshot's version and payload.
  Type adapter(const std::string& cls, uint64_t at, int depth) {
    Type from_serializer = java_serializer_block();
    int32_t version = r_.i32("serializer config snapshot version");
    // A class upgraded in place to a new snapshot reads the same bytes as its new form.
    std::string_view simple = simple_name(cls);
    if (find_simple(simple) != nullptr || find_composite(simple) != nullptr || simple == "PojoSerializerSnapshot" ||
        simple == "KryoSerializerSnapshot" || simple == "AvroSerializerSnapshot" ||
        simple == "EnumSerializer$EnumSerializerSnapshot" || simple == "ScalaEnumSerializerSnapshot") {
      Type t = payload(cls, version, at, depth);
      return t.kind == Kind::kOpaque && from_serializer.kind != Kind::kOpaque ? from_serializer : t;
    }
    return legacy_config(cls, version, std::move(from_serializer), at, depth);
  }

  // A legacy config snapshot's payload (spec §3.4). The type comes from the Java-serialized
  // serializer when there is one (`known`), else from the config where it says enough.
  Type legacy_config(const std::string& cls, int32_t version, Type known, uint64_t at, int depth) {
    std::string_view simple = simple_name(cls);
    Type t = make(Kind::kOpaque, cls);
    bool composite_config = false;
    for (std::string_view c : kLegacyCompositeConfigs) composite_config = composite_config || simple == c;
    if (simple == "ParameterlessTypeSerializerConfig") {
      std::string id = read_utf(r_, "serializer identifier");
      t = basic_of_serializer_class(id, cls);
    } else if (composite_config) {
      std::vector<Type> nested = resilience_block();
      t = composite_of_config(simple, cls, std::move(nested));
    } else if (simple == "TupleSerializerConfigSnapshot") {
      std::vector<Type> nested = resilience_block();
      io::java::ObjectTree tree = java_object("Java-serialized tuple class");
      t = make(Kind::kTuple, cls);
      if (tree.top != nullptr && tree.top->kind == io::java::Node::Kind::kClass && tree.top->desc != nullptr) {
        t.type_class = std::string(tree.top->desc->text);
      }
      t.children = std::move(nested);
    } else if (simple == "KryoSerializer$KryoSerializerConfigSnapshot") {
      t = make(Kind::kKryo, cls);
      t.type_class = read_utf(r_, "Kryo type class");
      int32_t n = r_.count("number of Kryo registrations", 10);
      for (int32_t i = 0; i < n; ++i) {
        t.names.push_back(read_utf(r_, "Kryo registration"));
        read_utf(r_, "Kryo registered class");
        int32_t kind = r_.i32("Kryo registration kind");
        if (kind == 1) read_utf(r_, "Kryo serializer class");
        if (kind == 2) java_object("Java-serialized Kryo serializer");
      }
    } else if (simple == "EnumValueSerializer$ScalaEnumSerializerConfigSnapshot") {
      if (version >= 2) {
        t = make(Kind::kScalaEnum, cls);
        t.type_class = read_utf(r_, "enum class");
        int32_t n = r_.count("number of enum values", 6);
        for (int32_t i = 0; i < n; ++i) {
          t.names.push_back(read_utf(r_, "enum value name"));
          t.ids.push_back(r_.i32("enum value id"));
        }
      } else {
        java_object("Java-serialized enum class");
        java_object("Java-serialized enum values");
      }
    } else if (simple == "EnumSerializer$EnumSerializerConfigSnapshot") {
      t = make(Kind::kEnum, cls);
      t.type_class = read_utf(r_, "enum class");
      int32_t n = r_.count("number of enum constants", 2);
      for (int32_t i = 0; i < n; ++i) t.names.push_back(read_utf(r_, "enum constant"));
    } else if (simple == "AvroSerializer$AvroSchemaSerializerConfigSnapshot") {
      t = make(Kind::kAvro, cls);
      t.schema = read_utf(r_, "Avro schema");
      t.avro = parse_avro_schema(t.schema);
    } else if (simple == "CoderTypeSerializer$LegacySnapshot") {
      // Apache Beam's coder serializer: no payload.
    } else if (simple == "TypeSerializerSnapshotMigrationITCase$TestSerializerSnapshot") {
      read_utf(r_, "test serializer payload");
      t = make(Kind::kLong, cls);
    } else {
      ByteReader::fail(at, fmt::format("serializer config snapshot class {} (version {}) is not one ckpt knows; its "
                                       "payload has no length, so the states after it cannot be found",
                                       cls, version));
    }
    (void)depth;
    if (known.kind != Kind::kOpaque) return known;
    return t;
  }

  static Type basic_of_serializer_class(const std::string& serializer_class, const std::string& cls) {
    std::string_view simple = simple_name(serializer_class);
    for (const Simple& s : kSimple) {
      std::string_view n = s.name;
      if (n.substr(0, n.find('$')) == simple) {
        Type t = make(s.kind, cls);
        if (s.kind == Kind::kPrimitiveArray) t.children.push_back(make(s.element, cls));
        return t;
      }
    }
    return make(Kind::kOpaque, cls);
  }

  static Type composite_of_config(std::string_view simple, const std::string& cls, std::vector<Type> nested) {
    Kind k = Kind::kOpaque;
    if (simple.starts_with("Collection") || simple.starts_with("List")) k = Kind::kList;
    if (simple.starts_with("Map")) k = Kind::kMap;
    if (simple.find("Either") != std::string_view::npos) k = Kind::kEither;
    if (simple.find("Option") != std::string_view::npos) k = Kind::kOption;
    if (simple.find("Try") != std::string_view::npos) k = Kind::kTry;
    if (simple.starts_with("Traversable")) k = Kind::kTraversable;
    if (simple.starts_with("TimerSerializer")) k = Kind::kTimer;
    Type t = make(k, cls);
    t.children = std::move(nested);
    return t;
  }

  ByteReader& r_;
};

}  // namespace

Type read_top_level_snapshot(ByteReader& r) { return SnapshotReader(r).top_level(); }

Type read_versioned_snapshot(ByteReader& r, int depth) { return SnapshotReader(r).versioned(depth); }

Type read_java_serializer_block(ByteReader& r) { return SnapshotReader(r).java_serializer_block(); }

Type read_java_serializer_object(ByteReader& r) { return SnapshotReader(r).java_serializer_object(); }

std::vector<Type> read_resilience_block(ByteReader& r) { return SnapshotReader(r).resilience_block(); }

}  // namespace ckpt::state
