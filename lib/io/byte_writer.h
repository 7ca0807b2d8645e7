// Big-endian appender (Java DataOutputStream order) used by every binary writer in ckpt.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ckpt::io {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void i8(int8_t v) { u8(static_cast<uint8_t>(v)); }
  void u16(uint16_t v) {
    char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out_.append(b, 2);
  }
  void i32(int32_t v) {
    auto u = static_cast<uint32_t>(v);
    char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
                 static_cast<char>(u)};
    out_.append(b, 4);
  }
  void i64(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    char b[8];
    for (int k = 0; k < 8; ++k) b[k] = static_cast<char>(u >> (56 - 8 * k));
    out_.append(b, 8);
  }
  void bytes(std::string_view b) { out_.append(b.data(), b.size()); }
  std::size_t size() const { return out_.size(); }

 private:
  std::string& out_;
};

}  // namespace ckpt::io
