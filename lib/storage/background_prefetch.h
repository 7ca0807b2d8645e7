// Objects read while something else is still going on: keys are handed over as they become
// known (a listing's pages, typically), and a thread of its own reads them through its own
// store client (a client is used by one thread at a time), slice by slice as storage::prefetch
// does. Used to overlap the reads of every `_metadata` with the listing that finds them: a root
// of 1,000 checkpoints otherwise pays listing + reads one after the other.
//
// Best effort, as prefetch(): an object that cannot be read is absent from the result, for the
// caller's own read to report.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "storage/object_cache.h"
#include "storage/object_store.h"

namespace ckpt::storage {

class BackgroundPrefetch {
 public:
  // `store` may be null: nothing is read then, and take() returns nothing. What `cache` (may be
  // null) holds is taken from it, the rest read and added to it.
  BackgroundPrefetch(std::unique_ptr<ObjectStore> store, uint64_t max_bytes, std::shared_ptr<ObjectCache> cache);
  ~BackgroundPrefetch();
  BackgroundPrefetch(const BackgroundPrefetch&) = delete;
  BackgroundPrefetch& operator=(const BackgroundPrefetch&) = delete;

  void add(ObjectInfo object);
  // Waits for every added key to be read (or to fail); key -> bytes.
  std::unordered_map<std::string, std::string> take();

 private:
  void run();

  std::unique_ptr<ObjectStore> store_;
  uint64_t max_bytes_;
  std::shared_ptr<ObjectCache> cache_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ObjectInfo> queue_;
  bool closing_ = false;
  std::unordered_map<std::string, std::string> done_;
  std::thread thread_;
};

}  // namespace ckpt::storage
