#include "storage/object_store.h"

namespace ckpt::storage {

std::vector<ObjectInfo> list_all(ObjectStore& store, std::string_view prefix) {
  std::vector<ObjectInfo> out;
  store.list(prefix, [&](std::span<const ObjectInfo> page) { out.insert(out.end(), page.begin(), page.end()); });
  return out;
}

}  // namespace ckpt::storage
