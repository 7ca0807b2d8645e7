// Object-store URIs the way Flink users write them: `s3://bucket/key`, and the same store under
// Flink's two S3 plugins' schemes `s3a://` and `s3p://`; `gs://` is GCS through its
// S3-compatible API (HMAC keys). Other remote schemes (hdfs, abfs, wasb, oss, viewfs) are not
// object stores ckpt speaks: callers keep refusing them (with `--map` for a local mirror).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ckpt::storage {

struct ObjectUri {
  std::string scheme;  // "s3", "s3a", "s3p", "gs", as written
  std::string bucket;
  std::string key;  // without a leading '/'; may be empty (the bucket's root)
  // "s3://bucket/key" with the scheme as written.
  std::string str() const;
};

// True for the schemes above (case-insensitive, as Flink's FileSystem lookup is).
bool is_object_store_scheme(std::string_view scheme);

// Parses `uri` when its scheme is an object store's; nullopt otherwise. `problem` (when given)
// is set when the scheme is one but the URI is malformed (no bucket).
std::optional<ObjectUri> parse_object_uri(std::string_view uri, std::string* problem = nullptr);

// True when two URIs name the same store and bucket (s3, s3a and s3p are one store).
bool same_bucket(const ObjectUri& a, const ObjectUri& b);

}  // namespace ckpt::storage
