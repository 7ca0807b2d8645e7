#include "util/large_alloc.h"

#include <sys/mman.h>

#include <cstdint>

namespace ckpt::util {
namespace {

std::size_t rounded(std::size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

}  // namespace

void* allocate_large(std::size_t bytes) {
  const std::size_t size = rounded(bytes == 0 ? 1 : bytes);
  if (size < bytes) throw std::bad_alloc();
  // Over-map by one huge page and trim both ends, so the block starts on a 2 MiB boundary: a
  // huge page can only back an aligned range.
  const std::size_t span = size + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t start = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (start > base) ::munmap(raw, start - base);
  const std::uintptr_t end = base + span;
  if (end > start + size) ::munmap(reinterpret_cast<void*>(start + size), end - (start + size));
  void* p = reinterpret_cast<void*>(start);
#ifdef MADV_HUGEPAGE
  ::madvise(p, size, MADV_HUGEPAGE);  // advice only: THP off or unsupported leaves 4 KiB pages
#endif
  return p;
}

void free_large(void* p, std::size_t bytes) noexcept {
  if (p) ::munmap(p, rounded(bytes == 0 ? 1 : bytes));
}

}  // namespace ckpt::util
