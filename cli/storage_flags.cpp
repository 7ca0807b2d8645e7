#include "storage_flags.h"

namespace ckpt::cli {

void add_storage_config_option(CLI::App& cmd, std::vector<std::string>& defines) {
  cmd.add_option("-D", defines,
                 "Flink configuration KEY=VALUE for object storage: s3.endpoint, s3.access-key, s3.secret-key, "
                 "s3.path.style.access, s3.endpoint.region (repeatable; see ckpt(1), OBJECT STORAGE)")
      ->allow_extra_args(false);
}

std::optional<std::map<std::string, std::string>> parse_storage_config(const std::vector<std::string>& defines,
                                                                       std::string& bad) {
  std::map<std::string, std::string> out;
  for (const std::string& d : defines) {
    size_t eq = d.find('=');
    if (eq == std::string::npos || eq == 0) {
      bad = d;
      return std::nullopt;
    }
    out[d.substr(0, eq)] = d.substr(eq + 1);
  }
  return out;
}

}  // namespace ckpt::cli
