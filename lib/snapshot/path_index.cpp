#include "snapshot/path_index.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "util/error.h"

namespace ckpt::snapshot {
namespace {

constexpr std::size_t kBlockBytes = util::kHugePage;

std::string_view stored_key(const char* p) {
  uint32_t n;
  std::memcpy(&n, p, sizeof n);
  return {p + sizeof n, n};
}

}  // namespace

std::string_view PathIndex::store(std::string_view key) {
  if (key.size() > UINT32_MAX - sizeof(uint32_t))
    throw util::Error(util::ErrorKind::kInput, "path index: key too long");
  const std::size_t need = sizeof(uint32_t) + key.size();
  if (block_used_ + need > block_size_) {
    block_size_ = std::max(kBlockBytes, need);
    blocks_.push_back(Block(static_cast<char*>(util::allocate_large(block_size_)), BlockFree{block_size_}));
    block_used_ = 0;
  }
  char* p = blocks_.back().get() + block_used_;
  const auto n = static_cast<uint32_t>(key.size());
  std::memcpy(p, &n, sizeof n);
  if (n) std::memcpy(p + sizeof n, key.data(), n);
  block_used_ += need;
  return {p, need};
}

void PathIndex::grow(std::size_t want) {
  std::size_t n = 16;
  while (n < want) n *= 2;
  std::vector<Slot, util::LargeAllocator<Slot>> slots(n);
  const std::size_t mask = n - 1;
  for (uint32_t id = 0; id < keys_.size(); ++id) {
    const uint64_t h = hashes_[id];
    std::size_t i = static_cast<std::size_t>(h) & mask;
    while (slots[i].id != 0) i = (i + 1) & mask;
    slots[i] = {static_cast<uint32_t>(h >> 32), id + 1, keys_[id].data() - sizeof(uint32_t)};
  }
  slots_ = std::move(slots);
}

void PathIndex::reserve(std::size_t n) {
  keys_.reserve(n);
  hashes_.reserve(n);
  if (2 * n > slots_.size()) grow(2 * n);
}

std::optional<uint32_t> PathIndex::find(std::string_view key, uint64_t h) const {
  if (slots_.empty()) return std::nullopt;
  const std::size_t mask = slots_.size() - 1;
  const auto tag = static_cast<uint32_t>(h >> 32);
  for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id == 0) return std::nullopt;
    if (s.tag == tag && stored_key(s.key) == key) return s.id - 1;
  }
}

std::pair<uint32_t, bool> PathIndex::insert(std::string_view key, uint64_t h) {
  if (2 * (keys_.size() + 1) > slots_.size()) grow(2 * (keys_.size() + 1));
  const std::size_t mask = slots_.size() - 1;
  const auto tag = static_cast<uint32_t>(h >> 32);
  std::size_t i = static_cast<std::size_t>(h) & mask;
  for (;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id == 0) break;
    if (s.tag == tag && stored_key(s.key) == key) return {s.id - 1, false};
  }
  if (keys_.size() >= UINT32_MAX - 1) throw util::Error(util::ErrorKind::kInput, "path index: too many keys");
  std::string_view stored = store(key);
  const auto id = static_cast<uint32_t>(keys_.size());
  keys_.push_back(stored.substr(sizeof(uint32_t)));
  hashes_.push_back(h);
  slots_[i] = {tag, id + 1, stored.data()};
  return {id, true};
}

}  // namespace ckpt::snapshot
