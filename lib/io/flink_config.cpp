#include "io/flink_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "io/file_bytes.h"
#include "util/error.h"

namespace ckpt::io {
namespace {

[[noreturn]] void fail(std::string_view label, int line, std::string_view what) {
  throw util::Error(util::ErrorKind::kUsage, fmt::format("{}:{}: {}", label, line, what));
}

int line_of(const YAML::Node& n) { return n.Mark().line + 1; }

// One item of Flink's ';'-separated list string.
std::string list_item(const std::string& s) {
  if (s.find_first_of(";'\"") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

void flatten(const YAML::Node& map, const std::string& prefix, std::string_view label, FlinkConfig& out) {
  for (const auto& kv : map) {
    const YAML::Node& k = kv.first;
    const YAML::Node& v = kv.second;
    if (!k.IsScalar()) fail(label, line_of(k), "expected a key (a.b.c: value), not a map or list as a key");
    const std::string key = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
    if (v.IsMap()) {
      flatten(v, key, label, out);
    } else if (v.IsScalar()) {
      out[key] = ConfigEntry{v.Scalar(), line_of(k)};
    } else if (v.IsSequence()) {
      std::string joined;
      for (const auto& item : v) {
        if (!item.IsScalar()) fail(label, line_of(item), fmt::format("{}: expected a list of values", key));
        joined += (joined.empty() ? "" : ";") + list_item(item.Scalar());
      }
      out[key] = ConfigEntry{joined, line_of(k)};
    } else {
      fail(label, line_of(k), fmt::format("{}: expected a value or nested keys", key));
    }
  }
}

}  // namespace

FlinkConfig parse_flink_config(std::string_view text, std::string_view label) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    fail(label, e.mark.is_null() ? 1 : e.mark.line + 1, fmt::format("invalid YAML: {}", e.msg));
  }
  FlinkConfig out;
  if (!root || root.IsNull()) return out;
  if (!root.IsMap()) fail(label, line_of(root), "expected Flink's configuration: keys with values (key: value)");
  flatten(root, "", label, out);
  return out;
}

FlinkConfig read_flink_config(const std::filesystem::path& path) {
  return parse_flink_config(read_file_bytes(path, 1 << 24), path.string());
}

}  // namespace ckpt::io
