// A local copy of one snapshot that lives in an object store, for the commands that read a
// snapshot's files as local files (pack, convert, materialize, compact): its `_metadata` and
// every object of its bucket that the handles name are downloaded (several at a time) into a
// private temporary directory, under their keys, so that the copy has the bucket's layout (the
// snapshot's root, relative handles and `shared/` keep their meaning). The bucket's URIs (under
// s3://, s3a:// and s3p:// alike) are mapped onto the copy. Handles into another bucket are not
// fetched: the command refuses them as it refuses any unmapped remote path.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "snapshot/paths.h"

namespace ckpt::ops {

class StagedSnapshot {
 public:
  // Throws util::Error naming the object when the snapshot or a referenced object cannot be read.
  StagedSnapshot(const std::string& uri, const std::map<std::string, std::string>& config);
  ~StagedSnapshot();
  StagedSnapshot(const StagedSnapshot&) = delete;
  StagedSnapshot& operator=(const StagedSnapshot&) = delete;

  // The local path that stands for `uri` (the `_metadata` file or the snapshot directory).
  const std::filesystem::path& local_path() const { return local_path_; }
  // The bucket, as each scheme names it, onto the copy.
  const std::vector<snapshot::PathMapping>& mappings() const { return mappings_; }
  // `text` with the copy's directory spelled as the bucket's URI (under the scheme of `uri`), so
  // that a message or report names the objects, not the private copy.
  std::string name_uri(std::string_view text) const;
  uint64_t objects() const { return objects_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path local_path_;
  std::string bucket_dir_, bucket_uri_;  // name_uri's replacement
  std::vector<snapshot::PathMapping> mappings_;
  uint64_t objects_ = 0, bytes_ = 0;
};

}  // namespace ckpt::ops
