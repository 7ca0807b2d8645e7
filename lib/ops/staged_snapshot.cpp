#include "ops/staged_snapshot.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "flink/metadata_reader.h"
#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "ops/snapshot_source.h"
#include "snapshot/file_refs.h"
#include "storage/object_uri.h"
#include "util/replace_all.h"

namespace ckpt::ops {
namespace fs = std::filesystem;

StagedSnapshot::StagedSnapshot(const std::string& uri, const std::map<std::string, std::string>& config) {
  SnapshotSource source(uri, config);
  snapshot::Discovery d = source.discover();
  if (!d.single || d.snapshots.size() != 1) {
    throw util::Error(util::ErrorKind::kUsage, uri + ": names " + std::to_string(d.snapshots.size()) +
                                                   " snapshots, expected one snapshot prefix or _metadata object");
  }
  const snapshot::Location& loc = d.snapshots.front();
  std::string bytes = source.read_bytes(loc);
  flink::Metadata md = flink::parse_metadata(bytes, loc.metadata.native());

  std::string pattern = (fs::temp_directory_path() / "ckpt-stage-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw io::IoError(pattern + ": cannot create: " + std::strerror(errno));
  dir_ = pattern;
  auto root = *storage::parse_object_uri(uri);
  const fs::path bucket_dir = dir_ / root.bucket;
  bucket_dir_ = bucket_dir.native();
  bucket_uri_ = root.scheme + "://" + root.bucket;
  for (const char* scheme : {"s3", "s3a", "s3p", "gs"}) {
    storage::ObjectUri u{scheme, root.bucket, ""};
    if (storage::same_bucket(u, root)) mappings_.push_back({std::string(scheme) + "://" + root.bucket, bucket_dir});
  }
  auto key_of = [&](const std::string& object_uri) -> std::optional<std::string> {
    auto u = storage::parse_object_uri(object_uri);
    if (!u || !storage::same_bucket(*u, root)) return std::nullopt;
    return u->key;
  };
  try {
    std::string metadata_key = *key_of(loc.metadata.native());
    fs::path local_metadata = bucket_dir / metadata_key;
    fs::create_directories(local_metadata.parent_path());
    io::write_file_atomically(local_metadata, bytes);
    ++objects_;
    bytes_ += bytes.size();
    std::set<std::string> keys;
    for (const auto& f : snapshot::file_refs(md, loc.directory)) {
      if (auto k = key_of(f.resolved.uri)) keys.insert(*k);
    }
    std::vector<std::string> key_list(keys.begin(), keys.end()), files;
    for (const std::string& k : key_list) {
      fs::path p = bucket_dir / k;
      // A key that climbs out (`..`) or is absolute would leave the copy: never written.
      if (!snapshot::is_within(p.lexically_normal(), bucket_dir)) {
        throw util::Error(util::ErrorKind::kInput, root.scheme + "://" + root.bucket + "/" + k +
                                                       ": a referenced key that leaves the bucket's layout");
      }
      fs::create_directories(p.parent_path());
      files.push_back(p.string());
    }
    source.store().download(key_list, files);
    for (const auto& f : files) {
      ++objects_;
      bytes_ += fs::file_size(f);
    }
    local_path_ = bucket_dir / *key_of(uri.ends_with("/") ? uri.substr(0, uri.size() - 1) : uri);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

std::string StagedSnapshot::name_uri(std::string_view text) const {
  return util::replace_all(text, bucket_dir_, bucket_uri_);
}

StagedSnapshot::~StagedSnapshot() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace ckpt::ops
