// The table properties of an SST file, read with RocksDB (SstFileReader) and nothing else: which
// column family (Flink state) the file belongs to, how many entries it holds and their raw key and
// value bytes. This is how `inspect --states` sizes RocksDB state without scanning it.
//
// Contract: never throws; a file RocksDB cannot open or whose properties are missing comes back
// with `error` set. Thread-safe: each call uses its own reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rocksdb {
struct Options;
}

namespace ckpt::rocks {

struct SstProperties {
  std::optional<std::string> error;
  std::string column_family;
  uint64_t entries = 0;
  uint64_t deletions = 0;
  uint64_t merge_operands = 0;
  uint64_t raw_key_bytes = 0;
  uint64_t raw_value_bytes = 0;
  uint64_t file_bytes = 0;
};

SstProperties sst_properties(const std::filesystem::path& path);

// The same for an SST file held in memory (inlined into `_metadata`, or cut from a segment).
SstProperties sst_properties_bytes(std::string_view bytes);

// Runs `fn(options, path)` with `bytes` as the file `path` of an in-memory RocksDB Env, for
// readers that take only a path. Returns the error when the file cannot be made.
std::optional<std::string> with_in_memory_file(
    std::string_view bytes, const std::function<void(const rocksdb::Options&, const std::string&)>& fn);

}  // namespace ckpt::rocks
