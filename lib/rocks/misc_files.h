// Sanity checks of the non-SST files of a RocksDB checkpoint (spec §12.3, §13.4): CURRENT,
// MANIFEST-NNNNNN (a RocksDB log file of VersionEdit records) and OPTIONS-NNNNNN (INI text).
// Each takes the file's bytes (these files are small and may be inlined in `_metadata`) and
// returns nullopt when sane, else a one-line description of the first problem.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ckpt::rocks {

enum class MiscKind { kCurrent, kManifest, kOptions, kOther };

// Classifies an original RocksDB file name ("CURRENT", "MANIFEST-000004", "OPTIONS-000009").
MiscKind misc_kind(std::string_view local_name);

// CURRENT: exactly "MANIFEST-<digits>\n". On success `manifest` (if given) receives the name.
std::optional<std::string> check_current(std::string_view bytes, std::string* manifest = nullptr);

// MANIFEST: every log record's CRC32C, fragment order, no torn record at the end, >= 1 record.
std::optional<std::string> check_manifest(std::string_view bytes);

// OPTIONS: text with the [Version], [DBOptions] and [CFOptions "default"] sections RocksDB writes.
std::optional<std::string> check_options(std::string_view bytes);

}  // namespace ckpt::rocks
