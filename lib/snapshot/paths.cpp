#include "snapshot/paths.h"

#include <algorithm>

namespace ckpt::snapshot {

std::optional<PathMapping> parse_mapping(std::string_view spec) {
  auto eq = spec.rfind('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) return std::nullopt;
  PathMapping m;
  m.prefix = std::string(spec.substr(0, eq));
  while (m.prefix.size() > 1 && m.prefix.back() == '/') m.prefix.pop_back();
  m.local_dir = std::filesystem::path(std::string(spec.substr(eq + 1)));
  return m;
}

namespace {

// Strips Flink's local-file scheme forms: file:/x, file:///x, file://localhost/x.
std::optional<std::string_view> local_part(std::string_view p) {
  if (p.starts_with("file:")) {
    std::string_view rest = p.substr(5);
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      auto slash = rest.find('/');
      if (slash == std::string_view::npos) return std::nullopt;
      std::string_view authority = rest.substr(0, slash);
      if (!authority.empty() && authority != "localhost") return std::nullopt;
      rest.remove_prefix(slash);
    }
    return rest;
  }
  if (p.starts_with("/")) return p;
  return std::nullopt;
}

}  // namespace

ResolvedPath resolve_absolute(std::string_view flink_path, const std::vector<PathMapping>& mappings) {
  ResolvedPath r;
  r.uri = std::string(flink_path);
  const PathMapping* best = nullptr;
  for (const auto& m : mappings) {
    std::string_view pre = m.prefix;
    if (!flink_path.starts_with(pre)) continue;
    if (flink_path.size() != pre.size() && flink_path[pre.size()] != '/' && pre.back() != '/') continue;
    if (!best || pre.size() > best->prefix.size()) best = &m;
  }
  if (best) {
    std::string_view rest = flink_path.substr(best->prefix.size());
    while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    r.local = (best->local_dir / std::string(rest)).lexically_normal();
    return r;
  }
  if (auto local = local_part(flink_path)) {
    r.local = std::filesystem::path(std::string(*local)).lexically_normal();
    return r;
  }
  r.kind = ResolvedPath::Kind::kRemoteUnmapped;
  return r;
}

ResolvedPath resolve_relative(std::string_view relative, const std::filesystem::path& snapshot_dir) {
  ResolvedPath r;
  r.uri = std::string(relative);
  r.local = (snapshot_dir / std::string(relative)).lexically_normal();
  return r;
}

bool is_within(const std::filesystem::path& p, const std::filesystem::path& dir) {
  auto pn = p.lexically_normal();
  auto dn = dir.lexically_normal();
  // "." (the current directory, e.g. `ckpt validate .`) normalises its children to bare names, so
  // it cannot be compared component by component: everything relative that does not climb out
  // lies inside it.
  if (dn == "." || dn == "./") return pn.is_relative() && (pn.empty() || *pn.begin() != "..");
  auto [d_end, p_it] = std::mismatch(dn.begin(), dn.end(), pn.begin(), pn.end());
  if (d_end == dn.end()) return true;
  // A trailing empty component ("dir/") still counts as a match.
  return std::next(d_end) == dn.end() && d_end->empty();
}

}  // namespace ckpt::snapshot
