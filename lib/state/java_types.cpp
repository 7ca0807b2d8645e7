#include "state/java_types.h"

#include <string>

namespace ckpt::state {

namespace java = io::java;

std::string_view class_of(const java::Node* obj) {
  if (obj == nullptr || obj->kind != java::Node::Kind::kObject || obj->desc == nullptr) return {};
  return obj->desc->text;
}

namespace {

std::string_view simple_name(std::string_view cls) {
  auto dot = cls.rfind('.');
  return dot == std::string_view::npos ? cls : cls.substr(dot + 1);
}

// The value of the field `name` of `obj` (any class of its chain), or nullptr.
const java::Value* field(const java::Node* obj, std::string_view name) {
  if (obj == nullptr || obj->kind != java::Node::Kind::kObject) return nullptr;
  for (const java::Value& v : obj->values) {
    if (v.field != nullptr && v.field->name == name) return &v;
  }
  return nullptr;
}

const java::Node* object_field(const java::Node* obj, std::string_view name) {
  const java::Value* v = field(obj, name);
  return v == nullptr ? nullptr : v->object;
}

int64_t primitive_field(const java::Node* obj, std::string_view name, int64_t otherwise) {
  const java::Value* v = field(obj, name);
  return v == nullptr || v->object != nullptr ? otherwise : v->primitive;
}

bool chain_has(const java::Node* obj, std::string_view simple) {
  if (obj == nullptr || obj->kind != java::Node::Kind::kObject) return false;
  for (const java::Node* c = obj->desc; c != nullptr; c = c->desc) {
    if (simple_name(c->text) == simple) return true;
  }
  return false;
}

// The class a java.lang.Class object (TC_CLASS) names.
std::string class_value(const java::Node* cls) {
  if (cls == nullptr || cls->kind != java::Node::Kind::kClass || cls->desc == nullptr) return {};
  return std::string(cls->desc->text);
}

// The elements of a serialized java.util List (ArrayList, the Collections wrappers): the objects
// of its writeObject annotation.
std::vector<const java::Node*> list_elements(const java::Node* list) {
  if (list == nullptr) return {};
  if (const java::Node* inner = object_field(list, "list"); inner != nullptr) return list_elements(inner);
  if (const java::Node* inner = object_field(list, "c"); inner != nullptr) return list_elements(inner);
  return list->annotations;
}

Type make(Kind k, std::string_view cls) {
  Type t;
  t.kind = k;
  t.snapshot_class = std::string(cls);
  return t;
}

Type opaque(std::string_view cls) { return make(Kind::kOpaque, cls); }

// A nested serializer: kOpaque propagates as the parent's failure (the caller cannot decode a
// composite whose part is unknown, but it keeps the part's name).
Type nested(const java::Node* obj) { return type_of_serializer_object(obj); }

struct Basic {
  std::string_view name;
  Kind kind;
};
constexpr Basic kBasic[] = {
    {"LongSerializer", Kind::kLong},
    {"IntSerializer", Kind::kInt},
    {"ShortSerializer", Kind::kShort},
    {"ByteSerializer", Kind::kByte},
    {"CharSerializer", Kind::kChar},
    {"FloatSerializer", Kind::kFloat},
    {"DoubleSerializer", Kind::kDouble},
    {"BooleanSerializer", Kind::kBoolean},
    {"StringSerializer", Kind::kString},
    {"VoidSerializer", Kind::kVoid},
    {"BigIntSerializer", Kind::kBigInteger},
    {"BigDecSerializer", Kind::kBigDecimal},
    {"DateSerializer", Kind::kDate},
    {"SqlDateSerializer", Kind::kDate},
    {"SqlTimeSerializer", Kind::kDate},
    {"SqlTimestampSerializer", Kind::kSqlTimestamp},
    {"InstantSerializer", Kind::kInstant},
    {"LocalDateSerializer", Kind::kLocalDate},
    {"LocalTimeSerializer", Kind::kLocalTime},
    {"LocalDateTimeSerializer", Kind::kLocalDateTime},
    {"VoidNamespaceSerializer", Kind::kVoidNamespace},
    {"StringArraySerializer", Kind::kStringArray},
    {"JavaSerializer", Kind::kJava},
    {"TimeWindow$Serializer", Kind::kTimeWindow},
    {"GlobalWindow$Serializer", Kind::kVoid},
};

struct PrimitiveArray {
  std::string_view name;
  Kind element;
};
constexpr PrimitiveArray kPrimitiveArrays[] = {
    {"BytePrimitiveArraySerializer", Kind::kByte},     {"LongPrimitiveArraySerializer", Kind::kLong},
    {"IntPrimitiveArraySerializer", Kind::kInt},       {"ShortPrimitiveArraySerializer", Kind::kShort},
    {"CharPrimitiveArraySerializer", Kind::kChar},     {"FloatPrimitiveArraySerializer", Kind::kFloat},
    {"DoublePrimitiveArraySerializer", Kind::kDouble}, {"BooleanPrimitiveArraySerializer", Kind::kBoolean},
};

Type with_children(Type t, std::initializer_list<const java::Node*> parts) {
  for (const java::Node* p : parts) {
    if (p == nullptr) return opaque(t.snapshot_class);
    t.children.push_back(nested(p));
  }
  return t;
}

}  // namespace

Type type_of_serializer_object(const java::Node* serializer) {
  std::string_view cls = class_of(serializer);
  if (cls.empty()) return opaque("null");
  std::string_view simple = simple_name(cls);
  for (const Basic& b : kBasic) {
    if (simple == b.name) {
      Type t = make(b.kind, cls);
      if (simple == "GlobalWindow$Serializer") t.type_class = "GlobalWindow";
      return t;
    }
  }
  for (const PrimitiveArray& p : kPrimitiveArrays) {
    if (simple == p.name) {
      Type t = make(Kind::kPrimitiveArray, cls);
      t.children.push_back(make(p.element, cls));
      return t;
    }
  }
  if (chain_has(serializer, "TupleSerializerBase")) {
    // TupleSerializer and the Scala CaseClassSerializer (an anonymous subclass per case class).
    const java::Node* fields = object_field(serializer, "fieldSerializers");
    if (fields == nullptr || fields->kind != java::Node::Kind::kArray) return opaque(cls);
    Type t = make(Kind::kTuple, cls);
    t.type_class = class_value(object_field(serializer, "tupleClass"));
    for (const java::Node* f : fields->elements) {
      if (f == nullptr) return opaque(cls);
      t.children.push_back(nested(f));
    }
    return t;
  }
  if (simple == "ListSerializer" || simple == "ArrayListSerializer") {
    return with_children(make(Kind::kList, cls), {object_field(serializer, "elementSerializer")});
  }
  if (simple == "MapSerializer") {
    return with_children(make(Kind::kMap, cls),
                         {object_field(serializer, "keySerializer"), object_field(serializer, "valueSerializer")});
  }
  if (simple == "OptionSerializer") {
    return with_children(make(Kind::kOption, cls), {object_field(serializer, "elemSerializer")});
  }
  if (simple == "EitherSerializer") {
    return with_children(make(Kind::kEither, cls),
                         {object_field(serializer, "leftSerializer"), object_field(serializer, "rightSerializer")});
  }
  if (simple == "TrySerializer") {
    return with_children(make(Kind::kTry, cls), {object_field(serializer, "elemSerializer")});
  }
  if (simple == "TraversableSerializer" || chain_has(serializer, "TraversableSerializer")) {
    return with_children(make(Kind::kTraversable, cls), {object_field(serializer, "elementSerializer")});
  }
  if (simple == "TimerSerializer") {
    return with_children(make(Kind::kTimer, cls),
                         {object_field(serializer, "keySerializer"), object_field(serializer, "namespaceSerializer")});
  }
  if (simple == "GenericArraySerializer") {
    Type t = with_children(make(Kind::kGenericArray, cls), {object_field(serializer, "componentSerializer")});
    t.type_class = class_value(object_field(serializer, "componentClass"));
    return t;
  }
  if (simple == "RowSerializer") {
    const java::Node* fields = object_field(serializer, "fieldSerializers");
    if (fields == nullptr || fields->kind != java::Node::Kind::kArray) return opaque(cls);
    Type t = make(Kind::kRow, cls);
    for (const java::Node* f : fields->elements) {
      if (f == nullptr) return opaque(cls);
      t.children.push_back(nested(f));
    }
    return t;
  }
  if (simple == "EnumSerializer") {
    const java::Node* values = object_field(serializer, "values");
    if (values == nullptr || values->kind != java::Node::Kind::kArray) return opaque(cls);
    Type t = make(Kind::kEnum, cls);
    t.type_class = class_value(object_field(serializer, "enumClass"));
    for (const java::Node* v : values->elements) {
      if (v == nullptr || v->kind != java::Node::Kind::kEnum) return opaque(cls);
      t.names.emplace_back(v->text);
    }
    return t;
  }
  if (simple == "EnumValueSerializer") {
    // A Scala Enumeration: its values live in the enumeration object, not in the serializer's
    // fields, so the ids are shown as numbers.
    return make(Kind::kScalaEnum, cls);
  }
  if (simple == "KryoSerializer") {
    Type t = make(Kind::kKryo, cls);
    t.type_class = class_value(object_field(serializer, "type"));
    return t;
  }
  return opaque(cls);
}

LogicalType logical_type_of(const java::Node* type) {
  LogicalType l;
  l.root = "UNKNOWN";
  if (class_of(type).empty()) return l;
  l.nullable = primitive_field(type, "isNullable", 1) != 0;
  const java::Node* root = object_field(type, "typeRoot");
  std::string_view name = root != nullptr && root->kind == java::Node::Kind::kEnum ? root->text : "";
  if (name == "INTEGER") {
    l.root = "INT";
  } else if (name == "TIME_WITHOUT_TIME_ZONE") {
    l.root = "TIME";
  } else if (name == "TIMESTAMP_WITHOUT_TIME_ZONE") {
    l.root = "TIMESTAMP";
  } else if (name == "TIMESTAMP_WITH_LOCAL_TIME_ZONE") {
    l.root = "TIMESTAMP_LTZ";
  } else if (name == "TIMESTAMP_WITH_TIME_ZONE") {
    l.root = "TIMESTAMP_TZ";
  } else if (!name.empty()) {
    l.root = std::string(name);
  }
  l.precision = static_cast<int32_t>(primitive_field(type, "precision", primitive_field(type, "length", 0)));
  l.scale = static_cast<int32_t>(primitive_field(type, "scale", 0));
  if (l.root == "ROW") {
    for (const java::Node* f : list_elements(object_field(type, "fields"))) {
      const java::Node* fname = object_field(f, "name");
      l.field_names.emplace_back(fname != nullptr && fname->kind == java::Node::Kind::kString ? fname->text : "");
      l.children.push_back(logical_type_of(object_field(f, "type")));
    }
  } else if (l.root == "ARRAY" || l.root == "MULTISET") {
    l.children.push_back(logical_type_of(object_field(type, "elementType")));
  } else if (l.root == "MAP") {
    l.children.push_back(logical_type_of(object_field(type, "keyType")));
    l.children.push_back(logical_type_of(object_field(type, "valueType")));
  }
  return l;
}

}  // namespace ckpt::state
