#include "map_flags.h"

namespace ckpt::cli {

std::optional<std::vector<snapshot::PathMapping>> parse_map_flags(const std::vector<std::string>& specs, std::string& bad) {
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

}  // namespace ckpt::cli
