#include "snapshot/store_copy.h"

#include <cstdlib>
#include <optional>
#include <set>
#include <string>

#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "snapshot/file_refs.h"
#include "storage/object_uri.h"
#include "util/error.h"
#include "util/replace_all.h"

namespace ckpt::snapshot {
namespace fs = std::filesystem;

StoreCopy::StoreCopy(storage::ObjectStore& store, const Location& loc, std::string_view metadata_bytes,
                     const flink::Metadata& md) {
  const std::string metadata_uri = loc.metadata.native();
  std::optional<storage::ObjectUri> root = storage::parse_object_uri(metadata_uri);
  if (!root) throw util::Error(util::ErrorKind::kUsage, metadata_uri + ": not an object-store URI");

  // Removed by dir_'s destructor, also when this constructor throws.
  dir_ = io::TempDir("ckpt-stage");
  bucket_dir_ = dir_.path() / root->bucket;
  bucket_uri_ = root->scheme + "://" + root->bucket;
  for (const char* scheme : {"s3", "s3a", "s3p", "gs"}) {
    storage::ObjectUri u{scheme, root->bucket, ""};
    if (storage::same_bucket(u, *root)) mappings_.push_back({std::string(scheme) + "://" + root->bucket, bucket_dir_});
  }
  auto key_of = [&](const std::string& object_uri) -> std::optional<std::string> {
    auto u = storage::parse_object_uri(object_uri);
    if (!u || !storage::same_bucket(*u, *root)) return std::nullopt;
    return u->key;
  };
  fs::path local_metadata = bucket_dir_ / root->key;
  fs::create_directories(local_metadata.parent_path());
  io::write_file_atomically(local_metadata, metadata_bytes);
  ++objects_;
  bytes_ += metadata_bytes.size();
  std::set<std::string> keys;
  for (const auto& f : file_refs(md, loc.directory)) {
    if (auto k = key_of(f.resolved.uri)) keys.insert(*k);
  }
  std::vector<std::string> key_list(keys.begin(), keys.end()), files;
  for (const std::string& k : key_list) {
    fs::path p = bucket_dir_ / k;
    // A key that climbs out (`..`) or is absolute would leave the copy: never written.
    if (!is_within(p.lexically_normal(), bucket_dir_)) {
      throw util::Error(util::ErrorKind::kInput, root->scheme + "://" + root->bucket + "/" + k +
                                                     ": a referenced key that leaves the bucket's layout");
    }
    fs::create_directories(p.parent_path());
    files.push_back(p.string());
  }
  store.download(key_list, files);
  for (const auto& f : files) {
    ++objects_;
    bytes_ += fs::file_size(f);
  }
}

StoreCopy::~StoreCopy() = default;

std::string StoreCopy::name_uri(std::string_view text) const {
  return util::replace_all(text, bucket_dir_.native(), bucket_uri_);
}

fs::path StoreCopy::local_of(std::string_view uri) const {
  if (uri.ends_with('/')) uri.remove_suffix(1);
  auto u = storage::parse_object_uri(uri);
  return u ? bucket_dir_ / u->key : fs::path();
}

}  // namespace ckpt::snapshot
