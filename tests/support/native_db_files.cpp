#include "support/native_db_files.h"

namespace ckpt::testsupport {

rocks::DbFiles native_db_files(const pipeline::NativeKeyedResult& r, const pipeline::SnapshotLocation& loc,
                               const std::string& where) {
  using pipeline::PersistedStream;
  rocks::DbFiles db;
  db.where = where;
  for (const auto* list : {&r.shared, &r.private_files}) {
    for (const auto& [name, st] : *list) {
      rocks::DbFile f;
      f.name = name;
      f.shared = list == &r.shared;
      f.size = static_cast<uint64_t>(st.size);
      if (st.kind == PersistedStream::Kind::kInline) {
        f.source = rocks::FileSource::kInline;
        f.bytes = st.data;
      } else {
        f.path = st.kind == PersistedStream::Kind::kFile ? loc.dir / st.name
                                                         : std::filesystem::path(st.name.substr(5));  // "file:"
      }
      db.bytes += f.size;
      db.files.push_back(std::move(f));
    }
  }
  return db;
}

}  // namespace ckpt::testsupport
