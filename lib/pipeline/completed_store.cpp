#include "pipeline/completed_store.h"

#include <system_error>

#include "io/atomic_file.h"
#include "io/confined_open.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"
#include "snapshot/read_scope.h"
#include "storage/object_uri.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

namespace {

// The shared files of `s`: local paths, or the URIs of objects in its store.
std::vector<std::string> shared_files(const CompletedSnapshot& s) {
  std::vector<std::string> out;
  if (s.dir.empty() || !s.metadata) return out;
  for (const auto& f : snapshot::file_refs(*s.metadata, s.dir)) {
    if (!f.shared) continue;
    if (f.resolved.kind == snapshot::ResolvedPath::Kind::kLocal) out.push_back(f.resolved.local.string());
    else if (s.store && !f.resolved.uri.empty()) out.push_back(f.resolved.uri);
  }
  return out;
}

// The key of `uri` when it names an object of the snapshot's bucket under its root prefix (the
// job directory of a checkpoint, the savepoint itself): the only objects release() deletes.
std::optional<std::string> owned_key(const CompletedSnapshot& s, const std::string& uri) {
  auto root = storage::parse_object_uri(s.dir.parent_path().string());
  auto u = storage::parse_object_uri(uri);
  if (!root || !u || !storage::same_bucket(*root, *u)) return std::nullopt;
  if (!root->key.empty() && !u->key.starts_with(root->key + "/")) return std::nullopt;
  if (u->key.find("/../") != std::string::npos || u->key.starts_with("../")) return std::nullopt;
  return u->key;
}

void release_in_store(const CompletedSnapshot& s, std::map<std::string, int>& refs) {
  storage::ObjectStore& store = *s.store;
  auto dir = storage::parse_object_uri(s.dir.string());
  if (!dir) return;
  try {
    std::string metadata = dir->key + "/" + std::string(snapshot::kMetadataFileName);
    if (!store.remove(std::span(&metadata, 1)).empty()) return;  // still complete: keep every file
    std::vector<std::string> unreferenced;
    for (const auto& f : shared_files(s)) {
      auto it = refs.find(f);
      if (it == refs.end()) continue;
      if (--it->second == 0) {
        if (auto key = owned_key(s, f)) unreferenced.push_back(*key);
        refs.erase(it);
      }
    }
    for (const auto& o : storage::list_all(store, dir->key + "/")) unreferenced.push_back(o.key);
    (void)store.remove(unreferenced);  // best effort, as on disk: what stays is gc's to find
  } catch (const std::exception&) {
  }
}

}  // namespace

CompletedSnapshot unowned_snapshot(std::shared_ptr<const flink::Metadata> metadata, fs::path dir,
                                   std::shared_ptr<storage::ObjectStore> store) {
  CompletedSnapshot s;
  s.id = metadata->checkpoint_id;
  s.savepoint = metadata->properties.kind == flink::CheckpointProperties::Kind::kSavepoint;
  s.dir = std::move(dir);
  s.store = std::move(store);
  s.properties = metadata->properties;
  s.metadata = std::move(metadata);
  s.owned = false;
  return s;
}

void CompletedCheckpointStore::add(CompletedSnapshot s) {
  if (s.owned) {
    for (const auto& f : shared_files(s)) ++shared_refs_[f];
  }
  retained_.push_back(std::move(s));
  while (static_cast<int>(retained_.size()) > num_retained_) {
    CompletedSnapshot old = std::move(retained_.front());
    retained_.pop_front();
    release(old);
  }
}

void CompletedCheckpointStore::release(const CompletedSnapshot& s) {
  if (!s.owned) return;
  if (s.store) {
    release_in_store(s, shared_refs_);
    return;
  }
  std::error_code ec;
  // `_metadata` goes first (and durably), as Flink discards the metadata before the state: a
  // crash in the middle leaves an incomplete chk-N, never a complete-looking one missing files.
  if (!s.dir.empty() && fs::remove(s.dir / snapshot::kMetadataFileName, ec)) {
    try {
      io::fsync_directory(s.dir);
    } catch (const std::exception&) {
      // best effort: the directory is being deleted anyway
    }
  }
  // A claimed snapshot's paths are input: its shared files are deleted only inside its root and
  // through no symbolic link (snapshot/read_scope.h), never wherever a handle points.
  const io::ReadScope scope = s.dir.empty()
                                  ? io::ReadScope()
                                  : snapshot::read_scope(snapshot::locate(s.dir / snapshot::kMetadataFileName), {}, {});
  for (const auto& f : shared_files(s)) {
    auto it = shared_refs_.find(f);
    if (it == shared_refs_.end()) continue;
    if (--it->second == 0) {
      (void)scope.unlink(f);  // best effort, as before: a file left behind is gc's to find
      shared_refs_.erase(it);
    }
  }
  if (!s.dir.empty()) fs::remove_all(s.dir, ec);
}

void CompletedCheckpointStore::discard_all() {
  while (!retained_.empty()) {
    CompletedSnapshot old = std::move(retained_.front());
    retained_.pop_front();
    release(old);
  }
}

int CompletedCheckpointStore::references(const std::string& file) const {
  auto it = shared_refs_.find(file);
  return it == shared_refs_.end() ? 0 : it->second;
}

}  // namespace ckpt::pipeline
