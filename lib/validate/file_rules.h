// Rules F23-F32 (spec §19.3; F32 is ckpt's own, snapshot/read_scope.h): the files a snapshot references, checked on
// this machine; and, with `deep`, rules D01-D07 on their contents (validate/deep.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "flink/model.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"
#include "validate/findings.h"

namespace ckpt::validate {

// Called with (bytes done, bytes total) while deep checks run; may be called from any worker
// thread, but never concurrently.
using ProgressFn = std::function<void(uint64_t, uint64_t)>;

// What an object store says of a file a handle names by URI (a snapshot read from s3://).
struct RemoteStat {
  enum class Kind { kUnreachable, kMissing, kFound };
  Kind kind = Kind::kUnreachable;  // kUnreachable: another store or bucket, never followed
  int64_t size = 0;
};
// The object store of a snapshot read from s3:// (ops::SnapshotSource is one).
class RemoteFiles {
 public:
  virtual ~RemoteFiles() = default;
  // What the store says of `uri`; throws util::Error when it cannot answer.
  virtual RemoteStat stat(const std::string& uri) = 0;
  // Copies the objects to local files (for the D rules), several at a time; throws naming the
  // first object that cannot be copied.
  virtual void download(const std::vector<std::string>& uris, const std::vector<std::string>& files) = 0;
};

struct FileOptions {
  std::vector<snapshot::PathMapping> mappings;       // --map PREFIX=DIR
  std::vector<std::filesystem::path> allow_outside;  // --allow-outside DIR: not reported by F32
  bool strict = false;                               // unmapped remote files are errors, not "not checked"
  bool deep = false;                                 // read every file (D rules)
  unsigned threads = 0;                              // deep workers; 0 = one per hardware thread
  ProgressFn progress;
  RemoteFiles* remote = nullptr;  // set for snapshots in an object store: their URIs are checked there
};

struct FileStats {
  int referenced = 0;      // distinct referenced files
  int checked = 0;         // of those, found and checked on this machine
  int not_checked = 0;     // on unmapped remote file systems
  int64_t bytes_read = 0;  // deep: bytes read from referenced files
};

void check_files(const flink::Metadata& md, const snapshot::Location& loc, const FileOptions& options, Findings& out,
                 FileStats& stats);

}  // namespace ckpt::validate
