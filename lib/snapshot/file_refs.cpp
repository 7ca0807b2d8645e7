#include "snapshot/file_refs.h"

#include "io/mutf8.h"

namespace ckpt::snapshot {

std::string_view path_form_name(PathForm f) {
  switch (f) {
    case PathForm::kRelative: return "relative";
    case PathForm::kAbsolute: return "absolute";
    case PathForm::kSegment: return "segment";
  }
  return "?";
}

std::vector<FileRef> file_refs(const flink::Metadata& md, const std::filesystem::path& snapshot_dir,
                               const std::vector<PathMapping>& mappings) {
  std::vector<FileRef> out;
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    const flink::StreamHandle& h = *r.handle;
    if (!flink::is_file_backed(h)) return;
    FileRef f;
    f.ref = r;
    f.path = io::mutf8_to_utf8(h.name);
    f.size = h.size;
    if (h.tag == flink::stream_tag::kRelativeFile) {
      f.form = PathForm::kRelative;
      f.resolved = resolve_relative(f.path, snapshot_dir);
    } else {
      f.form = h.tag == flink::stream_tag::kSegment ? PathForm::kSegment : PathForm::kAbsolute;
      f.segment_start = h.start;
      f.resolved = resolve_absolute(f.path, mappings);
    }
    f.shared = r.role == flink::Role::kShared || (h.tag == flink::stream_tag::kSegment && h.scope == 1) ||
               f.path.find("/shared/") != std::string::npos;
    out.push_back(std::move(f));
  });
  return out;
}

}  // namespace ckpt::snapshot
