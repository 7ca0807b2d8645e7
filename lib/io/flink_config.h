// Flink's configuration file, read one way for every command (`ckpt run -c`, `ckpt restore -c`,
// `ckpt prune --config`): the standard YAML of Flink 1.19+ (config.yaml, nested maps), the legacy
// flat flink-conf.yaml (`a.b.c: v`), or a mix of both.
//
// Contract:
//  * Nested maps are flattened to dotted keys, as Flink's YamlParserUtils does:
//    `execution: {checkpointing: {interval: 10s}}` is key execution.checkpointing.interval;
//    `a.b: {c: v}` is a.b.c. A key given twice (in either form) is taken from its last line.
//  * A scalar keeps its text (quotes removed). A list of scalars becomes Flink's list string:
//    the items joined with ';', an item holding ';' or a quote wrapped in single quotes
//    (ConfigurationUtils.convertToString of a List).
//  * Every entry has its 1-based line, for messages. An empty file or a file of comments is an
//    empty configuration.
//  * Errors are one line, util::Error of kind kUsage, "<label>:<line>: <what was expected>":
//    invalid YAML (yaml-cpp's message), a top level that is not a map, a key without a value,
//    a list holding maps or lists. read_flink_config's unreadable file is io's IoError.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace ckpt::io {

struct ConfigEntry {
  std::string value;
  int line = 0;
};
using FlinkConfig = std::map<std::string, ConfigEntry>;

FlinkConfig parse_flink_config(std::string_view text, std::string_view label);
FlinkConfig read_flink_config(const std::filesystem::path& path);

}  // namespace ckpt::io
