#include "ops/relocate_in_place.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/atomic_file.h"
#include "io/decode_error.h"
#include "snapshot/discovery.h"
#include "snapshot/job_lock.h"
#include "snapshot/layout.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

// Removes what a run killed between creating its temporary `_metadata` and renaming it left.
void remove_stale_temps(const fs::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* de = ::readdir(d)) {
    if (io::is_temp_sibling_name(de->d_name, snapshot::kMetadataFileName, "tmp")) {
      ::unlink((dir / de->d_name).c_str());
    }
  }
  ::closedir(d);
}

void relocate_one(InPlaceItem& item, const snapshot::Location& loc, const std::vector<Relocation>& relocations,
                  bool dry_run) {
  if (!loc.job_dir.empty() && snapshot::live_job(loc.job_dir)) {
    item.error = loc.job_dir.string() + ": a running job holds this job directory; stop it first";
    return;
  }
  struct stat st {};
  if (::lstat(loc.metadata.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    item.error = loc.metadata.string() + ": not a regular file";
    return;
  }
  flink::Metadata md = flink::read_metadata_file(loc.metadata);
  RelocateStats rs = relocate(md, relocations);
  item.handles = rs.handles;
  item.directories = rs.directories;
  if (dry_run) return;
  remove_stale_temps(loc.metadata.parent_path());
  if (rs.handles == 0 && rs.directories == 0) return;
  std::string bytes;
  try {
    bytes = flink::write_metadata(md);
  } catch (const flink::WriteError& e) {
    item.error = loc.metadata.string() + ": cannot write the relocated _metadata: " + e.what();
    return;
  }
  const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  io::write_file_atomically(loc.metadata, bytes, true, mtime_ns);
  item.written = true;
}

}  // namespace

InPlaceResult relocate_in_place(const fs::path& dir, const std::vector<Relocation>& relocations, bool dry_run) {
  snapshot::Discovery found = snapshot::discover(dir);
  InPlaceResult out;
  out.unsearched = found.unsearched;
  for (const auto& loc : found.snapshots) {
    InPlaceItem item;
    item.metadata = loc.metadata;
    try {
      relocate_one(item, loc, relocations, dry_run);
    } catch (const std::exception& e) {
      item.error = e.what();
      item.written = false;
    }
    if (!item.error.empty()) ++out.failed;
    else if (item.handles || item.directories) ++out.rewritten;
    else ++out.unchanged;
    out.snapshots.push_back(std::move(item));
  }
  return out;
}

}  // namespace ckpt::ops
