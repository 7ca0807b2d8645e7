// Writing RocksDB SST files with RocksDB's SstFileWriter: real table files with Flink's key
// layout, for tests and benchmarks of the deep checks (and any tool that needs to emit SSTs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

namespace ckpt::rocks {

struct SstWriterOptions {
  bool compress = true;             // LZ4 if RocksDB has it, else Snappy, else none
  bool reverse_comparator = false;  // tests: a table whose comparator is not Flink's
  uint32_t block_size = 4096;
};

class SstWriter {
 public:
  // Throws util::Error (kIo) when the file cannot be created.
  SstWriter(const std::filesystem::path& path, const SstWriterOptions& options = {});
  ~SstWriter();
  SstWriter(const SstWriter&) = delete;
  SstWriter& operator=(const SstWriter&) = delete;

  // Keys must be strictly increasing in the writer's comparator.
  void put(std::string_view key, std::string_view value);
  void delete_range(std::string_view begin, std::string_view end);
  // Returns the file size.
  uint64_t finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt::rocks
