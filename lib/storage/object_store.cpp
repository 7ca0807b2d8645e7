#include "storage/object_store.h"

#include <algorithm>

#include "util/error.h"

namespace ckpt::storage {

std::vector<ObjectInfo> list_all(ObjectStore& store, std::string_view prefix) {
  std::vector<ObjectInfo> out;
  store.list(prefix, [&](std::span<const ObjectInfo> page) { out.insert(out.end(), page.begin(), page.end()); });
  return out;
}

std::unordered_map<std::string, std::string> prefetch(ObjectStore& store, std::span<const std::string> keys,
                                                      uint64_t max_bytes) {
  constexpr size_t kSlice = 256;
  std::unordered_map<std::string, std::string> out;
  for (size_t i = 0; i < keys.size(); i += kSlice) {
    auto slice = keys.subspan(i, std::min(kSlice, keys.size() - i));
    try {
      auto bytes = store.read_all(slice, max_bytes);
      for (size_t j = 0; j < slice.size() && j < bytes.size(); ++j) out[slice[j]] = std::move(bytes[j]);
    } catch (const util::Error&) {
      // left to the caller's one-by-one read, which names the object
    }
  }
  return out;
}

}  // namespace ckpt::storage
