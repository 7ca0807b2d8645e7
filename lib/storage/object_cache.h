// A local cache of objects read from an object store, for the objects a command reads again on
// every run: each `_metadata` of a root, which prune, gc, inspect and validate all read whole. A
// gc of 1,000 checkpoints otherwise GETs 1,000 objects each time it runs, though only the newest
// few changed.
//
// Contracts:
//  * An entry is used only for the same store (endpoint, region, bucket), key, size and ETag as
//    the listing just made shows, and only when its content checksum (XXH64, over the header and
//    the bytes) is intact: a stale, torn or damaged entry is a miss, never wrong bytes.
//  * Only bytes their ETag vouches for are recorded: a plain ETag (one PUT) that is the MD5 of
//    the bytes read. Multipart or encrypted objects' ETags, or none, leave an object uncached.
//  * Best effort: a cache that cannot be read or written is a miss; it never fails a command.
//  * Entries are written to a temporary name and renamed (a killed writer leaves no partial
//    entry under a real name); concurrent runs may share one directory.
//  * The directory is bounded: after a run that added entries, the least recently used are
//    removed until it holds at most max_bytes.
//
// Where it is (resolve_object_cache): `ckpt.cache.dir` (-D or -c), else $CKPT_CACHE_DIR, else
// $XDG_CACHE_HOME/ckpt, else $HOME/.cache/ckpt; "none" (either way) disables it. Its bound:
// `ckpt.cache.max-size` (a Flink memory size), default 512 mb.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/object_store.h"

namespace ckpt::storage {

class ObjectCache {
 public:
  // `scope` names the store (the same key in another bucket or on another endpoint is another
  // object).
  ObjectCache(std::filesystem::path dir, std::string scope, uint64_t max_bytes);
  ~ObjectCache();  // trims the directory when this instance added entries
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;

  // The bytes of `object` when an intact entry for exactly this key, size and ETag exists.
  std::optional<std::string> get(const ObjectInfo& object);
  // Records `bytes` as the content of `object` (no-op unless the ETag is their MD5, or when
  // larger than a quarter of the bound).
  void put(const ObjectInfo& object, std::string_view bytes);

  const std::filesystem::path& dir() const { return dir_; }
  uint64_t hits() const { return hits_; }

 private:
  std::filesystem::path entry_path(std::string_view key) const;
  void trim();

  std::filesystem::path dir_;
  std::string scope_;
  uint64_t max_bytes_;
  std::atomic<uint64_t> added_{0};
  std::atomic<uint64_t> hits_{0};
};

// The cache for a store named by `scope`, as the configuration and the environment set it;
// nullptr when disabled or when no directory can be named (no HOME). Throws util::Error (kUsage)
// for a malformed `ckpt.cache.max-size`.
std::shared_ptr<ObjectCache> resolve_object_cache(const std::map<std::string, std::string>& config, std::string scope);

// Like prefetch(store, keys, ...), for listed objects: what `cache` holds is taken from it, the
// rest is read from the store and added to it. `cache` may be null.
std::unordered_map<std::string, std::string> prefetch(ObjectStore& store, std::span<const ObjectInfo> objects,
                                                      uint64_t max_bytes, ObjectCache* cache);

}  // namespace ckpt::storage
