#include "state/avro.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "util/json_text.h"

namespace ckpt::state {

namespace {

// ---- a small JSON reader for schemas ------------------------------------------------------

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  std::string text;               // string value, or number text
  std::vector<Json> items;        // array elements; object values
  std::vector<std::string> keys;  // object keys, beside their values in `items`

  const Json* get(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  std::optional<Json> document() {
    auto v = value(0);
    skip_ws();
    if (!v || i_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }

  std::optional<std::string> string() {
    if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
    std::size_t body = ++i_;
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    if (i_ >= s_.size()) return std::nullopt;
    return util::unescape_json_string(s_.substr(body, i_++ - body));
  }

  std::optional<Json> value(int depth) {
    if (depth > 64) return std::nullopt;
    skip_ws();
    if (i_ >= s_.size()) return std::nullopt;
    Json j;
    char c = s_[i_];
    if (c == '"') {
      auto s = string();
      if (!s) return std::nullopt;
      j.kind = Json::Kind::kString;
      j.text = std::move(*s);
    } else if (c == '[') {
      ++i_;
      j.kind = Json::Kind::kArray;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return j;
      }
      for (;;) {
        auto v = value(depth + 1);
        if (!v) return std::nullopt;
        j.items.push_back(std::move(*v));
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
          break;
        }
        return std::nullopt;
      }
    } else if (c == '{') {
      ++i_;
      j.kind = Json::Kind::kObject;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return j;
      }
      for (;;) {
        skip_ws();
        auto k = string();
        if (!k) return std::nullopt;
        skip_ws();
        if (i_ >= s_.size() || s_[i_] != ':') return std::nullopt;
        ++i_;
        auto v = value(depth + 1);
        if (!v) return std::nullopt;
        j.keys.push_back(std::move(*k));
        j.items.push_back(std::move(*v));
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
          break;
        }
        return std::nullopt;
      }
    } else if (s_.substr(i_, 4) == "null") {
      i_ += 4;
    } else if (s_.substr(i_, 4) == "true" || s_.substr(i_, 5) == "false") {
      j.kind = Json::Kind::kBool;
      j.text = c == 't' ? "true" : "false";
      i_ += c == 't' ? 4 : 5;
    } else {
      std::size_t start = i_;
      while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' || s_[i_] == '+' ||
                                s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
        ++i_;
      }
      if (start == i_) return std::nullopt;
      j.kind = Json::Kind::kNumber;
      j.text = std::string(s_.substr(start, i_ - start));
    }
    return j;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

// ---- the schema -----------------------------------------------------------------------------

struct AvroSchema {
  enum class Kind {
    kNull,
    kBoolean,
    kInt,
    kLong,
    kFloat,
    kDouble,
    kBytes,
    kString,
    kRecord,
    kEnum,
    kArray,
    kMap,
    kUnion,
    kFixed
  };
  Kind kind = Kind::kNull;
  std::string name;                         // named types: the full name
  std::vector<std::string> names;           // record: field names; enum: symbols
  std::vector<const AvroSchema*> children;  // record fields, array items, map values, union branches
  int64_t size = 0;                         // fixed
};

namespace {

// All nodes of one schema, owned together (named types are referenced from many places).
struct SchemaArena : AvroSchema {
  std::deque<AvroSchema> nodes;
};

class SchemaBuilder {
 public:
  explicit SchemaBuilder(SchemaArena& arena) : arena_(arena) {}

  const AvroSchema* build(const Json& j, const std::string& ns, int depth) {
    if (depth > 64) return nullptr;
    using K = AvroSchema::Kind;
    if (j.kind == Json::Kind::kString) return primitive_or_named(j.text, ns);
    if (j.kind == Json::Kind::kArray) {
      AvroSchema& u = add(K::kUnion);
      for (const Json& b : j.items) {
        const AvroSchema* c = build(b, ns, depth + 1);
        if (c == nullptr) return nullptr;
        u.children.push_back(c);
      }
      return &u;
    }
    if (j.kind != Json::Kind::kObject) return nullptr;
    const Json* type = j.get("type");
    if (type == nullptr) return nullptr;
    if (type->kind != Json::Kind::kString) return build(*type, ns, depth + 1);
    const std::string& t = type->text;
    if (t == "record" || t == "error" || t == "enum" || t == "fixed") {
      std::string full = full_name(j, ns);
      AvroSchema& n = add(t == "enum" ? K::kEnum : t == "fixed" ? K::kFixed : K::kRecord);
      n.name = full;
      named_[full] = &n;
      std::string inner_ns = full.rfind('.') == std::string::npos ? ns : full.substr(0, full.rfind('.'));
      if (n.kind == K::kEnum) {
        const Json* symbols = j.get("symbols");
        if (symbols == nullptr) return nullptr;
        for (const Json& s : symbols->items) n.names.push_back(s.text);
      } else if (n.kind == K::kFixed) {
        const Json* size = j.get("size");
        if (size == nullptr || size->kind != Json::Kind::kNumber) return nullptr;
        n.size = std::stoll(size->text);
        if (n.size < 0) return nullptr;
      } else {
        const Json* fields = j.get("fields");
        if (fields == nullptr) return nullptr;
        for (const Json& f : fields->items) {
          const Json* fname = f.get("name");
          const Json* ftype = f.get("type");
          if (fname == nullptr || ftype == nullptr) return nullptr;
          const AvroSchema* c = build(*ftype, inner_ns, depth + 1);
          if (c == nullptr) return nullptr;
          n.names.push_back(fname->text);
          n.children.push_back(c);
        }
      }
      return &n;
    }
    if (t == "array" || t == "map") {
      const Json* inner = j.get(t == "array" ? "items" : "values");
      if (inner == nullptr) return nullptr;
      AvroSchema& n = add(t == "array" ? K::kArray : K::kMap);
      const AvroSchema* c = build(*inner, ns, depth + 1);
      if (c == nullptr) return nullptr;
      n.children.push_back(c);
      return &n;
    }
    return primitive_or_named(t, ns);  // {"type": "long", "logicalType": ...}
  }

 private:
  AvroSchema& add(AvroSchema::Kind k) {
    AvroSchema& n = arena_.nodes.emplace_back();
    n.kind = k;
    return n;
  }

  static std::string full_name(const Json& j, const std::string& ns) {
    const Json* name = j.get("name");
    std::string n = name == nullptr ? std::string() : name->text;
    if (n.find('.') != std::string::npos) return n;
    const Json* own_ns = j.get("namespace");
    std::string space = own_ns != nullptr && own_ns->kind == Json::Kind::kString ? own_ns->text : ns;
    return space.empty() ? n : space + "." + n;
  }

  const AvroSchema* primitive_or_named(const std::string& t, const std::string& ns) {
    using K = AvroSchema::Kind;
    static const std::map<std::string, K, std::less<>> kPrimitives = {
        {"null", K::kNull},   {"boolean", K::kBoolean}, {"int", K::kInt},     {"long", K::kLong},
        {"float", K::kFloat}, {"double", K::kDouble},   {"bytes", K::kBytes}, {"string", K::kString}};
    if (auto it = kPrimitives.find(t); it != kPrimitives.end()) return &add(it->second);
    if (auto it = named_.find(t); it != named_.end()) return it->second;
    if (auto it = named_.find(ns + "." + t); it != named_.end()) return it->second;
    return nullptr;
  }

  SchemaArena& arena_;
  std::map<std::string, const AvroSchema*> named_;
};

uint64_t leb128(io::ByteReader& r) {
  uint64_t at = r.offset();
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t b = r.u8("Avro block count");
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  io::ByteReader::fail(at, "Avro block count longer than 10 bytes");
}

void decode(io::ByteReader& r, const AvroSchema& s, std::string* out, int depth) {
  using K = AvroSchema::Kind;
  uint64_t at = r.offset();
  if (depth > 64) io::ByteReader::fail(at, "Avro values nested deeper than 64");
  auto emit = [&](std::string_view t) {
    if (out) *out += t;
  };
  switch (s.kind) {
    case K::kNull:
      return emit("null");
    case K::kBoolean:
      return emit(r.u8("Avro boolean") != 0 ? "true" : "false");
    case K::kInt: {
      int32_t v = r.i32("Avro int");
      if (out) *out += std::to_string(v);
      return;
    }
    case K::kLong: {
      int64_t v = r.i64("Avro long");
      if (out) *out += std::to_string(v);
      return;
    }
    case K::kFloat:
    case K::kDouble: {
      double d = s.kind == K::kFloat
                     ? static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(r.i32("Avro float"))))
                     : std::bit_cast<double>(static_cast<uint64_t>(r.i64("Avro double")));
      if (!out) return;
      if (std::isfinite(d)) {
        fmt::format_to(std::back_inserter(*out), "{}", d);
      } else {
        *out += std::isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      }
      return;
    }
    case K::kBytes:
    case K::kString: {
      int32_t n = r.count("Avro length", 1);
      std::string_view b = r.bytes(static_cast<uint64_t>(n), "Avro bytes");
      if (!out) return;
      if (s.kind == K::kString) {
        util::append_json_string(*out, b);
      } else {
        util::append_json_base64(*out, b);
      }
      return;
    }
    case K::kFixed: {
      std::string_view b = r.bytes(static_cast<uint64_t>(s.size), "Avro fixed");
      if (out) util::append_json_base64(*out, b);
      return;
    }
    case K::kEnum: {
      int32_t i = r.i32("Avro enum index");
      if (i < 0 || static_cast<std::size_t>(i) >= s.names.size()) {
        io::ByteReader::fail(at, fmt::format("Avro enum index {}, but {} has {} symbols", i, s.name, s.names.size()));
      }
      if (out) util::append_json_string(*out, s.names[static_cast<std::size_t>(i)]);
      return;
    }
    case K::kUnion: {
      int32_t i = r.i32("Avro union branch");
      if (i < 0 || static_cast<std::size_t>(i) >= s.children.size()) {
        io::ByteReader::fail(at, fmt::format("Avro union branch {}, but the union has {}", i, s.children.size()));
      }
      return decode(r, *s.children[static_cast<std::size_t>(i)], out, depth + 1);
    }
    case K::kRecord: {
      emit("{");
      for (std::size_t i = 0; i < s.children.size(); ++i) {
        if (out) {
          if (i != 0) *out += ',';
          util::append_json_string(*out, s.names[i]);
          *out += ':';
        }
        decode(r, *s.children[i], out, depth + 1);
      }
      emit("}");
      return;
    }
    case K::kArray:
    case K::kMap: {
      bool map = s.kind == K::kMap;
      emit(map ? "{" : "[");
      bool first = true;
      for (;;) {
        uint64_t n = leb128(r);
        if (n == 0) break;
        r.check_fits(at, n, 1, "Avro block count");
        for (uint64_t k = 0; k < n; ++k) {
          if (out && !first) *out += ',';
          first = false;
          if (map) {
            int32_t len = r.count("Avro map key length", 1);
            std::string_view key = r.bytes(static_cast<uint64_t>(len), "Avro map key");
            if (out) {
              util::append_json_string(*out, key);
              *out += ':';
            }
          }
          decode(r, *s.children[0], out, depth + 1);
        }
      }
      emit(map ? "}" : "]");
      return;
    }
  }
}

}  // namespace

std::shared_ptr<const AvroSchema> parse_avro_schema(std::string_view json) {
  std::optional<Json> doc = JsonReader(json).document();
  if (!doc) return nullptr;
  auto arena = std::make_shared<SchemaArena>();
  SchemaBuilder b(*arena);
  const AvroSchema* top = b.build(*doc, "", 0);
  if (top == nullptr) return nullptr;
  // The arena's own node is the top's copy; its children point into the arena's nodes.
  static_cast<AvroSchema&>(*arena) = *top;
  return std::shared_ptr<const AvroSchema>(arena, static_cast<const AvroSchema*>(arena.get()));
}

void decode_avro(io::ByteReader& r, const AvroSchema& schema, std::string* out) { decode(r, schema, out, 0); }

}  // namespace ckpt::state
