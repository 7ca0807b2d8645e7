// Placing the bytes of an existing file (or of a byte range of it) under a new name, durably:
// the primitives of `ckpt convert --self-contained` and `ckpt unpack`.
//
// Contract:
//  * Sources are opened through a ReadScope (io/confined_open.h): inside its directories, with no
//    symbolic link followed in any component (ReadScope::unconfined(): for files ckpt wrote
//    itself, a final symlink is still refused), and must be regular files. The descriptor opened
//    is the one read, copied or hard-linked (through /proc/self/fd), so the checked file is the
//    file used.
//  * Targets are created with O_EXCL (a hard link with link(2), which never replaces): an existing
//    target is an error, so a crafted plan cannot overwrite anything.
//  * Every function fsyncs what it wrote (file data; the caller fsyncs the directory once).
//  * Errors are io::IoError "<path>: <what>: <strerror>".
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

#include "io/confined_open.h"

namespace ckpt::io {

enum class PlaceMethod { kLink, kCopy };

// The size of a regular file, without following a final symbolic link. Throws IoError when it is
// missing, a symlink, or not a regular file.
uint64_t regular_file_size(const std::filesystem::path& p);

// The size of a regular file opened through `scope` (OutsideScopeError, IoError as ReadScope::open).
uint64_t regular_file_size(const ReadScope& scope, const std::filesystem::path& p);

// Makes `target` hold the whole of `source`: a hard link when `prefer_link` and the file system
// allows it (same device, no EPERM/EMLINK), else a copy (copy_file_range, which may reflink).
// Returns what was done.
PlaceMethod link_or_copy(const ReadScope& scope, const std::filesystem::path& source,
                         const std::filesystem::path& target, bool prefer_link);

// Copies [offset, offset + length) of `source` into a new file `target`. The source must be at
// least offset + length bytes long.
void copy_range(const ReadScope& scope, const std::filesystem::path& source, uint64_t offset, uint64_t length,
                const std::filesystem::path& target);

// Reads [offset, offset + length) of `source` in pieces (of at most 1 MiB), handing each to `sink`.
void read_range(const ReadScope& scope, const std::filesystem::path& source, uint64_t offset, uint64_t length,
                const std::function<void(std::string_view)>& sink);

// A fresh, empty directory beside `target` (named ".<target name>.<random>.tmp"), mode 0755.
std::filesystem::path make_temp_dir_beside(const std::filesystem::path& target);

// Moves the finished directory `tmp` to `target` atomically. Without `replace` an existing target
// is an error (IoError mentioning --force). With `replace` an existing target directory is
// swapped out in one step (renameat2 RENAME_EXCHANGE) and the old one is removed afterwards, so a
// crash leaves either the old or the new directory under `target`.
void publish_directory(const std::filesystem::path& tmp, const std::filesystem::path& target, bool replace);

// Like publish_directory, for a finished regular file.
void publish_file(const std::filesystem::path& tmp, const std::filesystem::path& target, bool replace);

// Best-effort removal of a temporary file or directory tree (never follows symlinks); no throw.
void remove_quietly(const std::filesystem::path& p) noexcept;

}  // namespace ckpt::io
