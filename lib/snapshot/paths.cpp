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

// True when lexically_normal() would return `p` unchanged: no empty, "." or ".." component and no
// trailing separator (which lexically_normal keeps). Almost every path a handle or a directory
// listing yields is like that; the fast paths below skip std::filesystem's component-by-component
// rebuild for them, which dominated planning on large roots.
bool plainly_normal(std::string_view p) {
  if (p.empty() || p.back() == '/') return p == "/";
  // One pass over the bytes: components are short, and a find() per component cost more in
  // call overhead than it saved.
  size_t start = p.front() == '/' ? 1 : 0;
  for (size_t i = start; i <= p.size(); ++i) {
    if (i < p.size() && p[i] != '/') continue;
    const size_t len = i - start;
    if (len == 0 || (len <= 2 && p[start] == '.' && (len == 1 || p[start + 1] == '.'))) return false;
    start = i + 1;
  }
  return true;
}

void normalise(std::string& s) {
  if (!plainly_normal(s)) s = std::filesystem::path(s).lexically_normal().native();
}

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

bool local_of_absolute_to(std::string_view flink_path, const std::vector<PathMapping>& mappings, std::string& out) {
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
    out = (best->local_dir / std::string(rest)).lexically_normal().native();
    return true;
  }
  auto local = local_part(flink_path);
  if (!local) return false;
  out.assign(*local);
  normalise(out);
  return true;
}

void local_of_relative_to(std::string_view relative, const std::filesystem::path& snapshot_dir, std::string& out) {
  // operator/ replaces the directory when `relative` is absolute, and joins nothing to an empty
  // directory: keep those meanings on the slow path.
  if (relative.starts_with('/') || snapshot_dir.empty()) {
    out = (snapshot_dir / std::string(relative)).lexically_normal().native();
    return;
  }
  out.assign(snapshot_dir.native());
  if (out.back() != '/') out += '/';
  out += relative;
  normalise(out);
}

std::optional<std::string> local_of_absolute(std::string_view flink_path, const std::vector<PathMapping>& mappings) {
  std::string out;
  if (!local_of_absolute_to(flink_path, mappings, out)) return std::nullopt;
  return out;
}

std::string local_of_relative(std::string_view relative, const std::filesystem::path& snapshot_dir) {
  std::string out;
  local_of_relative_to(relative, snapshot_dir, out);
  return out;
}

ResolvedPath resolve_absolute(std::string_view flink_path, const std::vector<PathMapping>& mappings) {
  ResolvedPath r;
  r.uri = std::string(flink_path);
  if (auto local = local_of_absolute(flink_path, mappings)) {
    r.local = std::filesystem::path(std::move(*local));
  } else {
    r.kind = ResolvedPath::Kind::kRemoteUnmapped;
  }
  return r;
}

ResolvedPath resolve_relative(std::string_view relative, const std::filesystem::path& snapshot_dir) {
  ResolvedPath r;
  r.uri = std::string(relative);
  r.local = std::filesystem::path(local_of_relative(relative, snapshot_dir));
  return r;
}

bool is_plainly_normal(std::string_view p) { return plainly_normal(p); }

bool is_within_normal(std::string_view ps, std::string_view ds) {
  if (ds == "/") return !ps.empty() && ps.front() == '/';
  return ps.starts_with(ds) && (ps.size() == ds.size() || ps[ds.size()] == '/');
}

bool is_within_str(std::string_view ps, std::string_view ds) {
  if (plainly_normal(ps) && plainly_normal(ds)) return is_within_normal(ps, ds);
  return is_within(std::filesystem::path(ps), std::filesystem::path(ds));
}

bool is_within(const std::filesystem::path& p, const std::filesystem::path& dir) {
  if (plainly_normal(p.native()) && plainly_normal(dir.native())) return is_within_normal(p.native(), dir.native());
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
