// Dense ids for path strings: the index behind the reference graph, which looks up every handle of
// every snapshot under a root (a million lookups for a thousand checkpoints of 200 subtasks).
//
// Why not std::unordered_map<std::string, uint32_t>: every key there is a node, a string and often
// a separate heap block, so a lookup walks three or four cache misses, and the hash can only be
// computed under the caller's lock. Here the keys are copied once into large blocks, the table is
// open addressing over 16-byte slots (a 32-bit hash tag, the id and the key's address), and the
// hash is computed by the caller (util::hash_bytes), so parsing threads hash outside any lock and
// a lookup costs about two misses: the slot and the key bytes.
//
// Contract:
//  * Ids are dense, 0.. size()-1, in insertion order; key(id) is valid, at the same address, for
//    the index's whole life (moves included: blocks are never reallocated).
//  * Keys are compared byte for byte; callers normalise paths first.
//  * Not thread-safe for insertion; const lookups may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "util/hash.h"
#include "util/large_alloc.h"

namespace ckpt::snapshot {

class PathIndex {
 public:
  static uint64_t hash(std::string_view key) { return util::hash_bytes(key); }

  PathIndex() = default;
  PathIndex(PathIndex&&) = default;
  PathIndex& operator=(PathIndex&&) = default;
  PathIndex(const PathIndex&) = delete;
  PathIndex& operator=(const PathIndex&) = delete;

  // The id of `key` (whose hash(key) is `h`), added when absent: {id, true} when it was added.
  std::pair<uint32_t, bool> insert(std::string_view key, uint64_t h);
  std::pair<uint32_t, bool> insert(std::string_view key) { return insert(key, hash(key)); }

  std::optional<uint32_t> find(std::string_view key, uint64_t h) const;
  std::optional<uint32_t> find(std::string_view key) const { return find(key, hash(key)); }

  // Hints for a run of lookups whose hashes are known ahead (the graph merges a snapshot's
  // handles in one go): fetch the slot a few lookups early, then the key bytes it points at, so
  // that the misses of several lookups overlap instead of following one another.
  void prefetch_slot(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[static_cast<std::size_t>(h) & (slots_.size() - 1)]);
  }
  void prefetch_key(uint64_t h) const {
    if (slots_.empty()) return;
    const Slot& s = slots_[static_cast<std::size_t>(h) & (slots_.size() - 1)];
    if (s.id != 0) __builtin_prefetch(s.key);
  }

  std::string_view key(uint32_t id) const { return keys_[id]; }
  std::size_t size() const { return keys_.size(); }

  // Room for `n` keys without growing the table.
  void reserve(std::size_t n);

 private:
  struct Slot {
    uint32_t tag = 0;           // high 32 bits of the hash
    uint32_t id = 0;            // id + 1; 0 = empty
    const char* key = nullptr;  // the key's length (4 bytes, native order), then its bytes
  };
  std::string_view store(std::string_view key);
  void grow(std::size_t slots);

  struct BlockFree {
    std::size_t bytes = 0;
    void operator()(char* p) const noexcept { util::free_large(p, bytes); }
  };
  using Block = std::unique_ptr<char[], BlockFree>;

  // Slots and key bytes are read at random: huge pages where the kernel offers them.
  std::vector<Slot, util::LargeAllocator<Slot>> slots_;                         // power of two, at most half full
  std::vector<std::string_view, util::LargeAllocator<std::string_view>> keys_;  // by id; views into blocks_
  std::vector<uint64_t, util::LargeAllocator<uint64_t>> hashes_;  // by id: growing never reads a key again
  std::vector<Block> blocks_;
  std::size_t block_used_ = 0, block_size_ = 0;
};

}  // namespace ckpt::snapshot
