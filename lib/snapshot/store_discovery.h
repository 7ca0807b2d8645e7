// Finding snapshots in an object store, with the meaning discovery.h gives a local path. A store
// has no directories: a "directory" is a key prefix, and `chk-N` is complete only when its
// `_metadata` object exists. The store is listed once, in full (a failed listing throws; nothing
// is reported from part of one).
//
// The key may name a `_metadata` object, a snapshot prefix (`.../chk-5`), a job prefix or any
// root. Objects under `shared/` and `taskowned/` are state files, never snapshots; a snapshot's
// prefix is not searched for further snapshots. Locations carry URIs (`store.uri(key)`) and the
// listed size and time of their `_metadata`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/discovery.h"
#include "storage/object_store.h"

namespace ckpt::snapshot {

// `listed` (when given) receives the listing when a prefix was listed (not when `key` named one
// `_metadata` object): the prefix ("" or ending in '/') and every object under it.
struct PrefixListing {
  std::string prefix;
  std::vector<storage::ObjectInfo> objects;
};
Discovery discover_in_store(storage::ObjectStore& store, std::string_view key,
                            std::optional<PrefixListing>* listed = nullptr);

// The same from an existing listing of the prefix `key` (prune and gc list once for both).
Discovery discover_in_listing(const storage::ObjectStore& store, std::string_view key,
                              const std::vector<storage::ObjectInfo>& objects);

// A snapshot location for a `_metadata` object at `key`, as locate() does for a local file.
Location locate_in_store(const storage::ObjectStore& store, const storage::ObjectInfo& metadata);

}  // namespace ckpt::snapshot
