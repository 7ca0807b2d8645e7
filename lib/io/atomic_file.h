// Crash-safe file writes: after a crash at any point the target holds either its old content (or
// does not exist) or the complete new content, never a partial file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace ckpt::io {

// Writes `bytes` to a temporary file beside `target`, fsyncs it, renames it over `target` and
// fsyncs the directory. With overwrite=false an existing `target` is an IoError (checked
// atomically with the rename: link(2) fails if the target appeared meanwhile). `mtime_ns`, when
// given, becomes the new file's modification time before it is published (a rewrite that must
// not look newer than what it replaces). Throws IoError naming the path and the reason.
void write_file_atomically(const std::filesystem::path& target, std::string_view bytes, bool overwrite = true,
                           std::optional<int64_t> mtime_ns = std::nullopt);

// A hidden, random name beside `target` for a file or directory that becomes `target` by rename:
// "<dir>/.<name>.<16 hex>.<kind>". Random, so that concurrent or killed writers never collide.
std::filesystem::path temp_sibling(const std::filesystem::path& target, std::string_view kind);

// Whether the directory entry `name` is a temp_sibling of a target named `target_name`: what a
// writer killed before its rename leaves behind.
bool is_temp_sibling_name(std::string_view name, std::string_view target_name, std::string_view kind);

// fsync(2) of a directory, so that renames and unlinks inside it are durable.
void fsync_directory(const std::filesystem::path& dir);

}  // namespace ckpt::io
