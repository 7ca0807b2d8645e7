#include "rocks/place_db.h"

#include "io/atomic_file.h"
#include "io/copy_or_link.h"
#include "util/saturating.h"

namespace fs = std::filesystem;

namespace ckpt::rocks {

const char* place_how_name(PlaceHow h) {
  switch (h) {
    case PlaceHow::kLink:
      return "link";
    case PlaceHow::kCopy:
      return "copy";
    case PlaceHow::kCut:
      return "cut";
    case PlaceHow::kInline:
      return "inline";
  }
  return "?";
}

PlaceStats place_db_files(const DbFiles& db, const fs::path& dir, bool link_ssts) {
  PlaceStats st;
  st.how.resize(db.files.size());
  auto place = [&](std::size_t i) {
    const DbFile& f = db.files[i];
    const fs::path target = dir / f.name;
    PlaceHow how = PlaceHow::kCopy;
    switch (f.source) {
      case FileSource::kInline:
        io::write_file_atomically(target, f.bytes, /*overwrite=*/false);
        how = PlaceHow::kInline;
        ++st.inlined;
        break;
      case FileSource::kSegment:
        io::copy_range(db.scope, f.path, f.offset, f.size, target);
        how = PlaceHow::kCut;
        ++st.cut;
        break;
      case FileSource::kFile:
        if (io::link_or_copy(db.scope, f.path, target, link_ssts && is_sst(f.name)) == io::PlaceMethod::kLink) {
          how = PlaceHow::kLink;
          ++st.linked;
        } else {
          ++st.copied;
        }
        break;
    }
    st.how[i] = how;
    util::sat_accumulate(st.bytes, f.size);
  };
  std::size_t current = db.files.size();
  for (std::size_t i = 0; i < db.files.size(); ++i) {
    if (db.files[i].name == "CURRENT") current = i;
    else place(i);
  }
  if (current < db.files.size()) {
    io::fsync_directory(dir);  // every other file is in place before CURRENT names the MANIFEST
    place(current);
  }
  io::fsync_directory(dir);
  return st;
}

}  // namespace ckpt::rocks
