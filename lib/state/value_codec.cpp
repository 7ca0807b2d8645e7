#include "state/value_codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "io/java_serialization.h"
#include "io/mutf8.h"
#include "state/avro.h"
#include "state/strings.h"
#include "util/json_text.h"

namespace ckpt::state {

using io::ByteReader;

namespace {

constexpr int kMaxDepth = 64;

// ---- text helpers -------------------------------------------------------------------------

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

std::string fraction(int64_t nanos) {
  if (nanos == 0) return {};
  if (nanos % 1000000 == 0) return fmt::format(".{:03}", nanos / 1000000);
  if (nanos % 1000 == 0) return fmt::format(".{:06}", nanos / 1000);
  return fmt::format(".{:09}", nanos);
}

// "2024-01-31T12:00:00.5" (+ "Z" when `zulu`): epoch seconds and nanoseconds, UTC.
std::string iso_instant(int64_t seconds, int64_t nanos, bool zulu) {
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t secs = seconds - days * 86400;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}", y, m, d, secs / 3600, secs / 60 % 60, secs % 60,
                     fraction(nanos), zulu ? "Z" : "");
}

std::string iso_from_millis(int64_t millis, int64_t extra_nanos, bool zulu) {
  int64_t seconds = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000);
  int64_t ms = millis - seconds * 1000;
  return iso_instant(seconds, ms * 1000000 + extra_nanos, zulu);
}

void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

// A two's complement big-endian integer as decimal text.
std::string big_integer_text(std::string_view be) {
  if (be.empty()) return "0";
  bool negative = (static_cast<unsigned char>(be[0]) & 0x80) != 0;
  std::vector<uint8_t> mag(be.begin(), be.end());
  if (negative) {  // magnitude = two's complement negation
    for (auto& b : mag) b = static_cast<uint8_t>(~b);
    for (std::size_t i = mag.size(); i-- > 0;) {
      if (++mag[i] != 0) break;
    }
  }
  std::string digits;
  std::size_t start = 0;
  while (start < mag.size()) {
    unsigned rem = 0;
    for (std::size_t i = start; i < mag.size(); ++i) {
      unsigned cur = (rem << 8) | mag[i];
      mag[i] = static_cast<uint8_t>(cur / 10);
      rem = cur % 10;
    }
    digits += static_cast<char>('0' + rem);
    while (start < mag.size() && mag[start] == 0) ++start;
  }
  if (digits.empty()) digits = "0";
  if (negative) digits += '-';
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Decimal text of unscaled * 10^-scale.
std::string scaled_text(std::string unscaled, int32_t scale) {
  if (scale <= 0) {
    if (unscaled != "0")
      unscaled.append(static_cast<std::size_t>(std::min(-static_cast<int64_t>(scale), int64_t{4096})), '0');
    return unscaled;
  }
  bool negative = !unscaled.empty() && unscaled[0] == '-';
  std::string digits = negative ? unscaled.substr(1) : unscaled;
  auto s = static_cast<std::size_t>(std::min(scale, 4096));
  if (digits.size() <= s) digits.insert(0, s - digits.size() + 1, '0');
  digits.insert(digits.size() - s, ".");
  return negative ? "-" + digits : digits;
}

// ---- Kryo ---------------------------------------------------------------------------------

uint64_t kryo_varint(ByteReader& r, int max_bytes) {
  uint64_t v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    uint8_t b = r.u8("Kryo variable-length number");
    if (i == 8) return v | (static_cast<uint64_t>(b) << 56);  // the 9th byte of a var-long has 8 bits
    v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  return v;
}

int64_t zigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Kryo's writeString: ASCII with the last byte's high bit set, or a flagged UTF-8 char count.
std::optional<std::string> kryo_string(ByteReader& r) {
  uint64_t at = r.offset();
  uint8_t first = r.u8("Kryo string");
  if ((first & 0x80) == 0) {  // ASCII: up to the byte with the high bit
    std::string s(1, static_cast<char>(first));
    for (;;) {
      uint8_t b = r.u8("Kryo ASCII string");
      if (b & 0x80) {
        s += static_cast<char>(b & 0x7F);
        return s;
      }
      s += static_cast<char>(b);
    }
  }
  // Length: 6 bits in the first byte, 0x40 = more, then 7-bit groups.
  uint64_t count = first & 0x3F;
  if (first & 0x40) {
    int shift = 6;
    for (;;) {
      uint8_t b = r.u8("Kryo string length");
      count |= static_cast<uint64_t>(b & 0x7F) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
      if (shift > 34) ByteReader::fail(at, "Kryo string length longer than 5 bytes");
    }
  }
  if (count == 0) return std::nullopt;
  uint64_t chars = count - 1;
  r.check_fits(at, chars, 1, "Kryo string length");
  std::string s;
  for (uint64_t i = 0; i < chars; ++i) {
    uint8_t b = r.u8("Kryo string");
    switch (b >> 4) {
      case 12:
      case 13: {
        uint8_t b2 = r.u8("Kryo string");
        uint32_t c = ((b & 0x1F) << 6) | (b2 & 0x3F);
        s += static_cast<char>(0xC0 | (c >> 6));
        s += static_cast<char>(0x80 | (c & 0x3F));
        break;
      }
      case 14: {
        uint8_t b2 = r.u8("Kryo string"), b3 = r.u8("Kryo string");
        uint32_t c = ((b & 0x0F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F);
        s += static_cast<char>(0xE0 | (c >> 12));
        s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (c & 0x3F));
        break;
      }
      default:
        s += static_cast<char>(b);
        break;
    }
  }
  return s;
}

// ---- the walker ---------------------------------------------------------------------------

// Reads values; writes JSON when `out` is set (decode_value) and nothing when it is not
// (skip_value), so that decoding and stepping over can never disagree on an extent.
// A Java-serialized object as JSON, where its classes say what it means without the job's code:
// strings, enum constants, boxed primitives, Flink tuples (arrays of their fields), arrays of
// objects, and other objects by field name. False (and `out` unchanged) for anything else: objects
// that wrote custom data (writeObject), primitive arrays, classes.
bool java_json(const io::java::Node* n, std::string& out, int depth = 0) {
  using io::java::Node;
  if (depth > io::java::kMaxDepth) return false;
  if (n == nullptr) {
    out += "null";
    return true;
  }
  const std::size_t mark = out.size();
  auto fail = [&] {
    out.resize(mark);
    return false;
  };
  switch (n->kind) {
    case Node::Kind::kString:
    case Node::Kind::kEnum:
      util::append_json_string(out, io::lenient_mutf8_to_utf8(n->text));
      return true;
    case Node::Kind::kArray: {
      if (n->desc == nullptr || n->desc->text.size() < 2 || (n->desc->text[1] != 'L' && n->desc->text[1] != '[')) {
        return false;  // primitive arrays keep their values as raw data
      }
      out += '[';
      for (std::size_t i = 0; i < n->elements.size(); ++i) {
        if (i != 0) out += ',';
        if (!java_json(n->elements[i], out, depth + 1)) return fail();
      }
      out += ']';
      return true;
    }
    case Node::Kind::kObject:
      break;
    default:
      return false;
  }
  if (!n->annotations.empty() || n->desc == nullptr) return false;
  std::string_view cls = n->desc->text;
  auto primitive = [&](const io::java::Value& v) {
    switch (v.field->type) {
      case 'Z':
        out += v.primitive != 0 ? "true" : "false";
        return true;
      case 'C': {
        std::string c;
        util::append_utf8(c, static_cast<uint16_t>(v.primitive));
        util::append_json_string(out, c);
        return true;
      }
      case 'F':
        append_double(out, static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(v.primitive))));
        return true;
      case 'D':
        append_double(out, std::bit_cast<double>(static_cast<uint64_t>(v.primitive)));
        return true;
      case 'L':
      case '[':
        return java_json(v.object, out, depth + 1);
      default:  // B S I J
        fmt::format_to(std::back_inserter(out), "{}", v.primitive);
        return true;
    }
  };
  static constexpr std::string_view kBoxes[] = {"java.lang.Long",    "java.lang.Integer",  "java.lang.Short",
                                                "java.lang.Byte",    "java.lang.Double",   "java.lang.Float",
                                                "java.lang.Boolean", "java.lang.Character"};
  bool boxed = std::find(std::begin(kBoxes), std::end(kBoxes), cls) != std::end(kBoxes);
  if (boxed && n->values.size() == 1) return primitive(n->values[0]) || fail();
  bool tuple = cls.starts_with("org.apache.flink.api.java.tuple.Tuple");
  out += tuple ? '[' : '{';
  for (std::size_t i = 0; i < n->values.size(); ++i) {
    if (i != 0) out += ',';
    if (!tuple) {
      util::append_json_string(out, io::lenient_mutf8_to_utf8(n->values[i].field->name));
      out += ':';
    }
    if (!primitive(n->values[i])) return fail();
  }
  out += tuple ? ']' : '}';
  return true;
}

class Walker {
 public:
  Walker(ByteReader& r, std::string* out) : r_(r), out_(out) {}

  void value(const Type& t, int depth = 0) {
    uint64_t at = r_.offset();
    if (depth > kMaxDepth) ByteReader::fail(at, fmt::format("values nested deeper than {}", kMaxDepth));
    switch (t.kind) {
      case Kind::kBoolean:
        emit(r_.u8("boolean") != 0 ? "true" : "false");
        return;
      case Kind::kByte:
        number(r_.i8("byte"));
        return;
      case Kind::kShort:
        number(static_cast<int16_t>(r_.u16("short")));
        return;
      case Kind::kChar:
        char_value(r_.u16("char"));
        return;
      case Kind::kInt:
        number(r_.i32("int"));
        return;
      case Kind::kLong:
        number(r_.i64("long"));
        return;
      case Kind::kFloat: {
        float f = std::bit_cast<float>(static_cast<uint32_t>(r_.i32("float")));
        if (out_) append_double(*out_, static_cast<double>(f));
        return;
      }
      case Kind::kDouble: {
        double d = std::bit_cast<double>(static_cast<uint64_t>(r_.i64("double")));
        if (out_) append_double(*out_, d);
        return;
      }
      case Kind::kString:
        string_value();
        return;
      case Kind::kVoid:
      case Kind::kVoidNamespace:
        r_.u8("void");
        emit("null");
        return;
      case Kind::kTimeWindow: {
        int64_t start = r_.i64("window start"), end = r_.i64("window end");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"start\":{},\"end\":{}}}", start, end);
        return;
      }
      case Kind::kCountWindow: {
        int64_t id = r_.i64("window id");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"id\":{}}}", id);
        return;
      }
      case Kind::kPrimitiveArray:
        primitive_array(t);
        return;
      case Kind::kStringArray: {
        int32_t n = r_.count("string array length", 1);
        open('[');
        for (int32_t i = 0; i < n; ++i) {
          comma(i);
          string_value();
        }
        close(']');
        return;
      }
      case Kind::kBigInteger: {
        std::optional<std::string> v = big_integer();
        emit_text_or_null(v, false);
        return;
      }
      case Kind::kBigDecimal: {
        std::optional<std::string> unscaled = big_integer();
        if (!unscaled) {
          emit("null");
          return;
        }
        int32_t scale = r_.i32("decimal scale");
        emit_text_or_null(scaled_text(*unscaled, scale), true);
        return;
      }
      case Kind::kDate: {
        int64_t ms = r_.i64("date");
        if (ms == INT64_MIN) return emit("null");
        return emit_string(iso_from_millis(ms, 0, true));
      }
      case Kind::kSqlTimestamp: {
        int64_t ms = r_.i64("timestamp millis");
        int32_t nanos = r_.i32("timestamp nanos");
        if (ms == INT64_MIN) return emit("null");
        // java.sql.Timestamp keeps the nanos of the second; the millis already hold the ms part.
        return emit_string(iso_from_millis(ms - (ms % 1000 + 1000) % 1000, nanos, true));
      }
      case Kind::kInstant: {
        int64_t s = r_.i64("instant seconds");
        int32_t n = r_.i32("instant nanos");
        if (s == INT64_MIN && n == INT32_MIN) return emit("null");
        return emit_string(iso_instant(s, n, true));
      }
      case Kind::kLocalDate: {
        int32_t y = r_.i32("year");
        int8_t m = r_.i8("month"), d = r_.i8("day");
        if (y == INT32_MIN) return emit("null");
        return emit_string(fmt::format("{:04}-{:02}-{:02}", y, m, d));
      }
      case Kind::kLocalTime:
        return emit_local_time(true);
      case Kind::kLocalDateTime: {
        int32_t y = r_.i32("year");
        int8_t m = r_.i8("month"), d = r_.i8("day");
        if (y == INT32_MIN) {
          r_.i8("hour"), r_.i8("minute"), r_.i8("second"), r_.i32("nano");
          return emit("null");
        }
        std::string date = fmt::format("{:04}-{:02}-{:02}T", y, m, d);
        int8_t h = r_.i8("hour"), mi = r_.i8("minute"), s = r_.i8("second");
        int32_t n = r_.i32("nano");
        return emit_string(date + fmt::format("{:02}:{:02}:{:02}{}", h, mi, s, fraction(n)));
      }
      case Kind::kEnum: {
        int32_t i = r_.i32("enum index");
        if (i < 0 || static_cast<std::size_t>(i) >= t.names.size()) {
          ByteReader::fail(at, fmt::format("enum index {}, but {} has {} constants", i, t.type_class, t.names.size()));
        }
        return emit_string(t.names[static_cast<std::size_t>(i)]);
      }
      case Kind::kScalaEnum: {
        int32_t id = r_.i32("enum id");
        if (t.ids.empty()) return number(id);  // the names were not recorded (Flink <= 1.7)
        for (std::size_t i = 0; i < t.ids.size(); ++i) {
          if (t.ids[i] == id) return emit_string(t.names[i]);
        }
        ByteReader::fail(at, fmt::format("enum id {} is not one of {}'s {} values", id, t.type_class, t.ids.size()));
      }
      case Kind::kTuple: {
        open('[');
        for (std::size_t i = 0; i < t.children.size(); ++i) {
          comma(i);
          value(t.children[i], depth + 1);
        }
        close(']');
        return;
      }
      case Kind::kPojo:
        return pojo(t, depth);
      case Kind::kRow:
        return row(t, depth);
      case Kind::kList: {
        int32_t n = r_.count("list length", 0);
        open('[');
        for (int32_t i = 0; i < n; ++i) {
          comma(i);
          value(t.child(0), depth + 1);
        }
        close(']');
        return;
      }
      case Kind::kMap:
        return map(t, depth);
      case Kind::kGenericArray:
      case Kind::kTraversable: {
        int32_t n = r_.count("array length", 1);
        open('[');
        for (int32_t i = 0; i < n; ++i) {
          comma(i);
          if (r_.u8("element present") != 0) {
            value(t.child(0), depth + 1);
          } else {
            emit("null");
          }
        }
        close(']');
        return;
      }
      case Kind::kOption:
        if (r_.u8("option defined") != 0) return value(t.child(0), depth + 1);
        return emit("null");
      case Kind::kEither: {
        bool left = r_.u8("either side") != 0;
        emit(left ? "{\"left\":" : "{\"right\":");
        value(t.child(left ? 0 : 1), depth + 1);
        emit("}");
        return;
      }
      case Kind::kTry: {
        if (r_.u8("try success") != 0) {
          emit("{\"success\":");
          value(t.child(0), depth + 1);
        } else {
          emit("{\"failure\":");
          kryo(Type{}, depth + 1);
        }
        emit("}");
        return;
      }
      case Kind::kNullable: {
        if (r_.u8("null flag") != 0) {
          r_.bytes(static_cast<uint64_t>(std::max(t.a, 0)), "null padding");
          return emit("null");
        }
        return value(t.child(0), depth + 1);
      }
      case Kind::kTimer: {
        int64_t ts = static_cast<int64_t>(static_cast<uint64_t>(r_.i64("timer timestamp")) ^ 0x8000000000000000ULL);
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"timestamp\":{},\"key\":", ts);
        value(t.child(0), depth + 1);
        emit(",\"namespace\":");
        value(t.child(1), depth + 1);
        emit("}");
        return;
      }
      case Kind::kTtl: {
        int64_t ts = r_.i64("TTL last access");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"lastAccess\":{},\"value\":", ts);
        value(t.child(1), depth + 1);
        emit("}");
        return;
      }
      case Kind::kRowData:
        return row_data(t, depth);
      case Kind::kStringData: {
        int32_t n = r_.count("string length", 1);
        emit_string(std::string(r_.bytes(static_cast<uint64_t>(n), "string")));
        return;
      }
      case Kind::kTimestampData: {
        int64_t ms = r_.i64("timestamp millis");
        int32_t nanos = t.a <= 3 ? 0 : r_.i32("timestamp nanos of millisecond");
        return emit_string(iso_from_millis(ms, nanos, false));
      }
      case Kind::kDecimalData: {
        if (t.a <= 18) return emit_string(scaled_text(fmt::format("{}", r_.i64("decimal")), t.b));
        int32_t n = r_.count("decimal length", 1);
        return emit_string(scaled_text(big_integer_text(r_.bytes(static_cast<uint64_t>(n), "decimal")), t.b));
      }
      case Kind::kRawValue: {
        int32_t n = r_.count("raw value length", 1);
        uint64_t inner_at = r_.offset();
        std::string_view bytes = r_.bytes(static_cast<uint64_t>(n), "raw value");
        if (out_) decode_delimited(bytes, inner_at, t.child(0), *out_);
        return;
      }
      case Kind::kExternal:
        return value(t.child(0), depth + 1);
      case Kind::kBinaryRow: {
        int32_t n = r_.count("row length", 1);
        std::string_view bytes = r_.bytes(static_cast<uint64_t>(n), "row");
        if (out_) opaque_json(t.snapshot_class, bytes);
        return;
      }
      case Kind::kLinkedList: {
        int32_t n = r_.count("list length", 0);
        std::string_view mask;
        if (t.flag) mask = r_.bytes((static_cast<uint64_t>(n) + 7) / 8, "null mask");
        open('[');
        for (int32_t i = 0; i < n; ++i) {
          comma(i);
          bool null = t.flag && (static_cast<unsigned char>(mask[static_cast<std::size_t>(i / 8)]) & (0x80 >> (i % 8)));
          if (null) {
            emit("null");
          } else {
            value(t.child(0), depth + 1);
          }
        }
        close(']');
        return;
      }
      case Kind::kWindowKey: {
        int64_t window = r_.i64("window");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"window\":{},\"key\":", window);
        value(t.child(0), depth + 1);
        emit("}");
        return;
      }
      case Kind::kStreamElement:
        return stream_element(t, depth);
      case Kind::kKryo:
        return kryo(t, depth);
      case Kind::kJava:
        return java_value();
      case Kind::kEventId: {
        int32_t id = r_.i32("event id");
        int64_t ts = r_.i64("event timestamp");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"id\":{},\"timestamp\":{}}}", id, ts);
        return;
      }
      case Kind::kNodeId:
        return node_id();
      case Kind::kDeweyNumber:
        return dewey();
      case Kind::kLockable: {
        int32_t refs = r_.i32("reference counter");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"refCounter\":{},\"element\":", refs);
        value(t.child(0), depth + 1);
        emit("}");
        return;
      }
      case Kind::kSharedBufferEdge: {
        emit("{\"target\":");
        node_id();
        emit(",\"version\":");
        dewey();
        emit("}");
        return;
      }
      case Kind::kSharedBufferNode: {
        int32_t n = r_.count("number of edges", 4);
        open('[');
        for (int32_t i = 0; i < n; ++i) {
          comma(i);
          int32_t refs = r_.i32("edge reference counter");
          if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"refCounter\":{},\"target\":", refs);
          node_id();
          emit(",\"version\":");
          dewey();
          emit("}");
        }
        close(']');
        return;
      }
      case Kind::kNfaState:
        return nfa_state(t);
      case Kind::kAvro:
        if (t.avro) return decode_avro(r_, *t.avro, out_);
        break;
      case Kind::kOpaque:
        break;
    }
    throw UndecodableValue(at, t.snapshot_class.empty() ? type_name(t) : t.snapshot_class);
  }

 private:
  void emit(std::string_view s) {
    if (out_) *out_ += s;
  }
  void open(char c) {
    if (out_) *out_ += c;
  }
  void close(char c) {
    if (out_) *out_ += c;
  }
  template <typename I>
  void comma(I i) {
    if (out_ && i != 0) *out_ += ',';
  }
  template <typename N>
  void number(N v) {
    if (out_) fmt::format_to(std::back_inserter(*out_), "{}", v);
  }
  void emit_string(const std::string& s) {
    if (out_) util::append_json_string(*out_, s);
  }
  void emit_text_or_null(const std::optional<std::string>& v, bool quoted) {
    if (!out_) return;
    if (!v) {
      *out_ += "null";
    } else if (quoted) {
      util::append_json_string(*out_, *v);
    } else {
      *out_ += *v;
    }
  }
  void char_value(uint16_t c) {
    if (!out_) return;
    std::string s;
    util::append_utf8(s, c);
    util::append_json_string(*out_, s);
  }
  void string_value() {
    if (!out_) return skip_string_value(r_, "string");
    std::optional<std::string> s = read_string_value(r_, "string");
    if (!s) {
      *out_ += "null";
    } else {
      util::append_json_string(*out_, *s);
    }
  }
  void opaque_json(std::string_view serializer, std::string_view bytes) {
    if (!out_) return;
    *out_ += "{\"opaque\":";
    util::append_json_string(*out_, serializer);
    *out_ += ",\"base64\":";
    util::append_json_base64(*out_, bytes);
    *out_ += '}';
  }

  void emit_local_time(bool allow_null) {
    int8_t h = r_.i8("hour");
    if (allow_null && h == INT8_MIN) {
      r_.u16("minute and second");
      r_.i32("nano");
      return emit("null");
    }
    int8_t m = r_.i8("minute"), s = r_.i8("second");
    int32_t n = r_.i32("nano");
    emit_string(fmt::format("{:02}:{:02}:{:02}{}", h, m, s, fraction(n)));
  }

  // BigIntSerializer: i32 m; 0 null, 1 ZERO, 2 ONE, 3 TEN, else m-4 bytes.
  std::optional<std::string> big_integer() {
    uint64_t at = r_.offset();
    int32_t m = r_.i32("big integer length");
    switch (m) {
      case 0:
        return std::nullopt;
      case 1:
        return "0";
      case 2:
        return "1";
      case 3:
        return "10";
      default:
        break;
    }
    if (m < 0) ByteReader::fail(at, fmt::format("big integer length {}, expected >= 0", m));
    std::string_view bytes = r_.bytes(static_cast<uint64_t>(m - 4), "big integer");
    return out_ ? big_integer_text(bytes) : std::string();
  }

  void primitive_array(const Type& t) {
    uint64_t at = r_.offset();
    const Type& e = t.child(0);
    int32_t size = fixed_length(e);
    int32_t n = r_.count("array length", static_cast<std::size_t>(std::max(size, 1)));
    if (e.kind == Kind::kByte) {
      std::string_view bytes = r_.bytes(static_cast<uint64_t>(n), "byte array");
      if (out_) util::append_json_base64(*out_, bytes);
      return;
    }
    (void)at;
    open('[');
    for (int32_t i = 0; i < n; ++i) {
      comma(i);
      value(e, 1);
    }
    close(']');
  }

  void pojo(const Type& t, int depth) {
    uint64_t at = r_.offset();
    uint8_t flags = r_.u8("POJO flags");
    if (flags & 0x01) return emit("null");
    if (flags & 0x02) {
      open('{');
      for (std::size_t i = 0; i < t.children.size(); ++i) {
        comma(i);
        if (out_) {
          util::append_json_string(*out_, i < t.names.size() ? t.names[i] : fmt::format("field{}", i));
          *out_ += ':';
        }
        if (r_.u8("POJO field null flag") != 0) {
          emit("null");
        } else {
          value(t.children[i], depth + 1);
        }
      }
      close('}');
      return;
    }
    // A subclass: its serializer (Kryo, or a registered POJO whose snapshot is not kept here).
    throw UndecodableValue(at, fmt::format("a subclass of {}", t.type_class));
  }

  void row(const Type& t, int depth) {
    std::size_t arity = t.children.size();
    std::size_t bits = arity + (t.flag ? 2 : 0);
    std::string_view mask = r_.bytes((bits + 7) / 8, "row null mask");
    auto bit = [&](std::size_t i) { return (static_cast<unsigned char>(mask[i / 8]) & (0x80 >> (i % 8))) != 0; };
    if (t.flag) {
      int kind = (bit(0) ? 1 : 0) | (bit(1) ? 2 : 0);
      static constexpr std::string_view kKinds[] = {"+I", "-U", "+U", "-D"};
      emit("{\"kind\":\"");
      emit(kKinds[kind]);
      emit("\",\"fields\":");
    }
    open('[');
    for (std::size_t i = 0; i < arity; ++i) {
      comma(i);
      if (bit(i + (t.flag ? 2 : 0))) {
        emit("null");
      } else {
        value(t.children[i], depth + 1);
      }
    }
    close(']');
    if (t.flag) emit("}");
  }

  void map(const Type& t, int depth) {
    int32_t n = r_.count("map size", 2);
    bool string_keys = t.child(0).kind == Kind::kString;
    open(string_keys ? '{' : '[');
    for (int32_t i = 0; i < n; ++i) {
      comma(i);
      if (!string_keys) emit("[");
      value(t.child(0), depth + 1);
      emit(string_keys ? ":" : ",");
      if (r_.u8("map value null flag") != 0) {
        emit("null");
      } else {
        value(t.child(1), depth + 1);
      }
      if (!string_keys) emit("]");
    }
    close(string_keys ? '}' : ']');
  }

  // RowDataSerializer: i32 size + a BinaryRowData (little-endian, spec §5.7).
  void row_data(const Type& t, int depth) {
    int32_t size = r_.count("row length", 1);
    uint64_t row_at = r_.offset();
    std::string_view row = r_.bytes(static_cast<uint64_t>(size), "row");
    if (!out_) return;
    std::size_t arity = t.logical.size();
    std::size_t null_bytes = (arity + 63 + 8) / 64 * 8;
    if (row.size() < null_bytes + 8 * arity) {
      ByteReader::fail(row_at, fmt::format("row of {} bytes, but {} fields need at least {}", row.size(), arity,
                                           null_bytes + 8 * arity));
    }
    auto le = [&](std::size_t off, int n) {
      uint64_t v = 0;
      for (int k = n - 1; k >= 0; --k)
        v = (v << 8) | static_cast<unsigned char>(row[off + static_cast<std::size_t>(k)]);
      return v;
    };
    static constexpr std::string_view kKinds[] = {"+I", "-U", "+U", "-D"};
    auto kind = static_cast<unsigned char>(row[0]);
    *out_ += "{\"kind\":";
    util::append_json_string(*out_, kind < 4 ? kKinds[kind] : std::string_view("?"));
    *out_ += ",\"fields\":";
    bool named = t.names.size() == arity;
    *out_ += named ? '{' : '[';
    for (std::size_t i = 0; i < arity; ++i) {
      if (i != 0) *out_ += ',';
      if (named) {
        util::append_json_string(*out_, t.names[i]);
        *out_ += ':';
      }
      std::size_t bit = i + 8;
      bool null = (static_cast<unsigned char>(row[bit / 8]) >> (bit % 8)) & 1;
      if (null) {
        *out_ += "null";
        continue;
      }
      std::size_t off = null_bytes + 8 * i;
      row_field(t.logical[i], row, off, le, row_at, depth);
    }
    *out_ += named ? '}' : ']';
    *out_ += '}';
  }

  template <typename Le>
  void row_field(const LogicalType& l, std::string_view row, std::size_t off, const Le& le, uint64_t row_at, int) {
    const std::string& root = l.root;
    auto var_part = [&]() -> std::string_view {
      uint64_t word = le(off, 8);
      if (word & 0x8000000000000000ULL) {  // inline: length in the top byte's low 7 bits
        auto len = static_cast<std::size_t>((word >> 56) & 0x7F);
        return row.substr(off, std::min<std::size_t>(len, 7));
      }
      auto pos = static_cast<std::size_t>(word >> 32);
      auto len = static_cast<std::size_t>(word & 0xFFFFFFFF);
      if (pos > row.size() || len > row.size() - pos) {
        ByteReader::fail(row_at + off, fmt::format("{} field points at bytes {}..{} of a {}-byte row", root, pos,
                                                   pos + len, row.size()));
      }
      return row.substr(pos, len);
    };
    if (root == "BOOLEAN") {
      *out_ += row[off] != 0 ? "true" : "false";
    } else if (root == "TINYINT") {
      fmt::format_to(std::back_inserter(*out_), "{}", static_cast<int8_t>(row[off]));
    } else if (root == "SMALLINT") {
      fmt::format_to(std::back_inserter(*out_), "{}", static_cast<int16_t>(le(off, 2)));
    } else if (root == "INT") {
      fmt::format_to(std::back_inserter(*out_), "{}", static_cast<int32_t>(le(off, 4)));
    } else if (root == "DATE") {
      int64_t y = 0;
      unsigned m = 0, d = 0;
      civil_from_days(static_cast<int32_t>(le(off, 4)), y, m, d);
      util::append_json_string(*out_, fmt::format("{:04}-{:02}-{:02}", y, m, d));
    } else if (root == "TIME") {
      auto ms = static_cast<int32_t>(le(off, 4));
      util::append_json_string(*out_, fmt::format("{:02}:{:02}:{:02}{}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                                                  fraction(static_cast<int64_t>(ms % 1000) * 1000000)));
    } else if (root == "BIGINT" || root == "INTERVAL_DAY_TIME") {
      fmt::format_to(std::back_inserter(*out_), "{}", static_cast<int64_t>(le(off, 8)));
    } else if (root == "INTERVAL_YEAR_MONTH") {
      fmt::format_to(std::back_inserter(*out_), "{}", static_cast<int32_t>(le(off, 4)));
    } else if (root == "FLOAT") {
      append_double(*out_, static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(le(off, 4)))));
    } else if (root == "DOUBLE") {
      append_double(*out_, std::bit_cast<double>(le(off, 8)));
    } else if (root == "CHAR" || root == "VARCHAR") {
      util::append_json_string(*out_, var_part());
    } else if (root == "BINARY" || root == "VARBINARY") {
      util::append_json_base64(*out_, var_part());
    } else if (root == "TIMESTAMP" || root == "TIMESTAMP_LTZ") {
      if (l.precision <= 3) {
        util::append_json_string(*out_, iso_from_millis(static_cast<int64_t>(le(off, 8)), 0, root == "TIMESTAMP_LTZ"));
      } else {
        uint64_t word = le(off, 8);
        auto pos = static_cast<std::size_t>(word >> 32);
        if (pos > row.size() || row.size() - pos < 8) {
          ByteReader::fail(row_at + off, fmt::format("timestamp points at byte {} of a {}-byte row", pos, row.size()));
        }
        util::append_json_string(
            *out_, iso_from_millis(static_cast<int64_t>(le(pos, 8)), static_cast<int64_t>(word & 0xFFFFFFFF),
                                   root == "TIMESTAMP_LTZ"));
      }
    } else if (root == "DECIMAL") {
      if (l.precision <= 18) {
        util::append_json_string(*out_, scaled_text(fmt::format("{}", static_cast<int64_t>(le(off, 8))), l.scale));
      } else {
        util::append_json_string(*out_, scaled_text(big_integer_text(var_part()), l.scale));
      }
    } else {
      // Nested rows, arrays, maps, RAW: their bytes, named by type.
      *out_ += "{\"opaque\":";
      util::append_json_string(*out_, root);
      *out_ += ",\"base64\":";
      util::append_json_base64(*out_, var_part());
      *out_ += '}';
    }
  }

  void stream_element(const Type& t, int depth) {
    uint64_t at = r_.offset();
    uint8_t tag = r_.u8("stream element tag");
    switch (tag) {
      case 0: {
        int64_t ts = r_.i64("record timestamp");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"record\":", ts);
        value(t.child(0), depth + 1);
        if (out_) fmt::format_to(std::back_inserter(*out_), ",\"timestamp\":{}}}", ts);
        return;
      }
      case 1:
        emit("{\"record\":");
        value(t.child(0), depth + 1);
        emit("}");
        return;
      case 2: {
        int64_t wm = r_.i64("watermark");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"watermark\":{}}}", wm);
        return;
      }
      case 6: {
        int32_t sub = r_.i32("subpartition");
        int64_t wm = r_.i64("watermark");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"watermark\":{},\"subpartition\":{}}}", wm, sub);
        return;
      }
      case 3: {
        int64_t a = r_.i64("latency marker time"), b = r_.i64("latency marker operator"),
                c = r_.i64("latency marker operator");
        int32_t d = r_.i32("latency marker subtask");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"latencyMarker\":[{},{},{},{}]}}", a, b, c, d);
        return;
      }
      case 4: {
        int32_t s = r_.i32("watermark status");
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"watermarkStatus\":{}}}", s);
        return;
      }
      case 5: {
        bool backlog = r_.u8("record attributes") != 0;
        if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"recordAttributes\":{{\"backlog\":{}}}}}", backlog);
        return;
      }
      default:
        ByteReader::fail(at, fmt::format("stream element tag {}, expected 0 to 6", tag));
    }
  }

  // Kryo's writeClassAndObject with Flink's settings (spec §5.9): only Kryo's own classes decode.
  void kryo(const Type& t, int depth) {
    uint64_t at = r_.offset();
    uint64_t id = kryo_varint(r_, 5);
    if (id == 0) return emit("null");
    std::string name = t.type_class.empty() ? "Kryo" : "Kryo(" + t.type_class + ")";
    if (id == 1) {
      // A class by name: its id in this value, the name on first use, a reference marker, then
      // the class's serializer. Flink registers Java serialization for Throwables; nothing else
      // decodes without the class.
      kryo_varint(r_, 5);
      std::optional<std::string> cls = kryo_string(r_);
      kryo_varint(r_, 5);  // reference marker
      if (r_.remaining() >= 4 && r_.rest().substr(0, 4) == std::string_view("\xAC\xED\x00\x05", 4)) {
        if (out_) {
          *out_ += "{\"class\":";
          util::append_json_string(*out_, cls.value_or(""));
          *out_ += ",\"java\":";
        }
        java_value();
        emit("}");
        return;
      }
      throw UndecodableValue(at, name + " holding " + cls.value_or("a class by name"));
    }
    switch (id - 2) {
      case 0:
        number(static_cast<int32_t>(zigzag(kryo_varint(r_, 5))));
        return;
      case 1: {
        kryo_varint(r_, 5);  // reference marker
        std::optional<std::string> s = kryo_string(r_);
        if (!out_) return;
        if (s) {
          util::append_json_string(*out_, *s);
        } else {
          *out_ += "null";
        }
        return;
      }
      case 2:
        value(basic(Kind::kFloat), depth + 1);
        return;
      case 3:
        value(basic(Kind::kBoolean), depth + 1);
        return;
      case 4:
        value(basic(Kind::kByte), depth + 1);
        return;
      case 5:
        value(basic(Kind::kChar), depth + 1);
        return;
      case 6:
        value(basic(Kind::kShort), depth + 1);
        return;
      case 7:
        number(zigzag(kryo_varint(r_, 9)));
        return;
      case 8:
        value(basic(Kind::kDouble), depth + 1);
        return;
      case 9:
        emit("null");
        return;
      default:
        break;
    }
    throw UndecodableValue(at, fmt::format("{} holding registered class {}", name, id - 2));
  }

  void java_value() {
    uint64_t at = r_.offset();
    io::java::ObjectTree tree;
    try {
      tree = io::java::parse_first_object(r_.rest());
    } catch (const io::DecodeError& e) {
      ByteReader::fail(at + e.offset(), "Java-serialized value: " + e.message());
    }
    std::string_view bytes = r_.bytes(tree.length, "Java-serialized value");
    if (!out_) return;
    *out_ += "{\"javaClass\":";
    std::string_view cls = tree.top == nullptr                               ? "null"
                           : tree.top->desc != nullptr                       ? tree.top->desc->text
                           : tree.top->kind == io::java::Node::Kind::kString ? "java.lang.String"
                                                                             : io::java::kind_name(*tree.top);
    util::append_json_string(*out_, cls);
    *out_ += ",\"base64\":";
    util::append_json_base64(*out_, bytes);
    std::string value;
    if (java_json(tree.top, value)) *out_ += ",\"value\":" + value;
    *out_ += '}';
  }

  void node_id() {
    if (r_.u8("node id present") == 0) return emit("null");
    int32_t id = r_.i32("event id");
    int64_t ts = r_.i64("event timestamp");
    if (out_)
      fmt::format_to(std::back_inserter(*out_), "{{\"eventId\":{{\"id\":{},\"timestamp\":{}}},\"pageName\":", id, ts);
    string_value();
    emit("}");
  }

  void dewey() {
    int32_t n = r_.count("Dewey number length", 4);
    std::string s;
    for (int32_t i = 0; i < n; ++i) {
      int32_t d = r_.i32("Dewey digit");
      if (out_) s += (i != 0 ? "." : "") + std::to_string(d);
    }
    emit_string(s);
  }

  void nfa_state(const Type& t) {
    emit("{");
    for (int list = 0; list < 2; ++list) {
      emit(list == 0 ? "\"partialMatches\":[" : ",\"completedMatches\":[");
      int32_t n = r_.count("number of computation states", 4);
      for (int32_t i = 0; i < n; ++i) {
        comma(i);
        emit("{\"state\":");
        string_value();
        emit(",\"previousEntry\":");
        node_id();
        emit(",\"version\":");
        dewey();
        int64_t start = r_.i64("start timestamp");
        if (out_) fmt::format_to(std::back_inserter(*out_), ",\"startTimestamp\":{}", start);
        if (t.flag) {
          int64_t prev = r_.i64("previous timestamp");
          if (out_) fmt::format_to(std::back_inserter(*out_), ",\"previousTimestamp\":{}", prev);
        }
        emit(",\"startEvent\":");
        if (r_.u8("start event present") != 0) {
          int32_t id = r_.i32("event id");
          int64_t ts = r_.i64("event timestamp");
          if (out_) fmt::format_to(std::back_inserter(*out_), "{{\"id\":{},\"timestamp\":{}}}", id, ts);
        } else {
          emit("null");
        }
        emit("}");
      }
      emit("]");
    }
    emit("}");
  }

  ByteReader& r_;
  std::string* out_;
};

}  // namespace

void decode_value(ByteReader& r, const Type& t, std::string& out) { Walker(r, &out).value(t); }

void skip_value(ByteReader& r, const Type& t) { Walker(r, nullptr).value(t); }

bool decode_delimited(std::string_view bytes, uint64_t base, const Type& t, std::string& out, std::string* problem) {
  std::size_t mark = out.size();
  ByteReader r(bytes, base);
  std::string why;
  bool undecodable = false;
  try {
    decode_value(r, t, out);
    if (r.at_end()) return true;
    why = fmt::format("byte {}: {} bytes left after a {} value", r.offset(), r.remaining(), type_name(t));
  } catch (const UndecodableValue&) {
    undecodable = true;
  } catch (const io::DecodeError& e) {
    why = fmt::format("byte {}: {}", e.offset(), e.message());
  }
  out.resize(mark);
  out += "{\"opaque\":";
  util::append_json_string(out, t.snapshot_class.empty() ? type_name(t) : t.snapshot_class);
  out += ",\"base64\":";
  util::append_json_base64(out, bytes);
  out += '}';
  if (problem != nullptr && !undecodable) *problem = why;
  return undecodable;
}

}  // namespace ckpt::state
