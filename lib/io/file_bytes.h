// Whole-file reads with errors that name the file and the reason.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace ckpt::io {

// The file's bytes. Throws IoError("<path>: <reason>") when it cannot be opened or read, is not
// a regular file, or is larger than `max_bytes`.
std::string read_file_bytes(const std::filesystem::path& path, uint64_t max_bytes = uint64_t{1} << 34);

}  // namespace ckpt::io
