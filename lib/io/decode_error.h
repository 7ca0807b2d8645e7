// The one error type of every decoder in ckpt: what went wrong, and at which byte.
//
// Decoders throw DecodeError; the layer that knows the file name (and, for `_metadata`, which
// operator/subtask was being read) catches it and renders one line:
//   "<file>: byte <offset>: <context>: <message>"
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include "util/error.h"

namespace ckpt::io {

class DecodeError : public util::Error {
 public:
  DecodeError(uint64_t offset, std::string message)
      : util::Error(util::ErrorKind::kInput, message), offset_(offset), message_(std::move(message)) {}

  uint64_t offset() const { return offset_; }
  const std::string& message() const { return message_; }

 private:
  uint64_t offset_;
  std::string message_;
};

// A file that could not be opened or read (missing, permission denied, is a directory, ...).
class IoError : public util::Error {
 public:
  explicit IoError(const std::string& message) : util::Error(util::ErrorKind::kIo, message) {}
};

}  // namespace ckpt::io
