// ObjectStore over the local file system. Keys are paths as the caller gives them (absolute or
// relative to the working directory); a prefix names a directory when it ends in '/', else it
// matches the start of file paths. Listing never follows symbolic links (a link is not an
// object of the snapshot, and following one could leave the root).
#pragma once

#include "storage/object_store.h"

namespace ckpt::storage {

class LocalStore final : public ObjectStore {
 public:
  std::string uri(std::string_view key) const override { return std::string(key); }
  void list(std::string_view prefix, const std::function<void(std::span<const ObjectInfo>)>& page) override;
  std::optional<ObjectInfo> stat(std::string_view key) override;
  std::string read(std::string_view key, uint64_t max_bytes) override;
  std::vector<std::string> read_all(std::span<const std::string> keys, uint64_t max_bytes) override;
  std::string read_range(std::string_view key, uint64_t offset, uint64_t length) override;
  void write_atomic(std::string_view key, std::string_view bytes, bool overwrite) override;
  void copy(std::string_view from_key, std::string_view to_key) override;
  void download(std::span<const std::string> keys, std::span<const std::string> files) override;
  void upload(std::span<const std::string> files, std::span<const std::string> keys) override;
  std::vector<DeleteFailure> remove(std::span<const std::string> keys) override;
};

}  // namespace ckpt::storage
