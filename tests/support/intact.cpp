#include "intact.h"

#include <sys/stat.h>

#include "flink/metadata_reader.h"
#include "snapshot/file_refs.h"

namespace ckpt::testsupport {

std::vector<std::string> snapshot_problems(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  try {
    flink::Metadata md = flink::read_metadata_file(dir / "_metadata");
    for (const auto& f : snapshot::file_refs(md, dir)) {
      if (f.resolved.kind != snapshot::ResolvedPath::Kind::kLocal) continue;
      struct stat st {};
      if (::stat(f.resolved.local.c_str(), &st) != 0) {
        out.push_back(f.resolved.local.string() + ": missing");
      } else if (f.size >= 0 && st.st_size < f.segment_start + f.size) {
        out.push_back(f.resolved.local.string() + ": shorter than recorded");
      }
    }
  } catch (const std::exception& e) {
    out.push_back(e.what());
  }
  return out;
}

}  // namespace ckpt::testsupport
