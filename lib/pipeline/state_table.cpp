#include "pipeline/state_table.h"

#include <stdexcept>

#include "util/error.h"

namespace ckpt::pipeline {
namespace {

constexpr std::size_t kNpos = static_cast<std::size_t>(-1);

uint64_t mix(uint64_t x) {  // splitmix64 finalizer: spreads low-entropy inputs over all bits
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The first slot to probe. Taken from the high 32 bits, which the slot also stores, so that erase()
// finds the home of any slot without reading its entry.
std::size_t home(uint64_t h_or_slot, std::size_t mask) { return static_cast<std::size_t>(h_or_slot >> 32) & mask; }

}  // namespace

uint64_t StateTable::hash_key(std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a: keys are short words
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t StateTable::hash_entry(uint64_t key_hash, const Namespace& ns) {
  return mix(key_hash ^ mix(static_cast<uint64_t>(ns.start) * 31 + static_cast<uint64_t>(ns.end)));
}

std::size_t StateTable::slot_of(std::string_view key, const Namespace& ns, uint64_t h) const {
  if (slots_.empty()) return kNpos;
  std::size_t mask = slots_.size() - 1;
  uint64_t tag = make_slot(h, 0) & 0xFFFFFFFF00000000ULL;
  for (std::size_t i = home(h, mask);; i = (i + 1) & mask) {
    uint64_t s = slots_[i];
    if (s == kEmpty) return kNpos;
    if ((s & 0xFFFFFFFF00000000ULL) != tag) continue;
    const Entry& e = entries_[index_of(s)];
    if (e.hash == h && e.ns == ns && e.key == key) return i;
  }
}

int64_t* StateTable::find(std::string_view key, const Namespace& ns, uint64_t h) {
  std::size_t i = slot_of(key, ns, h);
  return i == kNpos ? nullptr : &entries_[index_of(slots_[i])].value;
}

void StateTable::put(std::string_view key, const Namespace& ns, uint64_t h, int64_t value) {
  if (int64_t* v = find(key, ns, h)) {
    *v = value;
    return;
  }
  insert_absent(key, ns, h, value);
}

void StateTable::insert_absent(std::string_view key, const Namespace& ns, uint64_t h, int64_t value) {
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  if (entries_.size() >= UINT32_MAX - 1)
    throw util::Error(util::ErrorKind::kInput, "state table: more than 2^32 entries in a key group");
  entries_.push_back(Entry{std::string(key), ns, value, h});
  std::size_t mask = slots_.size() - 1;
  std::size_t i = home(h, mask);
  while (slots_[i] != kEmpty) i = (i + 1) & mask;
  slots_[i] = make_slot(h, entries_.size() - 1);
}

void StateTable::erase(std::string_view key, const Namespace& ns, uint64_t h) {
  std::size_t i = slot_of(key, ns, h);
  if (i == kNpos) return;
  std::size_t idx = index_of(slots_[i]);
  std::size_t mask = slots_.size() - 1;
  // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
  for (std::size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
    uint64_t s = slots_[j];
    if (s == kEmpty) break;
    std::size_t h_home = home(s, mask);
    // Move s back into the hole at i if its home is not cyclically in (i, j].
    bool stays = i <= j ? (h_home > i && h_home <= j) : (h_home > i || h_home <= j);
    if (!stays) {
      slots_[i] = s;
      i = j;
    }
  }
  slots_[i] = kEmpty;
  std::size_t last = entries_.size() - 1;
  if (idx != last) {
    // The last entry moves into the freed place: repoint its slot.
    uint64_t moved = make_slot(entries_[last].hash, last);
    std::size_t k = home(moved, mask);
    while (slots_[k] != moved) k = (k + 1) & mask;
    slots_[k] = make_slot(entries_[last].hash, idx);
    entries_[idx] = std::move(entries_[last]);
  }
  entries_.pop_back();
}

void StateTable::grow() {
  std::size_t n = slots_.empty() ? 16 : slots_.size() * 2;
  slots_.assign(n, kEmpty);
  std::size_t mask = n - 1;
  for (std::size_t e = 0; e < entries_.size(); ++e) {
    std::size_t i = home(entries_[e].hash, mask);
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = make_slot(entries_[e].hash, e);
  }
}

}  // namespace ckpt::pipeline
