#include "ops/snapshot_source.h"

#include <algorithm>
#include <memory>

#include "flink/metadata_reader.h"
#include "io/file_bytes.h"
#include "snapshot/layout.h"
#include "snapshot/store_discovery.h"
#include "storage/object_uri.h"

namespace ckpt::ops {
namespace {

// The largest `_metadata` ckpt reads from a store (local files have the reader's own bound).
// Flink's biggest in the fixtures is a few MiB; 1 GiB leaves room and bounds the allocation.

}  // namespace

bool is_object_store_path(std::string_view path) {
  size_t colon = path.find("://");
  return colon != std::string_view::npos && storage::is_object_store_scheme(path.substr(0, colon));
}

SnapshotSource::SnapshotSource(std::string_view user_path, const std::map<std::string, std::string>& config)
    : path_(user_path), opened_(storage::open_store(user_path, config)) {}

snapshot::Discovery SnapshotSource::discover() {
  if (!in_object_store()) return snapshot::discover(path_);
  // One listing serves discovery and, later, every lookup of a file under it.
  std::optional<snapshot::PrefixListing> listing;  // absent when one `_metadata` was named
  snapshot::Discovery d = snapshot::discover_in_store(*opened_.store, opened_.key, &listing);
  listed_prefix_.reset();
  listed_.clear();
  if (listing) {
    listed_prefix_ = std::move(listing->prefix);
    for (const auto& o : listing->objects) listed_.emplace(o.key, o);
  }
  return d;
}

void SnapshotSource::prefetch(const std::vector<snapshot::Location>& locations) {
  if (!in_object_store()) return;
  // Every fetched object is held until it is read: `_metadata` objects are small next to the
  // state they describe (KiBs to a few MiB).
  // Listed objects carry their ETag, and so may come from the cache.
  std::vector<storage::ObjectInfo> objects;
  std::unordered_map<std::string, std::string> uri_of;
  for (const auto& loc : locations) {
    auto u = storage::parse_object_uri(loc.metadata.native());
    if (!u) continue;
    auto it = listed_.find(u->key);
    storage::ObjectInfo o;
    if (it != listed_.end()) o = it->second;
    o.key = u->key;
    objects.push_back(std::move(o));
    uri_of[u->key] = loc.metadata.native();
  }
  for (auto& [key, bytes] :
       storage::prefetch(*opened_.store, objects, snapshot::kMaxMetadataObjectBytes, opened_.cache.get())) {
    prefetched_[uri_of[key]] = std::move(bytes);
  }
}

std::string SnapshotSource::read_bytes(const snapshot::Location& loc) {
  if (!loc.in_object_store) return io::read_file_bytes(loc.metadata);
  std::string uri = loc.metadata.string();
  if (auto it = prefetched_.find(uri); it != prefetched_.end()) {
    std::string bytes = std::move(it->second);
    prefetched_.erase(it);
    return bytes;
  }
  auto parsed = storage::parse_object_uri(uri);
  return opened_.store->read(parsed ? parsed->key : uri, snapshot::kMaxMetadataObjectBytes);
}

namespace {

// read_bytes, with a failure reported as flink::MetadataError as the parse's failures are.
std::shared_ptr<const std::string> metadata_bytes(SnapshotSource& source, const snapshot::Location& loc) {
  try {
    return std::make_shared<const std::string>(source.read_bytes(loc));
  } catch (const util::Error& e) {
    throw flink::MetadataError(e.what(), 0);
  }
}

}  // namespace

flink::Metadata SnapshotSource::read(const snapshot::Location& loc) {
  if (!loc.in_object_store) return flink::read_metadata_file(loc.metadata);
  return flink::parse_metadata(metadata_bytes(*this, loc), loc.metadata.string());
}

flink::OperatorStream SnapshotSource::stream(const snapshot::Location& loc) {
  return flink::OperatorStream(metadata_bytes(*this, loc), loc.metadata.string());
}

validate::RemoteStat SnapshotSource::stat(const std::string& uri) {
  validate::RemoteStat out;
  auto u = storage::parse_object_uri(uri);
  if (!u || !opened_.uri || !storage::same_bucket(*u, *opened_.uri)) return out;  // never followed
  if (listed_prefix_ && u->key.starts_with(*listed_prefix_)) {
    auto it = listed_.find(u->key);
    out.kind = it == listed_.end() ? validate::RemoteStat::Kind::kMissing : validate::RemoteStat::Kind::kFound;
    out.size = it == listed_.end() ? 0 : static_cast<int64_t>(it->second.size);
    return out;
  }
  auto st = opened_.store->stat(u->key);
  out.kind = st ? validate::RemoteStat::Kind::kFound : validate::RemoteStat::Kind::kMissing;
  out.size = st ? static_cast<int64_t>(st->size) : 0;
  return out;
}

void SnapshotSource::download(const std::vector<std::string>& uris, const std::vector<std::string>& files) {
  std::vector<std::string> keys;
  for (const std::string& uri : uris) {
    auto u = storage::parse_object_uri(uri);
    if (!u || !opened_.uri || !storage::same_bucket(*u, *opened_.uri)) {
      throw util::Error(util::ErrorKind::kInternal, uri + ": not an object of " + opened_.uri->str());
    }
    keys.push_back(u->key);
  }
  opened_.store->download(keys, files);
}

}  // namespace ckpt::ops
