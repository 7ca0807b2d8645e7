// A local copy of one snapshot that lives in an object store, for the commands that read a
// snapshot's files as local files (pack, convert, materialize, compact): the snapshot a URI names
// (one `_metadata` object or snapshot prefix) is discovered and copied with snapshot::StoreCopy,
// which says what the copy holds.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/paths.h"
#include "snapshot/store_copy.h"

namespace ckpt::ops {

class StagedSnapshot {
 public:
  // Throws util::Error naming the object when the snapshot or a referenced object cannot be read.
  StagedSnapshot(const std::string& uri, const std::map<std::string, std::string>& config);
  StagedSnapshot(const StagedSnapshot&) = delete;
  StagedSnapshot& operator=(const StagedSnapshot&) = delete;

  // The local path that stands for `uri` (the `_metadata` file or the snapshot directory).
  const std::filesystem::path& local_path() const { return local_path_; }
  // The bucket, as each scheme names it, onto the copy.
  const std::vector<snapshot::PathMapping>& mappings() const { return copy_->mappings(); }
  // `text` with the copy's directory spelled as the bucket's URI (under the scheme of `uri`), so
  // that a message or report names the objects, not the private copy.
  std::string name_uri(std::string_view text) const;
  uint64_t objects() const { return copy_->objects(); }
  uint64_t bytes() const { return copy_->bytes(); }

 private:
  std::unique_ptr<snapshot::StoreCopy> copy_;
  std::filesystem::path local_path_;
};

}  // namespace ckpt::ops
