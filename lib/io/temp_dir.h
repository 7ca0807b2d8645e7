// A private directory under the system's temporary directory (TMPDIR): created by mkdtemp (a
// fresh name, mode 0700) and removed with everything in it when its owner goes, whatever happens
// in between. Movable (the moved-from object removes nothing), not copyable.
#pragma once

#include <filesystem>
#include <string_view>

namespace ckpt::io {

class TempDir {
 public:
  TempDir() = default;  // no directory
  // Creates <TMPDIR>/<prefix>-XXXXXX. Throws IoError naming the pattern when it cannot.
  explicit TempDir(std::string_view prefix);
  TempDir(TempDir&& o) noexcept;
  TempDir& operator=(TempDir&& o) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  void remove() noexcept;
  std::filesystem::path path_;
};

}  // namespace ckpt::io
