// The `--map PREFIX=DIR` flags every command that reads state files accepts (snapshot/paths.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "snapshot/paths.h"

namespace ckpt::cli {

// The mappings, or nullopt with `bad` set to the first flag value that is not PREFIX=DIR.
std::optional<std::vector<snapshot::PathMapping>> parse_map_flags(const std::vector<std::string>& specs, std::string& bad);

}  // namespace ckpt::cli
