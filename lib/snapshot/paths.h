// Turning the paths inside state handles into paths on this machine (spec §11).
//
// Tag-6 handles are relative to the directory holding `_metadata`; tag-2/15 handles carry a Flink
// `Path` string (`file:/x`, `file:///x`, `/x`, `hdfs://nn/x`, `s3://bucket/x`, ...). Remote URIs
// are checked against a local mirror when the user maps their prefix (`--map PREFIX=DIR`).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::snapshot {

struct PathMapping {
  std::string prefix;               // e.g. "s3://bucket/flink"
  std::filesystem::path local_dir;  // e.g. "/mnt/mirror/flink"
};

// Parses "PREFIX=DIR". nullopt when there is no '=' or either side is empty.
std::optional<PathMapping> parse_mapping(std::string_view spec);

struct ResolvedPath {
  enum class Kind { kLocal, kRemoteUnmapped };
  Kind kind = Kind::kLocal;
  std::filesystem::path local;  // kLocal: the path on this machine (lexically normalised)
  std::string uri;              // the handle's path string as Flink wrote it (UTF-8)
};

// A path a user gives ckpt (a command-line argument, a configuration value such as
// state.checkpoints.dir), read the way Flink reads a `Path`, so that the same string means the
// same place to both:
//  * `file:/x`, `file:///x` and `file://localhost/x` are the local `/x` (`file:x` is `x`);
//  * a path with no scheme is itself (relative paths stay relative);
//  * a remote URI under a mapped prefix is in the mapping's local directory (longest prefix);
//  * any other `scheme:/...` or `scheme://...` (s3, s3a, s3p, gs, hdfs, abfs(s), wasb(s), oss,
//    viewfs, ...) and a `file://HOST/x` of another host name a file system ckpt cannot reach:
//    `problem` says so, and nothing local must be made of the string (no directory `./s3:`).
struct UserPath {
  std::string local;    // the local path, when `problem` is empty
  std::string scheme;   // the URI scheme as written ("s3", "file"); empty for a plain path
  std::string root;     // "s3://bucket": scheme and authority, the PREFIX a --map would name
  std::string problem;  // empty, or what was found and what was expected (without the path itself)
  bool ok() const { return problem.empty(); }
};
UserPath local_of_user_path(std::string_view path, const std::vector<PathMapping>& mappings = {});
// True when `path` starts with `scheme://` or `file:` (for splitting lists of paths at ':').
bool starts_with_uri(std::string_view path);

// Resolves an absolute handle path (tags 2, 15). Mappings are tried longest prefix first; local
// `file:` and scheme-less paths need none.
ResolvedPath resolve_absolute(std::string_view flink_path, const std::vector<PathMapping>& mappings);

// Resolves a relative handle path (tag 6) against the directory that holds `_metadata`.
ResolvedPath resolve_relative(std::string_view relative, const std::filesystem::path& snapshot_dir);

// True when `p` (lexically normalised) lies inside `dir` (lexically normalised).
bool is_within(const std::filesystem::path& p, const std::filesystem::path& dir);
// True when lexically_normal() would return `p` unchanged (no empty, "." or ".." component, no
// trailing separator).
bool is_plainly_normal(std::string_view p);

// The same on strings (no std::filesystem::path is built when both are already normal).
bool is_within_str(std::string_view p, std::string_view dir);

// is_within for two absolute paths that are already lexically normal (what local_of_*_to and
// snapshot::absolute_normal return; `dir` without a trailing separator): a prefix test that
// skips is_within_str's scan for ".", ".." and empty components (a million handles per plan).
bool is_within_normal(std::string_view p, std::string_view dir);

// The same resolutions as plain strings, for callers that resolve millions of handles (the
// reference graph): no std::filesystem::path is built when the path is already normal.
// local_of_absolute: nullopt when the path is remote and no mapping covers it.
std::optional<std::string> local_of_absolute(std::string_view flink_path, const std::vector<PathMapping>& mappings);
std::string local_of_relative(std::string_view relative, const std::filesystem::path& snapshot_dir);
// The same into `out` (overwritten; its capacity is reused, so a caller resolving handle after
// handle allocates nothing on the common path). local_of_absolute_to: false when remote and
// unmapped (`out` is then unspecified).
bool local_of_absolute_to(std::string_view flink_path, const std::vector<PathMapping>& mappings, std::string& out);
void local_of_relative_to(std::string_view relative, const std::filesystem::path& snapshot_dir, std::string& out);

}  // namespace ckpt::snapshot
