// The file-system interface every command reads and writes snapshots through: a flat namespace
// of objects named by keys, listed by prefix. Two implementations: LocalStore (keys are local
// paths) and S3Store (keys are object keys in one bucket). A "directory" is a key prefix that
// ends in '/'; an object store has no directories, so nothing here depends on them.
//
// Contracts every implementation keeps:
//  * list() either delivers every object under the prefix or throws: a failed or truncated
//    listing is never reported as a short one (prune and gc plan from listings);
//  * write_atomic() makes the object appear whole or not at all;
//  * remove() reports each key it could not delete; a key that is already gone counts as deleted
//    (a rerun after a kill converges);
//  * errors are util::Error with kind kIo (the store refused or failed) or kInput (a missing
//    object where one was required), their message naming the object as uri() spells it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ckpt::storage {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t modified_unix_ns = 0;  // S3's LastModified (millisecond precision), a file's mtime
  std::string etag;              // S3's ETag as the server spells it (quoted); empty for files
};

struct DeleteFailure {
  std::string key;
  std::string reason;  // "AccessDenied: Access Denied", "Permission denied"
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // How users write the object's name: "s3://bucket/key" or the local path. Used in messages.
  virtual std::string uri(std::string_view key) const = 0;

  // Every object whose key starts with `prefix`, in ascending key order, delivered page by page.
  // Throws when any page cannot be read: the caller never sees a partial listing as complete.
  virtual void list(std::string_view prefix, const std::function<void(std::span<const ObjectInfo>)>& page) = 0;

  // The object's size and time; nullopt when it does not exist.
  virtual std::optional<ObjectInfo> stat(std::string_view key) = 0;

  // The whole object. Throws (kInput naming the object) when it is missing or larger than
  // `max_bytes`: a length read from untrusted input never sizes an allocation unchecked.
  virtual std::string read(std::string_view key, uint64_t max_bytes) = 0;

  // Several whole objects, read several at a time where the store can; results in key order.
  // Throws on the first object that cannot be read, as read() does.
  virtual std::vector<std::string> read_all(std::span<const std::string> keys, uint64_t max_bytes) = 0;

  // `length` bytes at `offset` (fewer only at the end of the object).
  virtual std::string read_range(std::string_view key, uint64_t offset, uint64_t length) = 0;

  // Publishes `bytes` as the object in one step. With overwrite=false an existing object is an
  // error (kIo), checked as atomically as the store allows.
  virtual void write_atomic(std::string_view key, std::string_view bytes, bool overwrite) = 0;

  // Server-side copy where the store has one.
  virtual void copy(std::string_view from_key, std::string_view to_key) = 0;

  // Copies each object `keys[i]` to the local file `files[i]` (created or truncated), several at
  // a time where the store can. Throws on the first object that cannot be copied, naming it.
  virtual void download(std::span<const std::string> keys, std::span<const std::string> files) = 0;

  // Publishes each local file `files[i]` as the object `keys[i]` (each one whole, as
  // write_atomic), several at a time where the store can. Throws on the first that fails.
  virtual void upload(std::span<const std::string> files, std::span<const std::string> keys) = 0;

  // Deletes the keys (in batches where the store has them). Returns those it could not delete.
  virtual std::vector<DeleteFailure> remove(std::span<const std::string> keys) = 0;
};

// Every object under `prefix`, collected (for callers that need the whole listing at once).
std::vector<ObjectInfo> list_all(ObjectStore& store, std::string_view prefix);

// The objects `keys`, read with read_all() in slices of a few hundred, key -> bytes. Best
// effort: the objects of a slice that fails are absent, for the caller's one-by-one read to
// report the one that cannot be read.
std::unordered_map<std::string, std::string> prefetch(ObjectStore& store, std::span<const std::string> keys,
                                                      uint64_t max_bytes);

}  // namespace ckpt::storage
