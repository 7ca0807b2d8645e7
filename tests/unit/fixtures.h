// Locating the real Flink fixtures (../shared/fixtures/flink, or $CKPT_FIXTURES).
//
// Tests over fixtures call fixtures::root(); when the directory is absent they must mark
// themselves skipped (doctest::skip) rather than pass vacuously.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fixtures {

inline std::filesystem::path root() {
  if (const char* env = std::getenv("CKPT_FIXTURES"); env && *env) return env;
  return CKPT_FIXTURES_DEFAULT;
}

inline bool available() { return std::filesystem::is_directory(root()); }

// Every file named `_metadata` under the fixture root, sorted.
inline std::vector<std::filesystem::path> all_metadata() {
  std::vector<std::filesystem::path> out;
  if (!available()) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root())) {
    if (e.is_regular_file() && e.path().filename() == "_metadata") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace fixtures
