// Reading Flink `_metadata` files (all versions Flink has written: 1-6, plus the V7 layout of the
// open "regional checkpoint" pull request) into the model of flink/model.h.
//
// Contract:
//  * The whole input must be consumed: bytes after the last operator (V1-V3) or after the
//    properties trailer's object (V4+) are an error.
//  * Version 0 (Flink 1.1 single-file savepoints) is recognised and refused.
//  * No allocation is sized by a length field before that length was checked against the bytes
//    that remain. Inline payloads are never copied: they are views into Metadata::storage.
//  * Every failure is a MetadataError whose what() is one line:
//      "<file>: byte <offset>: <where>: <what was found>, expected <what>"
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "flink/model.h"
#include "util/error.h"

namespace ckpt::flink {

inline constexpr int32_t kMetadataMagic = 0x4960672D;
inline constexpr int32_t kMasterStateMagic = static_cast<int32_t>(0xC96B1696);
inline constexpr int32_t kMinReadableVersion = 1;
inline constexpr int32_t kMaxReadableVersion = 7;

// Whether `bytes` begins with kMetadataMagic as written (big-endian): the cheap sniff that tells
// a `_metadata` file from anything else before a full read.
inline bool starts_with_metadata_magic(std::string_view bytes) {
  const auto magic = static_cast<uint32_t>(kMetadataMagic);
  if (bytes.size() < 4) return false;
  for (int i = 0; i < 4; ++i) {
    if (static_cast<unsigned char>(bytes[i]) != static_cast<unsigned char>(magic >> (24 - 8 * i))) return false;
  }
  return true;
}

struct ReadOptions {
  // V3 channel handles: Flink 1.12+ writes a leading subtask index, Flink 1.11 did not, and the
  // file has no flag (spec §17.2). kAuto tries 1.12+ first and falls back to 1.11.
  enum class ChannelLayout { kAuto, kWithSubtaskIndex, kFlink111 };
  ChannelLayout channel_layout = ChannelLayout::kAuto;
};

class MetadataError : public util::Error {
 public:
  MetadataError(const std::string& line, uint64_t offset)
      : util::Error(util::ErrorKind::kInput, line), offset_(offset) {}
  uint64_t offset() const { return offset_; }

 private:
  uint64_t offset_;
};

// Parses `bytes`, which become the Metadata's storage. `label` names the file in errors.
Metadata parse_metadata(std::string bytes, std::string_view label, const ReadOptions& options = {});

// The same for a buffer the caller shares (it is kept alive by the result, never copied).
Metadata parse_metadata(std::shared_ptr<const std::string> bytes, std::string_view label,
                        const ReadOptions& options = {});

// A `_metadata` read one operator at a time, for outputs that need not hold every operator at
// once (`inspect --json` of a 30 MB file holds one operator's model instead of all of them).
// Construction reads and checks the whole file exactly as parse_metadata does (the same errors,
// the same channel layout), keeping everything but the operators; next() then reads them again
// in file order, one per call, and cannot meet bytes the check did not accept.
class OperatorStream {
 public:
  // Throws MetadataError as parse_metadata does.
  OperatorStream(std::shared_ptr<const std::string> bytes, std::string_view label, const ReadOptions& options = {});
  OperatorStream(OperatorStream&&) noexcept;
  ~OperatorStream();

  // Everything but the operators (`operators` is empty; their views point into the same storage).
  const Metadata& metadata() const { return md_; }
  std::size_t operator_count() const { return count_; }
  const std::string& label() const { return label_; }

  // The next operator into `out`; false after the last. rewind() starts again at the first.
  bool next(OperatorState& out);
  void rewind();

 private:
  struct Cursor;
  Metadata md_;
  std::string label_;
  bool flink111_ = false;
  std::size_t count_ = 0;
  std::unique_ptr<Cursor> cursor_;
};

// Reads and parses a file. An unreadable file is a MetadataError too (offset 0).
Metadata read_metadata_file(const std::filesystem::path& file, const ReadOptions& options = {});

// Just the header: the format version, or an error for a file that is not `_metadata`.
int32_t peek_metadata_version(std::string_view bytes, std::string_view label);

}  // namespace ckpt::flink
