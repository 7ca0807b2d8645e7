#include "map_flags.h"

namespace ckpt::cli {

std::optional<std::vector<snapshot::PathMapping>> parse_map_flags(const std::vector<std::string>& specs,
                                                                  std::string& bad) {
  std::vector<snapshot::PathMapping> out;
  for (const auto& s : specs) {
    auto m = snapshot::parse_mapping(s);
    if (!m) {
      bad = s;
      return std::nullopt;
    }
    out.push_back(std::move(*m));
  }
  return out;
}

void add_map_option(CLI::App& cmd, std::vector<std::string>& specs) {
  cmd.add_option("--map", specs,
                 "Read paths under the remote PREFIX (s3://bucket/flink, hdfs://nn/x) from the local directory DIR: "
                 "PREFIX=DIR (repeatable)");
}

void add_allow_outside_option(CLI::App& cmd, std::vector<std::string>& dirs) {
  cmd.add_option("--allow-outside", dirs,
                 "Also read state files from DIR, outside the snapshot's root (repeatable; by default a handle "
                 "naming a file elsewhere is refused)");
}

std::optional<std::vector<std::filesystem::path>> parse_allow_outside(const std::vector<std::string>& dirs) {
  std::vector<std::filesystem::path> out;
  for (const auto& d : dirs) {
    if (d.empty()) return std::nullopt;
    out.emplace_back(d);
  }
  return out;
}

}  // namespace ckpt::cli
