#include "path_args.h"

#include <fmt/format.h>

#include "ops/snapshot_source.h"

namespace ckpt::cli {
namespace {

std::optional<std::string> localise(std::string& arg, const std::vector<snapshot::PathMapping>* maps) {
  if (arg.empty()) return std::nullopt;
  static const std::vector<snapshot::PathMapping> kNone;
  snapshot::UserPath p = snapshot::local_of_user_path(arg, maps ? *maps : kNone);
  if (!p.ok()) {
    if (maps && !p.root.empty() && p.scheme != "file") {
      return fmt::format("{}: {}; to read a local copy of it, add --map {}=DIR", arg, p.problem, p.root);
    }
    return fmt::format("{}: {}", arg, p.problem);
  }
  arg = std::move(p.local);
  return std::nullopt;
}

}  // namespace

bool read_in_object_store(const std::string& path, const std::vector<snapshot::PathMapping>* maps) {
  if (!ops::is_object_store_path(path)) return false;
  if (maps) {
    for (const auto& m : *maps) {
      if (path.starts_with(m.prefix)) return false;  // a local mirror the user named
    }
  }
  return true;
}

std::optional<std::string> localise_input(std::string& input, std::vector<snapshot::PathMapping>& maps,
                                          const std::map<std::string, std::string>& config,
                                          std::unique_ptr<ops::StagedSnapshot>& staged) {
  if (!read_in_object_store(input, &maps)) return localise_path_args({&input}, &maps);
  staged = std::make_unique<ops::StagedSnapshot>(input, config);
  input = staged->local_path().string();
  maps.insert(maps.end(), staged->mappings().begin(), staged->mappings().end());
  return std::nullopt;
}

std::optional<std::string> localise_output(std::string& output, const std::map<std::string, std::string>& config,
                                           bool replace, std::unique_ptr<ops::PublishedOutput>& remote) {
  if (!read_in_object_store(output)) return localise_path_args({&output});
  remote = std::make_unique<ops::PublishedOutput>(output, config, replace);
  return std::nullopt;
}

std::string name_uris(std::string_view text, const ops::StagedSnapshot* staged, const ops::PublishedOutput* remote) {
  std::string s(text);
  if (staged) s = staged->name_uri(s);
  if (remote) s = remote->name_uri(s);
  return s;
}

std::optional<std::string> localise_path_args(std::initializer_list<std::string*> args,
                                              const std::vector<snapshot::PathMapping>* maps) {
  for (std::string* a : args) {
    if (auto e = localise(*a, maps)) return e;
  }
  return std::nullopt;
}

std::optional<std::string> localise_path_args(std::vector<std::string>& args,
                                              const std::vector<snapshot::PathMapping>* maps) {
  for (std::string& a : args) {
    if (auto e = localise(a, maps)) return e;
  }
  return std::nullopt;
}

}  // namespace ckpt::cli
