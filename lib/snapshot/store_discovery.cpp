#include "snapshot/store_discovery.h"

#include <algorithm>
#include <map>
#include <set>

#include "io/decode_error.h"
#include "snapshot/layout.h"

namespace ckpt::snapshot {
namespace {

std::string_view parent_of(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
}

std::string_view name_of(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

std::string trimmed(std::string_view key) {
  while (!key.empty() && key.back() == '/') key.remove_suffix(1);
  return std::string(key);
}

}  // namespace

Location locate_in_store(const storage::ObjectStore& store, const storage::ObjectInfo& metadata) {
  Location loc;
  loc.in_object_store = true;
  loc.listed_bytes = metadata.size;
  loc.listed_mtime_ns = metadata.modified_unix_ns;
  std::string_view dir = parent_of(metadata.key);
  loc.metadata = store.uri(metadata.key);
  loc.directory = store.uri(dir);
  std::string_view name = name_of(dir);
  if (auto n = checkpoint_number(name)) {
    loc.dir_kind = DirKind::kCheckpoint;
    loc.checkpoint_number = n;
    loc.job_dir = store.uri(parent_of(dir));
  } else if (name.starts_with(kSavepointDirPrefix)) {
    loc.dir_kind = DirKind::kSavepoint;
  }
  return loc;
}

Discovery discover_in_listing(const storage::ObjectStore& store, std::string_view key_in,
                              const std::vector<storage::ObjectInfo>& objects) {
  Discovery out;
  std::string key = trimmed(key_in);
  out.root = store.uri(key);
  const std::string base = key.empty() ? "" : key + "/";
  // The key itself is a `_metadata` (or any object a user named): one snapshot.
  for (const auto& o : objects) {
    if (o.key == key && !key.empty()) {
      out.single = true;
      out.snapshots.push_back(locate_in_store(store, o));
      return out;
    }
  }
  std::set<std::string> snapshot_dirs;  // relative to base, without the trailing '/'
  std::set<std::string> checkpoint_dirs;
  for (const auto& o : objects) {
    if (!o.key.starts_with(base)) continue;
    std::string_view rel = std::string_view(o.key).substr(base.size());
    // Walk the directory components; stop at shared/ and taskowned/ (state files only).
    size_t start = 0;
    bool state_dir = false;
    for (size_t slash = rel.find('/'); slash != std::string_view::npos; slash = rel.find('/', start)) {
      std::string_view component = rel.substr(start, slash - start);
      if (component == kSharedDirName || component == kTaskOwnedDirName) {
        state_dir = true;
        break;
      }
      if (checkpoint_number(component)) checkpoint_dirs.insert(std::string(rel.substr(0, slash)));
      start = slash + 1;
    }
    if (state_dir) continue;
    if (name_of(rel) == kMetadataFileName) snapshot_dirs.insert(std::string(parent_of(rel)));
  }
  // The key names a snapshot prefix itself.
  if (snapshot_dirs.count("")) {
    for (const auto& o : objects) {
      if (o.key == base + std::string(kMetadataFileName)) out.snapshots.push_back(locate_in_store(store, o));
    }
    out.single = true;
    return out;
  }
  auto inside_snapshot = [&](std::string_view dir) {
    for (std::string_view d = parent_of(dir); !d.empty(); d = parent_of(d)) {
      if (snapshot_dirs.count(std::string(d))) return true;
    }
    return false;
  };
  for (const auto& o : objects) {
    if (!o.key.starts_with(base)) continue;
    std::string_view rel = std::string_view(o.key).substr(base.size());
    if (name_of(rel) != kMetadataFileName) continue;
    std::string dir(parent_of(rel));
    if (!snapshot_dirs.count(dir) || inside_snapshot(dir)) continue;
    out.snapshots.push_back(locate_in_store(store, o));
  }
  for (const auto& d : checkpoint_dirs) {
    if (!snapshot_dirs.count(d) && !inside_snapshot(d)) out.incomplete.push_back(store.uri(base + d));
  }
  if (!key.empty() && checkpoint_number(name_of(key)) && out.snapshots.empty()) {
    out.single = true;  // a chk-N prefix without `_metadata`: the checkpoint never completed
    out.incomplete = {store.uri(key)};
  }
  return out;
}

Discovery discover_in_store(storage::ObjectStore& store, std::string_view key, std::optional<PrefixListing>* listed) {
  std::string k = trimmed(key);
  // A named object is one snapshot; anything else is a prefix to list.
  if (!k.empty() && name_of(k) == kMetadataFileName) {
    if (auto o = store.stat(k)) return discover_in_listing(store, k, {*o});
    throw io::IoError(store.uri(k) + ": no such object");
  }
  std::string prefix = k.empty() ? "" : k + "/";
  std::vector<storage::ObjectInfo> objects = storage::list_all(store, prefix);
  if (objects.empty()) {
    throw io::IoError(store.uri(k) + ": no objects under this prefix (is the bucket or prefix right?)");
  }
  Discovery d = discover_in_listing(store, k, objects);
  if (listed) listed->emplace(PrefixListing{std::move(prefix), std::move(objects)});
  return d;
}

}  // namespace ckpt::snapshot
