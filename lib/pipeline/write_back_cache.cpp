#include "pipeline/write_back_cache.h"

#include <algorithm>
#include <cstring>

namespace ckpt::pipeline {
namespace {

constexpr uint64_t kTagMask = 0xFFFFFFFF00000000ULL;

uint64_t make_slot(uint64_t h, std::size_t index) { return (h & kTagMask) | (index + 1); }
std::size_t index_of(uint64_t slot) { return static_cast<std::size_t>(slot & 0xFFFFFFFFULL) - 1; }
std::size_t home(uint64_t h, std::size_t mask) { return static_cast<std::size_t>(h >> 32) & mask; }

}  // namespace

WriteBackCache::WriteBackCache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::size_t WriteBackCache::find(std::string_view key, uint64_t h) const {
  if (slots_.empty()) return npos;
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(h, mask);; i = (i + 1) & mask) {
    uint64_t s = slots_[i];
    if (s == 0) return npos;
    if ((s & kTagMask) != (h & kTagMask)) continue;
    const Entry& e = entries_[index_of(s)];
    if (e.hash == h && e.size == key.size() && key_of(e) == key) return index_of(s);
  }
}

std::size_t WriteBackCache::add(std::string_view key, uint64_t h, std::optional<int64_t> value, bool dirty) {
  if ((entries_.size() + 1) * 2 > slots_.size()) {
    slots_.assign(std::max<std::size_t>(slots_.size() * 2, 1024), 0);
    rebuild_index();
  }
  std::size_t index = entries_.size();
  Entry& e = entries_.emplace_back();
  e.size = static_cast<uint32_t>(key.size());
  if (key.size() <= kInline) {
    std::memcpy(e.bytes, key.data(), key.size());
  } else {
    auto li = static_cast<uint32_t>(long_keys_.size());
    long_keys_.emplace_back(key);
    std::memcpy(e.bytes, &li, sizeof li);
  }
  e.hash = h;
  e.present = value.has_value();
  e.value = value.value_or(0);
  e.dirty = dirty;
  if (dirty) ++dirty_;
  std::size_t mask = slots_.size() - 1;
  std::size_t i = home(h, mask);
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = make_slot(h, index);
  return index;
}

void WriteBackCache::clear() {
  entries_.clear();
  long_keys_.clear();
  std::fill(slots_.begin(), slots_.end(), 0);
  dirty_ = 0;
}

std::vector<const WriteBackCache::Entry*> WriteBackCache::dirty_in_key_order() const {
  // Sorted by the first 8 key bytes as a big-endian integer, then by the whole key: most
  // comparisons are one integer comparison instead of a memcmp of two heap strings.
  std::vector<std::pair<uint64_t, const Entry*>> order;
  order.reserve(dirty_);
  for (const Entry& e : entries_) {
    if (!e.dirty) continue;
    std::string_view k = key_of(e);
    uint64_t head = 0;
    for (std::size_t i = 0; i < 8; ++i) head = head << 8 | (i < k.size() ? static_cast<unsigned char>(k[i]) : 0);
    order.emplace_back(head, &e);
  }
  std::sort(order.begin(), order.end(), [this](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : key_of(*a.second) < key_of(*b.second);
  });
  std::vector<const Entry*> out;
  out.reserve(order.size());
  for (const auto& o : order) out.push_back(o.second);
  return out;
}

void WriteBackCache::keep_clean_values() {
  std::size_t before = entries_.size();
  std::erase_if(entries_, [](const Entry& e) { return !e.present; });
  if (!long_keys_.empty() && entries_.size() != before) {  // renumber the long keys still used
    std::vector<std::string> kept;
    for (Entry& e : entries_) {
      if (e.size <= kInline) continue;
      uint32_t i;
      std::memcpy(&i, e.bytes, sizeof i);
      auto ni = static_cast<uint32_t>(kept.size());
      kept.push_back(std::move(long_keys_[i]));
      std::memcpy(e.bytes, &ni, sizeof ni);
    }
    long_keys_ = std::move(kept);
  }
  for (Entry& e : entries_) e.dirty = false;
  dirty_ = 0;
  if (entries_.size() != before) rebuild_index();
}

void WriteBackCache::rebuild_index() {
  std::fill(slots_.begin(), slots_.end(), 0);
  if (slots_.empty()) return;
  std::size_t mask = slots_.size() - 1;
  for (std::size_t index = 0; index < entries_.size(); ++index) {
    std::size_t i = home(entries_[index].hash, mask);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = make_slot(entries_[index].hash, index);
  }
}

}  // namespace ckpt::pipeline
