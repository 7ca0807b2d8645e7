// A local copy of one snapshot that lives in an object store, for code that reads a snapshot's
// files as local files (RocksDB opens only local files; pack, convert, materialize, compact and
// the pipeline's restore read paths): its `_metadata` and every object of its bucket that the
// handles name are downloaded (several at a time) into a private temporary directory under
// TMPDIR, under their keys, so that the copy has the bucket's layout (the snapshot's root,
// relative handles and `shared/` keep their meaning). The bucket's URIs (under s3://, s3a:// and
// s3p:// alike) are mapped onto the copy. Handles into another bucket are not fetched: readers
// refuse them as they refuse any unmapped remote path. The directory goes with the object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "io/temp_dir.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"
#include "storage/object_store.h"

namespace ckpt::snapshot {

class StoreCopy {
 public:
  // `loc`: the snapshot as discover_in_store() names it (URIs); `metadata_bytes` its `_metadata`,
  // parsed as `md`. Throws util::Error naming the object when a referenced object cannot be read,
  // or a key that would leave the copy (kInput).
  StoreCopy(storage::ObjectStore& store, const Location& loc, std::string_view metadata_bytes,
            const flink::Metadata& md);
  ~StoreCopy();
  StoreCopy(const StoreCopy&) = delete;
  StoreCopy& operator=(const StoreCopy&) = delete;

  // The local path that stands for `uri`, an object or prefix of the snapshot's bucket (a
  // trailing '/' is dropped).
  std::filesystem::path local_of(std::string_view uri) const;
  // The bucket, as each scheme names it, onto the copy.
  const std::vector<PathMapping>& mappings() const { return mappings_; }
  // `text` with the copy's bucket directory spelled as the bucket's URI (under the scheme the
  // snapshot was named with), so that a message names the objects, not the private copy.
  std::string name_uri(std::string_view text) const;
  uint64_t objects() const { return objects_; }
  uint64_t bytes() const { return bytes_; }

 private:
  io::TempDir dir_;
  std::filesystem::path bucket_dir_;
  std::string bucket_uri_;
  std::vector<PathMapping> mappings_;
  uint64_t objects_ = 0, bytes_ = 0;
};

}  // namespace ckpt::snapshot
