#include "snapshot/paths.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

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

bool is_file_scheme(std::string_view scheme) {
  return scheme.size() == 4 && std::tolower(static_cast<unsigned char>(scheme[0])) == 'f' &&
         std::tolower(static_cast<unsigned char>(scheme[1])) == 'i' &&
         std::tolower(static_cast<unsigned char>(scheme[2])) == 'l' &&
         std::tolower(static_cast<unsigned char>(scheme[3])) == 'e';
}

// A string with a URI scheme, split the way Flink's Path splits it (java.net.URI syntax).
struct Uri {
  std::string_view scheme;     // "s3", "file"
  std::string_view authority;  // "bucket"; empty for `scheme:/x` and `scheme:///x`
  std::string_view path;       // "/x"; may be empty (`s3://bucket`)
  bool has_authority = false;  // written as `scheme://`
};

// nullopt for a plain path. A scheme is RFC 3986's `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
// followed by ':' and, except for `file:`, by '/': `a:b` stays a local file name (Flink would
// take "a" for a scheme and fail; ckpt is not stricter), `file:x` is the relative `x`.
std::optional<Uri> split_uri(std::string_view p) {
  std::size_t i = 0;
  if (p.empty() || !std::isalpha(static_cast<unsigned char>(p[0]))) return std::nullopt;
  while (i < p.size() && (std::isalnum(static_cast<unsigned char>(p[i])) || p[i] == '+' || p[i] == '-' || p[i] == '.'))
    ++i;
  if (i == p.size() || p[i] != ':') return std::nullopt;
  Uri u;
  u.scheme = p.substr(0, i);
  std::string_view rest = p.substr(i + 1);
  if (!is_file_scheme(u.scheme) && !rest.starts_with('/')) return std::nullopt;
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    std::size_t slash = std::min(rest.find('/'), rest.size());
    u.authority = rest.substr(0, slash);
    u.has_authority = true;
    rest.remove_prefix(slash);
  }
  u.path = rest;
  return u;
}

// A `file:` URI of this machine: no authority, an empty one or "localhost".
bool is_local_file_uri(const Uri& u) {
  return is_file_scheme(u.scheme) && (u.authority.empty() || u.authority == "localhost");
}

// The mapping with the longest prefix that covers `p` (whole components); nullptr when none.
const PathMapping* mapping_of(std::string_view p, const std::vector<PathMapping>& mappings) {
  const PathMapping* best = nullptr;
  for (const auto& m : mappings) {
    std::string_view pre = m.prefix;
    if (!p.starts_with(pre)) continue;
    if (p.size() != pre.size() && p[pre.size()] != '/' && pre.back() != '/') continue;
    if (!best || pre.size() > best->prefix.size()) best = &m;
  }
  return best;
}

std::string mapped_local(std::string_view p, const PathMapping& m) {
  std::string_view rest = p.substr(m.prefix.size());
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  return (m.local_dir / std::string(rest)).lexically_normal().native();
}

// Strips Flink's local-file scheme forms of a handle path: file:/x, file:///x, file://localhost/x.
// nullopt for a path that is neither such a URI nor absolute (remote, or relative).
std::optional<std::string_view> local_part(std::string_view p) {
  if (p.starts_with("/")) return p;
  auto u = split_uri(p);
  if (!u || !is_local_file_uri(*u)) return std::nullopt;
  if (u->has_authority && u->path.empty()) return std::nullopt;
  return u->path;
}

}  // namespace

bool local_of_absolute_to(std::string_view flink_path, const std::vector<PathMapping>& mappings, std::string& out) {
  if (const PathMapping* m = mapping_of(flink_path, mappings)) {
    out = mapped_local(flink_path, *m);
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

bool starts_with_uri(std::string_view path) {
  auto u = split_uri(path);
  return u && (u->has_authority || is_file_scheme(u->scheme));
}

UserPath local_of_user_path(std::string_view path, const std::vector<PathMapping>& mappings) {
  UserPath r;
  auto u = split_uri(path);
  if (u) {
    r.scheme = std::string(u->scheme);
    r.root = u->has_authority ? fmt::format("{}://{}", u->scheme, u->authority) : fmt::format("{}:", u->scheme);
  }
  if (!u) {
    r.local = std::string(path);
    return r;
  }
  if (is_local_file_uri(*u)) {
    if (u->path.empty()) {
      r.problem = "a file: URI without a path (expected file:/PATH, file:///PATH or file://localhost/PATH)";
    } else {
      r.local = std::string(u->path);
    }
    return r;
  }
  if (const PathMapping* m = mapping_of(path, mappings)) {
    // A mapped prefix (--map s3://bucket=DIR) reaches the remote file system through its copy.
    r.local = mapped_local(path, *m);
    return r;
  }
  if (is_file_scheme(u->scheme)) {
    r.problem = fmt::format(
        "a file: URI of host \"{}\" (expected file:/PATH, file:///PATH or "
        "file://localhost/PATH: ckpt reads this machine's files only)",
        u->authority);
    return r;
  }
  r.problem = fmt::format("scheme \"{}\" is not supported yet (expected a local path or a file: URI)", u->scheme);
  return r;
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
  if (snapshot_dir.native().find("://") != std::string::npos) {
    // A snapshot in an object store (snapshot/store_discovery.h): the file is the object beside
    // its `_metadata`, named by URI; the store's own lookup checks it, not the local file system.
    r.kind = ResolvedPath::Kind::kRemoteUnmapped;
    r.uri = snapshot_dir.native() + "/" + std::string(relative);
    return r;
  }
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
