#include "pipeline/completed_store.h"

#include <system_error>

#include "io/atomic_file.h"
#include "io/confined_open.h"
#include "snapshot/file_refs.h"
#include "snapshot/layout.h"
#include "snapshot/read_scope.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> shared_files(const CompletedSnapshot& s) {
  std::vector<fs::path> out;
  if (s.dir.empty() || !s.metadata) return out;
  for (const auto& f : snapshot::file_refs(*s.metadata, s.dir)) {
    if (f.shared && f.resolved.kind == snapshot::ResolvedPath::Kind::kLocal) out.push_back(f.resolved.local);
  }
  return out;
}

}  // namespace

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

int CompletedCheckpointStore::references(const fs::path& file) const {
  auto it = shared_refs_.find(file);
  return it == shared_refs_.end() ? 0 : it->second;
}

}  // namespace ckpt::pipeline
