// `-D KEY=VALUE` on the commands that read snapshots: Flink configuration keys for the store a
// path lives in (s3.endpoint, s3.access-key, s3.secret-key, s3.path.style.access,
// s3.endpoint.region, s3.multipart.size; storage/s3_settings.h), as `flink run -D` takes them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ckpt::cli {

// Registers `-D KEY=VALUE` (repeatable) on `cmd`, with the same help everywhere.
void add_storage_config_option(CLI::App& cmd, std::vector<std::string>& defines);

// The keys, or nullopt with `bad` set to the first value that is not KEY=VALUE.
std::optional<std::map<std::string, std::string>> parse_storage_config(const std::vector<std::string>& defines,
                                                                       std::string& bad);

}  // namespace ckpt::cli
