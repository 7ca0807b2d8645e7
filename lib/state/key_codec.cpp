#include "state/key_codec.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "util/json_text.h"

namespace ckpt::state {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The fields of "[a, b, ...]", split at top-level commas (quoted strings may hold commas).
std::optional<std::vector<std::string_view>> split_array(std::string_view s) {
  s = trim(s);
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  std::vector<std::string_view> out;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ',' && !quoted) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (!trim(s).empty()) out.push_back(trim(s.substr(start)));
  return out;
}

// A JSON string's contents ("a\"b" -> a"b), or the text itself when it is not quoted.
std::optional<std::string> string_text(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  return util::unescape_json_string(s.substr(1, s.size() - 2));
}

template <typename T>
std::optional<T> integer(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Flink's StringValue encoding (spec §1.3) of a UTF-8 string, and Java's String.hashCode.
void string_value(std::string& out, std::string_view utf8, int32_t& hash) {
  std::u16string units;
  for (std::size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    uint32_t cp = 0xFFFD;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 6 && i + 1 < utf8.size()) {
      cp = ((c & 0x1F) << 6) | (utf8[i + 1] & 0x3F);
      len = 2;
    } else if ((c >> 4) == 14 && i + 2 < utf8.size()) {
      cp = ((c & 0x0F) << 12) | ((utf8[i + 1] & 0x3F) << 6) | (utf8[i + 2] & 0x3F);
      len = 3;
    } else if ((c >> 3) == 30 && i + 3 < utf8.size()) {
      cp = ((c & 0x07) << 18) | ((utf8[i + 1] & 0x3F) << 12) | ((utf8[i + 2] & 0x3F) << 6) | (utf8[i + 3] & 0x3F);
      len = 4;
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units += static_cast<char16_t>(0xD800 + (cp >> 10));
      units += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      units += static_cast<char16_t>(cp);
    }
  }
  auto varint = [&](uint32_t v) {
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  };
  varint(static_cast<uint32_t>(units.size()) + 1);
  uint32_t h = 0;
  for (char16_t u : units) {
    varint(u);
    h = 31 * h + u;
  }
  hash = static_cast<int32_t>(h);
}

bool encode(const Type& t, std::string_view text, std::string& out, int32_t& hash, std::string& why) {
  text = trim(text);
  switch (t.kind) {
    case Kind::kLong:
    case Kind::kKryo: {
      auto v = integer<int64_t>(text);
      if (!v) return why = fmt::format("'{}' is not a long", text), false;
      if (t.kind == Kind::kLong) {
        put_be(out, static_cast<uint64_t>(*v), 8);
      } else {
        // Kryo: class id of Long (7) + 2, then the zig-zag var-long (spec §5.9).
        out += static_cast<char>(9);
        uint64_t z = (static_cast<uint64_t>(*v) << 1) ^ static_cast<uint64_t>(*v >> 63);
        for (int i = 0; i < 8 && z >= 0x80; ++i) {
          out += static_cast<char>((z & 0x7F) | 0x80);
          z >>= 7;
        }
        out += static_cast<char>(z);
      }
      hash = static_cast<int32_t>(static_cast<uint64_t>(*v) ^ (static_cast<uint64_t>(*v) >> 32));
      return true;
    }
    case Kind::kInt: {
      auto v = integer<int32_t>(text);
      if (!v) return why = fmt::format("'{}' is not an int", text), false;
      put_be(out, static_cast<uint32_t>(*v), 4);
      hash = *v;
      return true;
    }
    case Kind::kShort: {
      auto v = integer<int16_t>(text);
      if (!v) return why = fmt::format("'{}' is not a short", text), false;
      put_be(out, static_cast<uint16_t>(*v), 2);
      hash = *v;
      return true;
    }
    case Kind::kByte: {
      auto v = integer<int8_t>(text);
      if (!v) return why = fmt::format("'{}' is not a byte", text), false;
      out += static_cast<char>(*v);
      hash = *v;
      return true;
    }
    case Kind::kBoolean: {
      if (text != "true" && text != "false") return why = fmt::format("'{}' is not a boolean", text), false;
      out += text == "true" ? '\1' : '\0';
      hash = text == "true" ? 1231 : 1237;
      return true;
    }
    case Kind::kString: {
      auto s = string_text(text);
      if (!s) return why = fmt::format("'{}' is not a string", text), false;
      string_value(out, *s, hash);
      return true;
    }
    case Kind::kTuple: {
      if (t.type_class.find("org.apache.flink.api.java.tuple.Tuple") != 0) {
        return why = fmt::format("{} defines its own hashCode", t.type_class), false;
      }
      std::vector<std::string_view> fields;
      if (t.children.size() == 1 && !trim(text).starts_with("[")) {
        fields.push_back(text);
      } else {
        auto split = split_array(text);
        if (!split) return why = fmt::format("'{}' is not a tuple: write [f0, f1, ...]", text), false;
        fields = *split;
      }
      if (fields.size() != t.children.size()) {
        return why =
                   fmt::format("the key is a tuple of {} fields, '{}' has {}", t.children.size(), text, fields.size()),
               false;
      }
      uint32_t h = 0;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        int32_t fh = 0;
        if (!encode(t.children[i], fields[i], out, fh, why)) return false;
        h = i == 0 ? static_cast<uint32_t>(fh) : 31 * h + static_cast<uint32_t>(fh);
      }
      hash = static_cast<int32_t>(h);
      return true;
    }
    default:
      why = fmt::format("keys of type {} have no hashCode ckpt can reproduce", type_name(t));
      return false;
  }
}

}  // namespace

std::optional<EncodedKey> encode_key(const Type& key_type, std::string_view text, std::string& why) {
  EncodedKey k;
  if (!encode(key_type, text, k.bytes, k.java_hash, why)) return std::nullopt;
  return k;
}

}  // namespace ckpt::state
