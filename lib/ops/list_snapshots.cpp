#include "ops/list_snapshots.h"

#include <algorithm>

#include "flink/metadata_reader.h"

namespace ckpt::ops {

SnapshotList list_snapshots(const snapshot::Discovery& found, SnapshotSource* source) {
  SnapshotList out;
  out.incomplete = found.incomplete;
  out.unsearched = found.unsearched;
  out.snapshots.reserve(found.snapshots.size());
  if (source) source->prefetch(found.snapshots);
  for (const auto& loc : found.snapshots) {
    ListedSnapshot l{loc, std::nullopt, {}};
    try {
      flink::Metadata md = source ? source->read(loc) : flink::read_metadata_file(loc.metadata);
      InspectOptions summary_only;
      summary_only.large_arena = false;  // hundreds of snapshots: small blocks
      l.result = inspect(md, loc, summary_only);
    } catch (const flink::MetadataError& e) {
      l.error = e.what();
      ++out.unreadable;
    }
    out.snapshots.push_back(std::move(l));
  }
  std::sort(out.snapshots.begin(), out.snapshots.end(), [](const ListedSnapshot& x, const ListedSnapshot& y) {
    int64_t tx = x.result ? x.result->modified_unix : 0;
    int64_t ty = y.result ? y.result->modified_unix : 0;
    if (tx != ty) return tx > ty;
    int64_t ix = x.result ? x.result->summary().checkpoint_id() : -1;
    int64_t iy = y.result ? y.result->summary().checkpoint_id() : -1;
    if (ix != iy) return ix > iy;
    return x.location.metadata < y.location.metadata;
  });
  return out;
}

}  // namespace ckpt::ops
