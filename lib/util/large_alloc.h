// Memory for large tables that are read at random (the reference graph's path index and file
// nodes), backed by transparent huge pages where the kernel allows them (THP "always" or
// "madvise"). A plan over 1,000 checkpoints makes a million lookups into ~100 MB of such tables;
// on 4 KiB pages most of them miss the TLB, and faulting the pages in is a cost of its own
// (measured on the prune benchmark: 77 K minor faults, and with huge pages a third less user time).
//
// Contract: allocate_large returns memory aligned to 2 MiB, zero-filled, of at least `bytes`;
// free_large takes the same `bytes`. Throws std::bad_alloc when the kernel refuses. Where THP is
// off the memory is ordinary anonymous memory: only the speed differs.
#pragma once

#include <cstddef>
#include <new>

namespace ckpt::util {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

void* allocate_large(std::size_t bytes);
void free_large(void* p, std::size_t bytes) noexcept;

// A std::allocator that places blocks of at least kHugePage / 2 through allocate_large (small
// ones stay with operator new, so a short vector does not cost 2 MiB).
template <typename T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) noexcept {}

  static bool large(std::size_t n) { return n * sizeof(T) >= kHugePage / 2; }
  T* allocate(std::size_t n) {
    if (large(n)) return static_cast<T*>(allocate_large(n * sizeof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (large(n)) free_large(p, n * sizeof(T));
    else ::operator delete(p);
  }
  template <typename U>
  bool operator==(const LargeAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace ckpt::util
