// A bounded write-back cache of one RocksDB column family's Long values, in front of the RocksDB
// keyed state backend (rocksdb_backend.h): every record reads and writes the state of its key, and
// a Get + Put per access spent most of the time searching memtable skip lists. Hot keys' values
// live here; the backend writes the changed ones into the database (one WriteBatch) when the
// cache is full and before anything reads the database as a whole (checkpoint, savepoint, entry
// count). Why that is exact: the task thread is the only user of the backend, so between two
// write-backs the cache is the only place a value can change; a checkpoint's synchronous part
// writes back first, so the database at the barrier holds exactly the values the operator sees.
//
// Entries are keyed by the RocksDB key bytes (Flink's layout), so that a write-back needs no
// serialization. An entry is either a value, or "absent": not in the database (a cached miss) or
// deleted (dirty). Stored densely with an open-addressing index of 64-bit slots (linear probing),
// like StateTable; a lookup costs about two cache misses (slot, entry).
//
// Not thread-safe: owned by one task thread. Indexes are valid until the next write_back() or
// clear().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::pipeline {

class WriteBackCache {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // One cache line: the key bytes are inline up to kInline bytes (the job's keys: key-group
  // prefix + word + 1 or 16 namespace bytes), so that a lookup touches the slot and the entry
  // only; longer keys are kept in a side table (`bytes` then holds their index).
  static constexpr std::size_t kInline = 42;
  struct alignas(64) Entry {
    uint64_t hash = 0;
    int64_t value = 0;
    uint32_t size = 0;     // of the key
    bool present = false;  // false: absent from the database, or deleted
    bool dirty = false;    // differs from the database
    char bytes[kInline];
  };

  // `capacity`: the most entries held (>= 1).
  explicit WriteBackCache(std::size_t capacity);

  // The index of the entry of `key` (whose hash is `h`), or npos.
  std::size_t find(std::string_view key, uint64_t h) const;
  // Adds an entry for `key`, which must be absent, while !full(). Returns its index.
  std::size_t add(std::string_view key, uint64_t h, std::optional<int64_t> value, bool dirty);
  // Sets entry `i` to `value` (nullopt: deleted) and marks it dirty.
  void set(std::size_t i, std::optional<int64_t> value) {
    Entry& e = entries_[i];
    if (!e.dirty) ++dirty_;
    e.dirty = true;
    e.present = value.has_value();
    e.value = value.value_or(0);
  }
  const Entry& at(std::size_t i) const { return entries_[i]; }

  bool full() const { return entries_.size() >= capacity_; }
  std::size_t size() const { return entries_.size(); }
  std::size_t dirty() const { return dirty_; }

  // Calls put(key, value) or erase(key) for every dirty entry in ascending key order (a memtable
  // inserts ascending keys several times faster than random ones: its skip list resumes the
  // search where the previous insert ended), then keeps only the clean values: absent and
  // deleted entries are dropped (they would only fill the cache).
  template <typename Put, typename Erase>
  void write_back(Put&& put, Erase&& erase) {
    for (const Entry* e : dirty_in_key_order()) {
      if (e->present) put(key_of(*e), e->value);
      else erase(key_of(*e));
    }
    keep_clean_values();
  }
  // Drops every entry (they must have been written back, or be meant to be lost).
  void clear();

 private:
  std::string_view key_of(const Entry& e) const {
    if (e.size <= kInline) return {e.bytes, e.size};
    uint32_t i;
    std::memcpy(&i, e.bytes, sizeof i);
    return long_keys_[i];
  }
  std::vector<const Entry*> dirty_in_key_order() const;
  void keep_clean_values();
  void rebuild_index();

  std::size_t capacity_;
  std::size_t dirty_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::string> long_keys_;  // keys longer than kInline
  std::vector<uint64_t> slots_;         // 0 or (high 32 bits of the hash << 32) | (index + 1); power of two
};

}  // namespace ckpt::pipeline
