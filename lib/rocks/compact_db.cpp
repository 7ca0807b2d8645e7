#include "rocks/compact_db.h"

#include <rocksdb/utilities/checkpoint.h>

#include <algorithm>
#include <memory>

#include "io/atomic_file.h"
#include "io/copy_or_link.h"
#include "rocks/db_files.h"
#include "rocks/flink_options.h"

namespace fs = std::filesystem;

namespace ckpt::rocks {

CompactDbResult compact_db(const fs::path& db_dir, const fs::path& export_dir) {
  CompactDbResult r;
  {
    OpenDb db(db_dir, OpenDb::Mode::kWrite);
    r.notes = db.options().notes;
    rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    cro.exclusive_manual_compaction = true;
    for (auto* h : db.handles()) {
      db.check(db.db()->CompactRange(cro, h, nullptr, nullptr),
               ("cannot compact column family " + h->GetName()).c_str());
    }
    rocksdb::Checkpoint* raw = nullptr;
    db.check(rocksdb::Checkpoint::Create(db.db(), &raw), "cannot create a checkpoint object");
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush 0: flush first (nothing to flush: ckpt never writes), so no WAL is needed.
    db.check(cp->CreateCheckpoint(export_dir.string(), 0),
             ("cannot write a checkpoint to " + export_dir.string()).c_str());
  }
  for (const auto& e : fs::directory_iterator(export_dir)) {
    ExportedFile f;
    f.name = e.path().filename().string();
    f.size = io::regular_file_size(e.path());
    if (f.name.ends_with(".log") && f.size == 0) {
      // An empty write-ahead log holds nothing; Flink's snapshots carry none (it disables the WAL).
      fs::remove(e.path());
      continue;
    }
    r.bytes += f.size;
    r.sst_files += is_sst(f.name) ? 1 : 0;
    r.files.push_back(std::move(f));
  }
  std::sort(r.files.begin(), r.files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  io::fsync_directory(export_dir);
  return r;
}

}  // namespace ckpt::rocks
