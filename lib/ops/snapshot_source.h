// Where a command's snapshots are read from: the local file system or an object store, named by
// the user's path (`/data/ck/JOB`, `s3://bucket/ck/JOB/chk-5`). One object gives discovery and
// the bytes of each `_metadata`, so that a command reads both the same way from either place.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flink/metadata_reader.h"
#include "flink/model.h"
#include "snapshot/discovery.h"
#include "storage/open_store.h"
#include "validate/file_rules.h"

namespace ckpt::ops {

class SnapshotSource final : public validate::RemoteFiles {
 public:
  // `config`: Flink configuration keys (s3.endpoint, s3.access-key, ...; storage/s3_settings.h).
  // Throws util::Error (kUsage) for a malformed URI or missing credentials.
  explicit SnapshotSource(std::string_view user_path, const std::map<std::string, std::string>& config = {});

  bool in_object_store() const { return opened_.uri.has_value(); }
  storage::ObjectStore& store() { return *opened_.store; }

  // What the path names (snapshot::discover locally, snapshot::discover_in_store remotely).
  snapshot::Discovery discover();

  // The parsed `_metadata` of a discovered snapshot. Throws flink::MetadataError naming the
  // file (and byte offset) when it cannot be read or parsed.
  flink::Metadata read(const snapshot::Location& loc);
  // The same, read one operator at a time (flink::OperatorStream).
  flink::OperatorStream stream(const snapshot::Location& loc);
  // The `_metadata` bytes, unparsed. Throws util::Error naming the object or file.
  std::string read_bytes(const snapshot::Location& loc);

  // Fetches the `_metadata` objects of `locations` in parallel (an object store's round trips
  // dominate a root's listing otherwise); read() and read_bytes() then take them from memory,
  // once each. Objects that cannot be fetched are left for read() to report. No-op locally.
  void prefetch(const std::vector<snapshot::Location>& locations);

  // For snapshots in an object store, the store as validate checks files there (F23/F24, and
  // the D rules on downloaded copies); nullptr for local paths. stat(): objects under the prefix
  // discover() listed are answered from that listing, others of the same bucket by one HEAD
  // each; another bucket or scheme is unreachable (never followed).
  validate::RemoteFiles* remote_files() { return in_object_store() ? this : nullptr; }
  validate::RemoteStat stat(const std::string& uri) override;
  void download(const std::vector<std::string>& uris, const std::vector<std::string>& files) override;

 private:
  std::string path_;
  storage::OpenedStore opened_;
  std::optional<std::string> listed_prefix_;                     // what discover() listed, when it listed a prefix
  std::unordered_map<std::string, storage::ObjectInfo> listed_;  // by key, from discover()'s listing
  std::unordered_map<std::string, std::string> prefetched_;      // `_metadata` URI -> bytes
};

// True when `path` names an object store (s3://, s3a://, s3p://, gs://).
bool is_object_store_path(std::string_view path);

}  // namespace ckpt::ops
