// The pieces of JSON text every emitter in ckpt writes the same way: a string (RFC 8259 escapes
// plus U+2028/U+2029; a byte that is not well-formed UTF-8 becomes U+FFFD) and bytes as base64
// (standard alphabet, padded), both quoted and appended to `out`; and the one reading of a JSON
// string's escapes for the few places that read JSON-like text (Avro schemas, --key values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ckpt::util {

void append_json_string(std::string& out, std::string_view s);
void append_json_base64(std::string& out, std::string_view bytes);

// A code point as UTF-8 (a lone UTF-16 surrogate is encoded as its three bytes, which
// append_json_string then shows as U+FFFD).
void append_utf8(std::string& out, uint32_t code_point);

// The text of a JSON string's contents (between the quotes): \n \t \r \b \f and \uXXXX decoded,
// any other escaped character kept. nullopt for a backslash at the end or a malformed \u.
std::optional<std::string> unescape_json_string(std::string_view body);

}  // namespace ckpt::util
