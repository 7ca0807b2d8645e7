// Bounds-checked big-endian reader over an immutable byte buffer (Java DataInputStream order).
//
// Contract: every accessor either returns a value that lies wholly inside the buffer or throws
// io::DecodeError naming the offset where the read started. Lengths read from the data are
// checked against the bytes that remain *before* anything is allocated, so no allocation is ever
// sized by an unchecked field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/decode_error.h"

namespace ckpt::io {

class ByteReader {
 public:
  explicit ByteReader(std::string_view data, uint64_t base_offset = 0) : data_(data), base_(base_offset) {}

  uint64_t offset() const { return base_ + pos_; }  // absolute offset in the file
  std::size_t pos() const { return pos_; }          // offset inside this reader's window
  std::size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }
  std::string_view rest() const { return data_.substr(pos_); }

  uint8_t u8(const char* what) {
    need(1, what);
    return static_cast<uint8_t>(data_[pos_++]);
  }
  int8_t i8(const char* what) { return static_cast<int8_t>(u8(what)); }
  uint16_t u16(const char* what) {
    need(2, what);
    uint16_t v = static_cast<uint16_t>((byte(0) << 8) | byte(1));
    pos_ += 2;
    return v;
  }
  int32_t i32(const char* what) {
    need(4, what);
    uint32_t v = (uint32_t{byte(0)} << 24) | (uint32_t{byte(1)} << 16) | (uint32_t{byte(2)} << 8) | uint32_t{byte(3)};
    pos_ += 4;
    return static_cast<int32_t>(v);
  }
  int64_t i64(const char* what) {
    need(8, what);
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | byte(k);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  // `n` raw bytes as a view into the buffer.
  std::string_view bytes(uint64_t n, const char* what) {
    need(n, what);
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  // A count of elements each at least `min_element_size` bytes long: rejects negative counts and
  // counts that cannot fit in the bytes left, so callers may reserve() the result safely.
  int32_t count(const char* what, std::size_t min_element_size) {
    uint64_t at = offset();
    int32_t n = i32(what);
    if (n < 0) fail(at, std::string(what) + " is " + std::to_string(n) + ", expected >= 0");
    check_fits(at, static_cast<uint64_t>(n), min_element_size, what);
    return n;
  }
  void check_fits(uint64_t at, uint64_t n, std::size_t min_element_size, const char* what) const {
    if (min_element_size != 0 && n > remaining() / min_element_size) {
      fail(at, std::string(what) + " is " + std::to_string(n) + " but only " + std::to_string(remaining()) +
                   " bytes remain (each entry needs at least " + std::to_string(min_element_size) + ")");
    }
  }

  [[noreturn]] static void fail(uint64_t at, std::string message) { throw DecodeError(at, std::move(message)); }

 private:
  unsigned byte(std::size_t k) const { return static_cast<unsigned char>(data_[pos_ + k]); }
  void need(uint64_t n, const char* what) const {
    if (n > remaining()) [[unlikely]]
      truncated(n, what);
  }
  [[noreturn, gnu::noinline, gnu::cold]] void truncated(uint64_t n, const char* what) const {
    fail(offset(), std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, only " +
                       std::to_string(remaining()) + " remain");
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  uint64_t base_ = 0;
};

}  // namespace ckpt::io
