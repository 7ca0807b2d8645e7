#include "ops/staged_snapshot.h"

#include "flink/metadata_reader.h"
#include "ops/snapshot_source.h"

namespace ckpt::ops {

StagedSnapshot::StagedSnapshot(const std::string& uri, const std::map<std::string, std::string>& config) {
  SnapshotSource source(uri, config);
  snapshot::Discovery d = source.discover();
  if (!d.single || d.snapshots.size() != 1) {
    throw util::Error(util::ErrorKind::kUsage, uri + ": names " + std::to_string(d.snapshots.size()) +
                                                   " snapshots, expected one snapshot prefix or _metadata object");
  }
  const snapshot::Location& loc = d.snapshots.front();
  std::string bytes = source.read_bytes(loc);
  flink::Metadata md = flink::parse_metadata(bytes, loc.metadata.native());
  copy_ = std::make_unique<snapshot::StoreCopy>(source.store(), loc, bytes, md);
  local_path_ = copy_->local_of(uri);
}

std::string StagedSnapshot::name_uri(std::string_view text) const { return copy_->name_uri(text); }

}  // namespace ckpt::ops
