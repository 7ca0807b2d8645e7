// The store a user's path lives in: an `s3://` (s3a, s3p, gs) URI opens an S3Store on its
// bucket, anything else the LocalStore. Settings come from Flink configuration keys (see
// s3_settings.h) merged by the caller from `-c` and `-D`.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/object_cache.h"
#include "storage/object_store.h"
#include "storage/object_uri.h"

namespace ckpt::storage {

struct OpenedStore {
  std::unique_ptr<ObjectStore> store;
  std::string key;               // the user's path as a key of `store`
  std::optional<ObjectUri> uri;  // set for object stores
  // For the objects read again on every run (`_metadata`); null for local paths or when
  // disabled (storage/object_cache.h).
  std::shared_ptr<ObjectCache> cache;
};

// Throws util::Error (kUsage) for a malformed object URI or missing credentials.
OpenedStore open_store(std::string_view user_path, const std::map<std::string, std::string>& config = {});

}  // namespace ckpt::storage
