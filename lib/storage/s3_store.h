// ObjectStore over one S3 bucket (S3Client). Keys are object keys; the store never names an
// object outside its bucket, and list() refuses a server answer that strays outside the prefix.
//  * list: ListObjectsV2, 1,000 keys a page, every page or an error;
//  * read_range: ranged GET; read: GET bounded by max_bytes;
//  * write_atomic: one PUT (S3 publishes an object whole), multipart above settings.part_size
//    (parts in parallel; aborted on failure); overwrite=false sends If-None-Match: * (a
//    conditional write where the server supports it) after a HEAD that finds nothing;
//  * remove: DeleteObjects in batches of 1,000 (Content-MD5), batches in parallel.
#pragma once

#include <memory>

#include "storage/object_store.h"
#include "storage/s3_client.h"

namespace ckpt::storage {

class S3Store final : public ObjectStore {
 public:
  explicit S3Store(std::unique_ptr<S3Client> client) : client_(std::move(client)) {}
  S3Client& client() { return *client_; }

  std::string uri(std::string_view key) const override { return client_->uri(key); }
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

 private:
  void write_multipart(std::string_view key, std::string_view bytes, const std::vector<std::string>& headers);
  std::unique_ptr<S3Client> client_;
};

}  // namespace ckpt::storage
