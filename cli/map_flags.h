// The flags that say where a command may read state files from: `--map PREFIX=DIR` (remote paths
// mirrored locally, snapshot/paths.h) and `--allow-outside DIR` (a directory outside the
// snapshot's root that its handles may name, snapshot/read_scope.h). Both repeatable.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "snapshot/paths.h"

namespace ckpt::cli {

// The mappings, or nullopt with `bad` set to the first flag value that is not PREFIX=DIR.
std::optional<std::vector<snapshot::PathMapping>> parse_map_flags(const std::vector<std::string>& specs,
                                                                  std::string& bad);

// Registers `--map PREFIX=DIR` (repeatable) on `cmd`, with the same help everywhere.
void add_map_option(CLI::App& cmd, std::vector<std::string>& specs);

// Registers `--allow-outside DIR` (repeatable) on `cmd`, with the same help everywhere.
void add_allow_outside_option(CLI::App& cmd, std::vector<std::string>& dirs);

// The directories, or nullopt when one is empty.
std::optional<std::vector<std::filesystem::path>> parse_allow_outside(const std::vector<std::string>& dirs);

}  // namespace ckpt::cli
