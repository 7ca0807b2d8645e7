#include "snapshot/file_refs.h"

#include "io/mutf8.h"

namespace ckpt::snapshot {

std::string_view path_form_name(PathForm f) {
  switch (f) {
    case PathForm::kRelative:
      return "relative";
    case PathForm::kAbsolute:
      return "absolute";
    case PathForm::kSegment:
      return "segment";
  }
  return "?";
}

void visit_file_refs(const flink::Metadata& md, const std::filesystem::path& snapshot_dir,
                     const std::vector<PathMapping>& mappings, const std::function<void(FileRefView&)>& visit) {
  FileRefView f;
  const bool in_store = snapshot_dir.native().find("://") != std::string::npos;
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    const flink::StreamHandle& h = *r.handle;
    if (!flink::is_file_backed(h)) return;
    f.ref = &r;
    // Assigned, not replaced: the strings keep their capacity from one handle to the next.
    if (io::is_plain_ascii(h.name)) {
      f.path.assign(h.name.data(), h.name.size());
    } else {
      f.path = io::mutf8_to_utf8(h.name);
    }
    f.size = h.size;
    f.segment_start = 0;
    f.kind = ResolvedPath::Kind::kLocal;
    if (h.tag == flink::stream_tag::kRelativeFile) {
      f.form = PathForm::kRelative;
      if (in_store) {
        // A snapshot in an object store: the object beside its `_metadata`, by URI.
        f.kind = ResolvedPath::Kind::kRemoteUnmapped;
        f.local.assign(snapshot_dir.native()).append("/").append(f.path);
      } else {
        local_of_relative_to(f.path, snapshot_dir, f.local);
      }
    } else {
      f.form = h.tag == flink::stream_tag::kSegment ? PathForm::kSegment : PathForm::kAbsolute;
      f.segment_start = h.start;
      if (!local_of_absolute_to(f.path, mappings, f.local)) {
        f.kind = ResolvedPath::Kind::kRemoteUnmapped;
        f.local.clear();
      }
    }
    f.shared = r.role == flink::Role::kShared || (h.tag == flink::stream_tag::kSegment && h.scope == 1) ||
               f.path.find("/shared/") != std::string::npos;
    visit(f);
  });
}

std::vector<FileRef> file_refs(const flink::Metadata& md, const std::filesystem::path& snapshot_dir,
                               const std::vector<PathMapping>& mappings) {
  std::vector<FileRef> out;
  visit_file_refs(md, snapshot_dir, mappings, [&](FileRefView& v) {
    FileRef f;
    f.ref = *v.ref;
    f.form = v.form;
    f.resolved.kind = v.kind;
    f.resolved.uri = v.kind == ResolvedPath::Kind::kRemoteUnmapped && !v.local.empty() ? v.local : v.path;
    if (v.kind == ResolvedPath::Kind::kLocal) f.resolved.local = std::filesystem::path(std::move(v.local));
    f.path = std::move(v.path);
    f.size = v.size;
    f.segment_start = v.segment_start;
    f.shared = v.shared;
    out.push_back(std::move(f));
  });
  return out;
}

}  // namespace ckpt::snapshot
