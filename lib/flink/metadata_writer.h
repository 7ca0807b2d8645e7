// Encoding the model of flink/model.h as Flink `_metadata` bytes.
//
// Contract: write_metadata(parse_metadata(f)) == f for every file the reader accepts (the model
// keeps every tag, flag, order and legacy field; spec §16). The version written is
// `md.version`; a model that cannot be expressed in that version (a V5 operator name in a V4
// file, a V6 channel type in a V5 file, a tag-3 keyed handle with a handle id, ...) is refused
// with a WriteError that names the operator and field, never silently dropped.
#pragma once

#include <stdexcept>
#include <string>

#include "flink/model.h"
#include "util/error.h"

namespace ckpt::flink {

class WriteError : public util::Error {
 public:
  explicit WriteError(const std::string& message) : util::Error(util::ErrorKind::kProblems, message) {}
};

std::string write_metadata(const Metadata& md);

// Appends to `out` instead (for writers that build a file in one buffer).
void append_metadata(const Metadata& md, std::string& out);

}  // namespace ckpt::flink
