#include "validate/file_rules.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <system_error>

#include "flink/operator_id.h"
#include "io/decode_error.h"
#include "io/temp_dir.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"
#include "snapshot/read_scope.h"
#include "validate/deep.h"

namespace fs = std::filesystem;

namespace ckpt::validate {
namespace {

struct Stat {
  int err = 0;  // errno of stat(), 0 when it succeeded
  bool regular = false;
  int64_t size = 0;
};

Stat stat_of(const fs::path& p) {
  Stat s;
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    s.err = errno;
    return s;
  }
  s.regular = S_ISREG(st.st_mode);
  s.size = static_cast<int64_t>(st.st_size);
  return s;
}

std::string where_of(const flink::Metadata& md, const snapshot::FileRef& f) {
  if (f.ref.operator_index < 0) return "";
  return operator_where(md.operators[static_cast<std::size_t>(f.ref.operator_index)], f.ref.subtask_index);
}

std::string describe(const snapshot::FileRef& f) {
  std::string s = f.path;
  if (!f.ref.local_path.empty()) s += fmt::format(" [{}]", std::string(f.ref.local_path));
  return s;
}

void fill(Finding& fd, const flink::Metadata& md, const snapshot::FileRef& f, const std::string& file) {
  if (f.ref.operator_index >= 0) {
    const auto& op = md.operators[static_cast<std::size_t>(f.ref.operator_index)];
    fd.operator_id = flink::to_hex(op.id);
  }
  fd.subtask = f.ref.subtask_index;
  fd.file = file;
}

bool canonical_chk_name(std::string_view name) {
  auto n = snapshot::checkpoint_number(name);
  return n && name == fmt::format("{}{}", snapshot::kCheckpointDirPrefix, *n);
}

// F26: leftovers in the snapshot directory. Single-file savepoints (not named _metadata) sit in
// arbitrary directories and are skipped.
void check_leftovers(const snapshot::Location& loc, const std::set<fs::path>& referenced_local, Findings& out) {
  if (loc.metadata.filename() != snapshot::kMetadataFileName) return;
  std::error_code ec;
  std::vector<std::string> orphans;
  for (const auto& e : fs::directory_iterator(loc.directory, ec)) {
    std::error_code sec;
    if (!e.is_regular_file(sec) || e.is_symlink(sec)) continue;
    if (e.path().filename() == snapshot::kMetadataFileName) continue;
    if (referenced_local.count(fs::absolute(e.path()).lexically_normal())) continue;
    orphans.push_back(e.path().string());
  }
  std::sort(orphans.begin(), orphans.end());
  for (const auto& o : orphans) {
    Finding& fd =
        out.add("F26", "", fmt::format("{} is not referenced by _metadata (left over from a failed upload?)", o));
    fd.file = o;
  }
}

// F27, F28: directory names.
void check_directory_names(const snapshot::Location& loc, Findings& out) {
  std::string dir_name = loc.directory.lexically_normal().filename().string();
  if (dir_name.empty()) dir_name = loc.directory.lexically_normal().parent_path().filename().string();
  if (dir_name.starts_with(snapshot::kSavepointDirPrefix) && !snapshot::is_flink_savepoint_name(dir_name)) {
    out.add("F27", "",
            fmt::format("savepoint directory \"{}\" does not match savepoint-[0-9a-f]{{6}}-[0-9a-f]{{12}}", dir_name));
  }
  if (loc.dir_kind == snapshot::DirKind::kCheckpoint && !canonical_chk_name(dir_name)) {
    out.add("F28", "", fmt::format("checkpoint directory \"{}\" is not chk-<N> as Flink names it", dir_name));
  }
}

// F23/F24 for a file in the snapshot's object store: present, and as long as its handle says.
template <typename Report>
bool check_remote(const snapshot::FileRef& f, const RemoteStat& st, bool fresh, const snapshot::Location& loc,
                  Report& report, FileStats& stats) {
  const std::string& uri = f.resolved.uri;
  const char* rule_id = f.form == snapshot::PathForm::kRelative ? "F23" : "F24";
  if (fresh) ++stats.referenced;
  if (f.form == snapshot::PathForm::kRelative && !uri.starts_with(loc.directory.native() + "/")) {
    report(f, "F30", Severity::kError, uri,
           fmt::format("relative path \"{}\" resolves to {}, outside the snapshot directory", f.path, uri));
    return false;
  }
  if (st.kind == RemoteStat::Kind::kMissing) {
    report(f, rule_id, Severity::kError, uri, fmt::format("{}: {} does not exist", describe(f), uri));
    return false;
  }
  if (f.form == snapshot::PathForm::kSegment) {
    if (f.segment_start >= 0 && f.size >= 0 && (f.segment_start > st.size || f.size > st.size - f.segment_start)) {
      report(f, rule_id, Severity::kError, uri,
             fmt::format("{}: segment of {} bytes at {} lies beyond the end of the {}-byte object", describe(f), f.size,
                         f.segment_start, st.size));
      return false;
    }
  } else if (f.size >= 0 && f.size != st.size) {
    report(f, rule_id, Severity::kError, uri,
           fmt::format("{}: {} has {} bytes, the handle records {}{}", describe(f), uri, st.size, f.size,
                       st.size < f.size ? " (truncated)" : ""));
    return false;
  }
  if (fresh) ++stats.checked;
  return true;
}

// The D rules on objects: downloaded to a private temporary directory, checked there, and every
// finding renamed back to the object's URI. The directory goes whatever happens.
int64_t check_deep_remote(const flink::Metadata& md, std::vector<DeepItem>& items, RemoteFiles& remote,
                          const FileOptions& options, Findings& out) {
  const io::TempDir tmp("ckpt-deep");
  const fs::path& dir = tmp.path();
  std::vector<std::string> uris, files;
  std::map<std::string, std::string> uri_of;  // local copy -> object
  for (auto& item : items) {
    std::string uri = item.path.string();
    if (uri.find("://") == std::string::npos) continue;  // a local file (a --map mirror)
    std::string local = (dir / std::to_string(uris.size())).string();
    uris.push_back(uri);
    files.push_back(local);
    uri_of[local] = uri;
    item.path = local;
  }
  remote.download(uris, files);
  Findings local;
  int64_t bytes = check_deep(md, items, options.threads, options.progress, local);
  for (Finding& f : local.items()) {
    for (const auto& [file, uri] : uri_of) {
      if (f.file == file) f.file = uri;
      for (size_t at = f.message.find(file); at != std::string::npos; at = f.message.find(file, at + uri.size())) {
        f.message.replace(at, file.size(), uri);
      }
    }
    out.items().push_back(std::move(f));
  }
  return bytes;
}

}  // namespace

void check_files(const flink::Metadata& md, const snapshot::Location& loc, const FileOptions& options, Findings& out,
                 FileStats& stats) {
  std::vector<snapshot::FileRef> refs = snapshot::file_refs(md, loc.directory, options.mappings);
  std::map<fs::path, Stat> stats_by_path;
  std::map<fs::path, std::size_t> deep_index;
  std::vector<DeepItem> deep_items;
  std::set<std::string> remote_reported;
  std::set<std::string> reported;  // path + rule: one finding per file and problem
  std::set<fs::path> referenced_local;
  bool shared_in_savepoint_reported = false;
  // Spec §19 rule 24: references that leave the checkpoint's job directory (another job's shared
  // state, kept by a restore in CLAIM or LEGACY mode) are reported separately: deleting that other
  // directory breaks this checkpoint.
  const fs::path job_dir = loc.job_dir.empty() ? fs::path() : fs::absolute(loc.job_dir).lexically_normal();
  std::string foreign;
  std::size_t foreign_count = 0;
  // F32: what copy, link and pack commands would refuse to read (snapshot/read_scope.h).
  const io::ReadScope scope = snapshot::read_scope(loc, options.mappings, options.allow_outside);
  const bool savepoint = loc.dir_kind == snapshot::DirKind::kSavepoint ||
                         (md.trailer_state == flink::TrailerState::kParsed &&
                          md.properties.kind == flink::CheckpointProperties::Kind::kSavepoint);

  auto report = [&](const snapshot::FileRef& f, std::string_view rule_id, Severity sev, const std::string& file,
                    std::string message) {
    if (!reported.insert(file + "\n" + std::string(rule_id) + "\n" + message).second) return;
    Finding& fd = out.add(rule_id, sev, where_of(md, f), std::move(message));
    fill(fd, md, f, file);
  };

  std::map<std::string, RemoteStat> remote_by_uri;
  std::set<std::string> remote_deep;  // deep items that are objects (downloaded before the D rules)
  for (const snapshot::FileRef& f : refs) {
    if (f.resolved.kind == snapshot::ResolvedPath::Kind::kRemoteUnmapped && options.remote) {
      auto [it, fresh] = remote_by_uri.try_emplace(f.resolved.uri);
      if (fresh) it->second = options.remote->stat(f.resolved.uri);
      if (it->second.kind != RemoteStat::Kind::kUnreachable) {
        if (check_remote(f, it->second, fresh, loc, report, stats) && options.deep) {
          auto [di, new_item] = deep_index.try_emplace(f.resolved.uri, deep_items.size());
          if (new_item) deep_items.push_back(DeepItem{f.resolved.uri, static_cast<uint64_t>(it->second.size), {}});
          deep_items[di->second].uses.push_back(&f);
          remote_deep.insert(f.resolved.uri);
        }
        continue;
      }
    }
    if (f.resolved.kind == snapshot::ResolvedPath::Kind::kRemoteUnmapped) {
      if (remote_reported.insert(f.resolved.uri).second) {
        ++stats.referenced;
        ++stats.not_checked;
        report(f, "F31", options.strict ? Severity::kError : Severity::kInfo, f.resolved.uri,
               fmt::format("{} is on a remote file system without --map: not checked", describe(f)));
      }
      continue;
    }
    const fs::path& p = f.resolved.local;
    const std::string ps = p.string();
    const char* rule_id = f.form == snapshot::PathForm::kRelative ? "F23" : "F24";
    if (f.form == snapshot::PathForm::kRelative && !snapshot::is_within(p, loc.directory)) {
      report(f, "F30", Severity::kError, ps,
             fmt::format("relative path \"{}\" resolves to {}, outside the snapshot directory", f.path, ps));
      continue;
    }
    if (savepoint && f.form != snapshot::PathForm::kRelative && f.path.find("/shared/") != std::string::npos &&
        !shared_in_savepoint_reported) {
      shared_in_savepoint_reported = true;
      report(
          f, "F27", Severity::kWarning, ps,
          fmt::format("savepoint references {} in a checkpoint's shared/ directory: it is not self-contained", f.path));
    }
    auto [it, fresh] = stats_by_path.try_emplace(p);
    if (fresh) {
      it->second = stat_of(p);
      // Only files this machine has: a missing one is F23/F24's (the other machine's paths of
      // a snapshot copied here are not a confinement problem).
      if (it->second.err == 0) {
        if (scope.containing(p).empty()) {
          report(f, "F32", Severity::kError, ps,
                 fmt::format("handle path {} resolves outside the snapshot's root {}", f.path,
                             snapshot::snapshot_root(loc).string()));
        } else if (std::string why = scope.refusal(p); !why.empty()) {
          report(f, "F32", Severity::kError, ps, fmt::format("handle path {} is not confined: {}", f.path, why));
        }
      }
      ++stats.referenced;
      fs::path absolute = fs::absolute(p).lexically_normal();
      if (!job_dir.empty() && f.form != snapshot::PathForm::kRelative && !snapshot::is_within(absolute, job_dir)) {
        if (foreign.empty()) foreign = ps;
        ++foreign_count;
      }
      referenced_local.insert(std::move(absolute));
    }
    const Stat& st = it->second;
    if (st.err != 0) {
      std::string why =
          st.err == ENOENT ? "does not exist" : std::error_code(st.err, std::generic_category()).message();
      report(f, rule_id, Severity::kError, ps, fmt::format("{}: {} {}", describe(f), ps, why));
      continue;
    }
    if (!st.regular) {
      report(f, rule_id, Severity::kError, ps, fmt::format("{}: {} is not a regular file", describe(f), ps));
      continue;
    }
    if (f.form == snapshot::PathForm::kSegment) {
      if (f.segment_start >= 0 && f.size >= 0 && (f.segment_start > st.size || f.size > st.size - f.segment_start)) {
        report(f, rule_id, Severity::kError, ps,
               fmt::format("{}: segment of {} bytes at {} lies beyond the end of the {}-byte file", describe(f), f.size,
                           f.segment_start, st.size));
        continue;
      }
    } else if (f.size >= 0 && f.size != st.size) {
      report(f, rule_id, Severity::kError, ps,
             fmt::format("{}: {} has {} bytes, the handle records {}{}", describe(f), ps, st.size, f.size,
                         st.size < f.size ? " (truncated)" : ""));
      continue;
    }
    if (fresh) ++stats.checked;
    if (options.deep) {
      auto [di, new_item] = deep_index.try_emplace(p, deep_items.size());
      if (new_item) deep_items.push_back(DeepItem{p, static_cast<uint64_t>(st.size), {}});
      deep_items[di->second].uses.push_back(&f);
    }
  }

  if (foreign_count > 0) {
    Finding& fd = out.add("F24", Severity::kInfo, "",
                          fmt::format("{} referenced file(s) lie outside this checkpoint's job directory {} (e.g. {}): "
                                      "keep their directory as long as this checkpoint",
                                      foreign_count, job_dir.string(), foreign));
    fd.file = foreign;
  }

  check_leftovers(loc, referenced_local, out);
  check_directory_names(loc, out);

  if (options.deep) {
    if (remote_deep.empty()) {
      stats.bytes_read = check_deep(md, deep_items, options.threads, options.progress, out);
    } else {
      stats.bytes_read = check_deep_remote(md, deep_items, *options.remote, options, out);
    }
  }
}

}  // namespace ckpt::validate
