// The files a snapshot references, resolved to paths on this machine.
//
// Built on flink::visit_streams (the one enumeration of handles) and snapshot/paths.h (the one
// resolution rule), so inspect, validate, diff, prune, gc and convert agree on what a snapshot
// uses. Inline handles are not files and are skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "flink/handles.h"
#include "flink/model.h"
#include "snapshot/paths.h"

namespace ckpt::snapshot {

enum class PathForm { kRelative, kAbsolute, kSegment };

// "relative", "absolute", "segment".
std::string_view path_form_name(PathForm f);

struct FileRef {
  flink::StreamRef ref;  // where the handle sits (operator, subtask, role, local name)
  PathForm form = PathForm::kRelative;
  std::string path;           // the handle's path as written, converted to UTF-8
  ResolvedPath resolved;      // local path, or remote and unmapped
  int64_t size = 0;           // recorded state size (-1 = unknown)
  int64_t segment_start = 0;  // file-merging segments: the chunk is [start, start + size)
  bool shared = false;        // shared scope: incremental shared list, SHARED segment, or .../shared/...
};

// Every file-backed handle of `md`, in file order (a file shared by several handles appears once
// per handle). Relative handles resolve against `snapshot_dir`.
std::vector<FileRef> file_refs(const flink::Metadata& md, const std::filesystem::path& snapshot_dir,
                               const std::vector<PathMapping>& mappings = {});

// One handle as visit_file_refs hands it over: the same facts as a FileRef, with the local path
// as a lexically normal string (empty when remote and unmapped). `ref` lives for the callback;
// the strings may be moved out.
struct FileRefView {
  const flink::StreamRef* ref = nullptr;
  PathForm form = PathForm::kRelative;
  std::string path;  // as written, UTF-8
  ResolvedPath::Kind kind = ResolvedPath::Kind::kLocal;
  std::string local;  // kLocal: the local path; kRemoteUnmapped: empty, or (a relative path of a
                      // snapshot in an object store) the object's URI
  int64_t size = 0;
  int64_t segment_start = 0;
  bool shared = false;
};

// file_refs without a std::filesystem::path per handle, for callers that see millions of handles
// (the reference graph). file_refs is built on it.
void visit_file_refs(const flink::Metadata& md, const std::filesystem::path& snapshot_dir,
                     const std::vector<PathMapping>& mappings, const std::function<void(FileRefView&)>& visit);

}  // namespace ckpt::snapshot
