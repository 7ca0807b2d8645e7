// The table of one keyed state in one key group of the hashmap backend: (key, namespace) -> Long,
// as Flink's heap StateTable. Entries are stored densely, so that a snapshot is a sequential scan
// of memory instead of a walk over one heap node per key (that walk cost ~1 us per entry here);
// an open-addressing index of 32-bit slots (linear probing) finds them.
//
// Not thread-safe: owned by one task thread. Pointers and references to values are invalidated
// by insert() and erase().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/state_format.h"

namespace ckpt::pipeline {

class StateTable {
 public:
  struct Entry {
    std::string key;
    Namespace ns;
    int64_t value = 0;
    uint64_t hash = 0;
  };

  // The hash of a (key, namespace) pair; callers hash the key once per record.
  static uint64_t hash_key(std::string_view key);
  static uint64_t hash_entry(uint64_t key_hash, const Namespace& ns);

  // The value of (key, ns) whose hash_entry() is `h`, or nullptr.
  int64_t* find(std::string_view key, const Namespace& ns, uint64_t h);
  // Sets (key, ns) to `value`, adding the entry if absent.
  void put(std::string_view key, const Namespace& ns, uint64_t h, int64_t value);
  // Adds (key, ns) = `value`. Precondition: find() has just returned nullptr for it (the caller
  // already paid for the probe; a duplicate entry would corrupt the table).
  void insert_absent(std::string_view key, const Namespace& ns, uint64_t h, int64_t value);
  // Removes (key, ns) if present. The last entry takes the removed one's place.
  void erase(std::string_view key, const Namespace& ns, uint64_t h);

  const std::vector<Entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }

 private:
  // A slot is 0 (empty) or (high 32 bits of the hash << 32) | (entry index + 1): probing compares
  // the hash bits without touching the entry, which is a cache miss.
  static constexpr uint64_t kEmpty = 0;
  static uint64_t make_slot(uint64_t h, std::size_t index) { return (h & 0xFFFFFFFF00000000ULL) | (index + 1); }
  static std::size_t index_of(uint64_t slot) { return static_cast<std::size_t>(slot & 0xFFFFFFFFULL) - 1; }
  std::size_t slot_of(std::string_view key, const Namespace& ns, uint64_t h) const;  // slot holding it, or npos
  void grow();

  std::vector<Entry> entries_;
  std::vector<uint64_t> slots_;  // size is 0 or a power of two, at most half full (short probes)
};

}  // namespace ckpt::pipeline
