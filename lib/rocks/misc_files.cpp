#include "rocks/misc_files.h"

#include "io/checksum.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace ckpt::rocks {

MiscKind misc_kind(std::string_view n) {
  if (n == "CURRENT") return MiscKind::kCurrent;
  if (n.starts_with("MANIFEST-")) return MiscKind::kManifest;
  if (n.starts_with("OPTIONS-")) return MiscKind::kOptions;
  return MiscKind::kOther;
}

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

uint32_t le32(std::string_view b, std::size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}

}  // namespace

std::optional<std::string> check_current(std::string_view bytes, std::string* manifest) {
  if (!bytes.ends_with('\n')) return "does not end with a newline";
  std::string_view name = bytes.substr(0, bytes.size() - 1);
  if (!name.starts_with("MANIFEST-") || !all_digits(name.substr(9))) {
    return fmt::format("holds \"{}\", expected MANIFEST-<number>", name.substr(0, 64));
  }
  if (manifest) *manifest = std::string(name);
  return std::nullopt;
}

std::optional<std::string> check_manifest(std::string_view b) {
  // db/log_format.h: 32 KiB blocks of records {crc32c masked, u16 length, u8 type, payload};
  // recyclable types 5-8 carry a u32 log number after the type. A block tail shorter than a
  // header is zero padding.
  constexpr std::size_t kBlock = 32768;
  enum : int { kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4, kRecyclableLast = 8 };
  std::size_t pos = 0;
  int records = 0;
  bool in_fragment = false;
  while (pos < b.size()) {
    std::size_t left_in_block = kBlock - pos % kBlock;
    if (left_in_block < 7) {
      pos += left_in_block;
      continue;
    }
    if (b.size() - pos < 7) return fmt::format("byte {}: truncated record header", pos);
    uint32_t stored = io::crc32c_unmask(le32(b, pos));
    std::size_t len =
        static_cast<unsigned char>(b[pos + 4]) | static_cast<std::size_t>(static_cast<unsigned char>(b[pos + 5])) << 8;
    int type = static_cast<unsigned char>(b[pos + 6]);
    if (type == kZero && len == 0) {
      // Preallocated, never written space: the log ends here; it must be all zeros.
      for (std::size_t i = pos; i < b.size(); ++i) {
        if (b[i] != 0) return fmt::format("byte {}: data after the zero-filled end of the log", i);
      }
      break;
    }
    if (type > kRecyclableLast || type == kZero) return fmt::format("byte {}: record type {} is unknown", pos, type);
    std::size_t header = type >= 5 ? 11 : 7;
    if (header > left_in_block || len > left_in_block - header) {
      return fmt::format("byte {}: record of {} bytes crosses its 32 KiB block", pos, len);
    }
    if (b.size() - pos < header + len) return fmt::format("byte {}: record of {} bytes is truncated", pos, len);
    uint32_t actual = io::crc32c(b.substr(pos + 6, header - 6 + len));
    if (actual != stored) return fmt::format("byte {}: record checksum mismatch", pos);
    int base = type >= 5 ? type - 4 : type;
    if (base == kFull || base == kFirst) {
      if (in_fragment) return fmt::format("byte {}: a new record starts inside a fragmented one", pos);
      in_fragment = base == kFirst;
      if (base == kFull) ++records;
    } else {
      if (!in_fragment) return fmt::format("byte {}: record fragment without its first part", pos);
      if (base == kLast) {
        in_fragment = false;
        ++records;
      }
    }
    pos += header + len;
  }
  if (in_fragment) return "the last record is torn (no final fragment)";
  if (records == 0) return "holds no records";
  return std::nullopt;
}

std::optional<std::string> check_options(std::string_view b) {
  for (std::size_t i = 0; i < b.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(b[i]);
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
      return fmt::format("byte {}: control character 0x{:02X} in a text file", i, c);
    }
  }
  bool version = false, db = false, cf_default = false, rocks_version = false;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < b.size()) {
    std::size_t nl = b.find('\n', pos);
    std::string_view line = b.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? b.size() : nl + 1;
    ++line_no;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return fmt::format("line {}: unterminated section header", line_no);
      if (line == "[Version]") version = true;
      if (line == "[DBOptions]") db = true;
      if (line == "[CFOptions \"default\"]") cf_default = true;
      continue;
    }
    if (line.find('=') == std::string_view::npos) return fmt::format("line {}: expected name=value", line_no);
    if (line.starts_with("rocksdb_version=")) rocks_version = true;
  }
  if (!version || !rocks_version) return "no [Version] section with rocksdb_version";
  if (!db) return "no [DBOptions] section";
  if (!cf_default) return "no [CFOptions \"default\"] section";
  return std::nullopt;
}

}  // namespace ckpt::rocks
