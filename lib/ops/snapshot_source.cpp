#include "ops/snapshot_source.h"

#include "flink/metadata_reader.h"
#include "snapshot/store_discovery.h"
#include "storage/object_uri.h"

namespace ckpt::ops {
namespace {

// The largest `_metadata` ckpt reads from a store (local files have the reader's own bound).
// Flink's biggest in the fixtures is a few MiB; 1 GiB leaves room and bounds the allocation.
constexpr uint64_t kMaxMetadataBytes = uint64_t{1} << 30;

}  // namespace

bool is_object_store_path(std::string_view path) {
  size_t colon = path.find("://");
  return colon != std::string_view::npos && storage::is_object_store_scheme(path.substr(0, colon));
}

SnapshotSource::SnapshotSource(std::string_view user_path, const std::map<std::string, std::string>& config)
    : path_(user_path), opened_(storage::open_store(user_path, config)) {}

snapshot::Discovery SnapshotSource::discover() {
  if (!in_object_store()) return snapshot::discover(path_);
  return snapshot::discover_in_store(*opened_.store, opened_.key);
}

flink::Metadata SnapshotSource::read(const snapshot::Location& loc) {
  if (!loc.in_object_store) return flink::read_metadata_file(loc.metadata);
  std::string uri = loc.metadata.string();
  auto parsed = storage::parse_object_uri(uri);
  std::string bytes;
  try {
    bytes = opened_.store->read(parsed ? parsed->key : uri, kMaxMetadataBytes);
  } catch (const util::Error& e) {
    throw flink::MetadataError(e.what(), 0);
  }
  return flink::parse_metadata(std::move(bytes), uri);
}

}  // namespace ckpt::ops
