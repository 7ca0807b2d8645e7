// Deep checks of RocksDB SST files with RocksDB itself (SstFileReader): every block checksum,
// the table properties, and the first and last user keys (whose leading bytes are Flink's
// key-group prefix, spec §14.2).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ckpt::rocks {

struct SstReport {
  std::optional<std::string> open_error;      // not an SST RocksDB can open (then nothing else is set)
  std::optional<std::string> checksum_error;  // VerifyChecksum failed
  std::optional<std::string> properties_error;
  std::optional<std::string> iterator_error;  // reading the first / last key failed
  bool has_keys = false;
  std::string first_key;
  std::string last_key;
  uint64_t entries = 0;
  uint64_t range_deletions = 0;  // > 0: keys outside a rescaled range may be deleted ones
  std::string column_family;
};

// Checks one SST file. `file_size` is the size the caller saw (stat), to check the properties'
// block sizes against. Thread-safe: each call uses its own reader.
SstReport check_sst(const std::filesystem::path& path, uint64_t file_size);

// The same checks of an SST file held in memory: Flink inlines table files below
// state.storage.fs.memory-threshold into `_metadata` (ByteStreamStateHandle), and such a small
// file is often the one that holds a rescaled instance's range deletions.
SstReport check_sst_bytes(std::string_view bytes);

}  // namespace ckpt::rocks
