#include "path_args.h"

#include <fmt/format.h>

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
