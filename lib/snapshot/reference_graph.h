// Which snapshot uses which file: the reference graph that prune and gc decide on.
//
// Built on discovery (which snapshots exist) and file_refs (which files each one uses), so it
// can never disagree with inspect or validate about what a snapshot references.
//
// Contract:
//  * Files are keyed by their absolute, lexically normalised local path. Relative (tag 6) and
//    absolute (tag 2) handles naming the same file therefore meet in one node; file-merging
//    segments (tag 15) count once per handle against their physical file.
//  * Scan roots are made absolute (never canonicalised: Flink writes the paths the job saw, and
//    those may run through symbolic links above the root).
//  * Nothing is silently dropped. A snapshot whose `_metadata` cannot be read is kept with
//    readable = false and its error; a handle that escapes its scan root through `..` (or a
//    relative handle that leaves it at all) and a remote URI that no --map covers are recorded
//    as problems of that snapshot. Callers decide whether to refuse (prune and gc do).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "snapshot/discovery.h"
#include "snapshot/path_index.h"
#include "snapshot/paths.h"
#include "util/large_alloc.h"

namespace ckpt::snapshot {

enum class RefProblem : uint8_t {
  kEscapesRoot,     // a handle path leaves the scan root (`..`, or an absolute tag-6 path)
  kRemoteUnmapped,  // a remote URI (hdfs://, s3://, ...) that no mapping turns into a local path
};

struct GraphSnapshot {
  Location loc;                     // absolute paths
  std::filesystem::path scan_root;  // the root or --protect directory it was found under
  bool protected_origin = false;    // found under a --protect directory
  bool readable = false;
  std::string error;  // !readable: one line saying why
  int64_t checkpoint_id = -1;
  bool savepoint = false;  // properties say savepoint, or a savepoint-* directory
  int64_t mtime_ns = 0;    // of `_metadata` (lstat); 0 when it could not be read
  int64_t metadata_bytes = 0;
  uint64_t metadata_dev = 0, metadata_ino = 0;
  std::vector<uint32_t> files;  // ids into ReferenceGraph::files; unique, ascending
  struct Problem {
    RefProblem kind;
    std::string detail;  // the handle path as written
  };
  std::vector<Problem> problems;
};

struct GraphFile {
  std::string_view path;            // absolute, lexically normal; the physical file for segments.
                                    // Points at the graph's index key: valid while the graph lives.
  int64_t recorded_size = -1;       // largest end offset any handle records (segments: start + size)
  uint32_t handles = 0;             // handles referencing it, over all snapshots (segments: per segment)
  bool segment = false;             // referenced through file-merging segments
  std::span<const uint32_t> users;  // snapshot indices; unique, ascending (in the graph's user_lists)
};

// Move-only, like its index: GraphFile::path and GraphFile::users point into it (a move keeps them).
struct ReferenceGraph {
  std::vector<GraphSnapshot> snapshots;
  std::vector<GraphFile, util::LargeAllocator<GraphFile>> files;  // read by id, at random
  PathIndex index;                                                // path -> id into files
  std::vector<uint32_t> user_lists;  // every file's users back to back: one block, not a vector per file

  std::optional<uint32_t> find(std::string_view absolute_normal) const { return index.find(absolute_normal); }
  std::optional<uint32_t> find(const std::string& absolute_normal) const {
    return find(std::string_view(absolute_normal));
  }
  std::optional<uint32_t> find(const std::filesystem::path& absolute_normal) const {
    return find(std::string_view(absolute_normal.native()));
  }
};

struct GraphSource {
  std::filesystem::path root;  // scanned with discover(); made absolute
  bool protected_origin = false;
};

// Discovers every snapshot under each source and resolves its references. `threads` metadata
// files are parsed in parallel. Throws io::IoError when a source cannot be listed.
ReferenceGraph build_reference_graph(const std::vector<GraphSource>& sources, const std::vector<PathMapping>& mappings,
                                     unsigned threads = 2);

// The same over snapshots found elsewhere (an object store, ops/store_plan.h): `locs` carry
// virtual absolute paths and (in_object_store) the listed size and time of their `_metadata`,
// whose identity is (kObjectDev, object_identity(path)); `read` parses one `_metadata`.
using MetadataReader = std::function<flink::Metadata(const Location&)>;
struct LocatedSnapshot {
  Location loc;
  std::filesystem::path scan_root;  // the root or --protect prefix it was found under (virtual)
  bool protected_origin = false;
};
ReferenceGraph build_reference_graph(std::vector<LocatedSnapshot> snaps, const std::vector<PathMapping>& mappings,
                                     const MetadataReader& read, unsigned threads = 2);

// The identity (FsEntry dev/ino) of an object at a virtual path: no inode, so a hash of the path.
inline constexpr uint64_t kObjectDev = 0x53330000;
uint64_t object_identity(std::string_view path);

// Absolute and lexically normal, without a trailing separator; never resolves symbolic links.
std::filesystem::path absolute_normal(const std::filesystem::path& p);

// The local path a user-given FILE names (local_of_user_path: a remote URI goes through
// `mappings`), absolute and normal; nullopt when it names a file system ckpt cannot reach.
std::optional<std::filesystem::path> local_path_of(const std::string& user_path,
                                                   const std::vector<PathMapping>& mappings);

}  // namespace ckpt::snapshot
