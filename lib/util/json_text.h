// The two pieces of JSON text every emitter in ckpt writes the same way: a string (RFC 8259
// escapes plus U+2028/U+2029; a byte that is not well-formed UTF-8 becomes U+FFFD) and bytes as
// base64 (standard alphabet, padded), both quoted and appended to `out`.
#pragma once

#include <string>
#include <string_view>

namespace ckpt::util {

void append_json_string(std::string& out, std::string_view s);
void append_json_base64(std::string& out, std::string_view bytes);

}  // namespace ckpt::util
