#include "storage/background_prefetch.h"

namespace ckpt::storage {

BackgroundPrefetch::BackgroundPrefetch(std::unique_ptr<ObjectStore> store, uint64_t max_bytes,
                                       std::shared_ptr<ObjectCache> cache)
    : store_(std::move(store)), max_bytes_(max_bytes), cache_(std::move(cache)) {
  if (store_) thread_ = std::thread([this] { run(); });
}

BackgroundPrefetch::~BackgroundPrefetch() { (void)take(); }

void BackgroundPrefetch::add(ObjectInfo object) {
  if (!store_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(object));
  }
  cv_.notify_one();
}

void BackgroundPrefetch::run() {
  // Whatever has queued up is read as one slice: while it is read, the next slice queues.
  for (;;) {
    std::vector<ObjectInfo> objects;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      objects.swap(queue_);
    }
    std::unordered_map<std::string, std::string> read = prefetch(*store_, objects, max_bytes_, cache_.get());
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [k, v] : read) done_.emplace(k, std::move(v));
  }
}

std::unordered_map<std::string, std::string> BackgroundPrefetch::take() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  return std::move(done_);
}

}  // namespace ckpt::storage
