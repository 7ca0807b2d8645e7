#include "rocks/flink_options.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/utilities/options_util.h>

#include <algorithm>

#include "rocks/flink_db.h"

namespace fs = std::filesystem;

namespace ckpt::rocks {
namespace {

// Flink's RocksDB backend: RocksDBKeyedStateBackend.MERGE_OPERATOR_NAME ("stringappendtest").
constexpr const char* kFlinkMergeOperator = "StringAppendTESTOperator";

// Options of the machine that wrote the database that must not apply here.
void sanitize(rocksdb::ColumnFamilyOptions& cf, const fs::path& dir, bool& added_merge, bool& was_fifo) {
  cf.cf_paths.clear();
  cf.compaction_filter = nullptr;
  cf.compaction_filter_factory = nullptr;
  cf.sst_partitioner_factory = nullptr;
  if (!cf.merge_operator) {
    cf.merge_operator = flink_merge_operator(dir);
    added_merge = true;
  }
  if (cf.compaction_style == rocksdb::kCompactionStyleFIFO) {
    // FIFO "compaction" deletes the oldest files: never run it over state.
    cf.compaction_style = rocksdb::kCompactionStyleLevel;
    cf.num_levels = std::max(cf.num_levels, 7);
    was_fifo = true;
  }
}

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> flink_merge_operator(const fs::path& dir) {
  static const std::shared_ptr<rocksdb::MergeOperator> op = [] {
    std::shared_ptr<rocksdb::MergeOperator> m;
    rocksdb::ConfigOptions co;
    if (!rocksdb::MergeOperator::CreateFromString(co, kFlinkMergeOperator, &m).ok()) m.reset();
    return m;
  }();
  if (!op) throw RocksError(dir.string() + ": this RocksDB build lacks the merge operator " + kFlinkMergeOperator);
  return op;
}

FlinkDbOptions flink_db_options(const fs::path& dir) {
  FlinkDbOptions out;
  const std::vector<std::string> names = list_column_families(dir);

  rocksdb::ConfigOptions co;
  co.ignore_unknown_options = true;  // FRocksDB 8.10 keys
  co.input_strings_escaped = true;   // as OPTIONS files are written
  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> loaded;
  rocksdb::Status s = rocksdb::LoadLatestOptions(co, dir.string(), &db, &loaded);
  if (!s.ok()) {
    out.notes.push_back("no usable OPTIONS file (" + s.ToString() + "): RocksDB's default options");
    db = rocksdb::DBOptions();
    loaded.clear();
  }
  db.wal_dir.clear();
  db.db_log_dir.clear();
  db.db_paths.clear();
  db.use_direct_reads = false;
  db.use_direct_io_for_flush_and_compaction = false;
  db.create_if_missing = false;
  db.create_missing_column_families = false;
  db.error_if_exists = false;
  out.db = db;

  const rocksdb::ColumnFamilyOptions* fallback = nullptr;
  for (const auto& d : loaded) {
    if (d.name == rocksdb::kDefaultColumnFamilyName) fallback = &d.options;
  }
  bool added_merge = false, was_fifo = false;
  std::vector<std::string> without_options;
  for (const auto& name : names) {
    auto it = std::find_if(loaded.begin(), loaded.end(), [&](const auto& d) { return d.name == name; });
    rocksdb::ColumnFamilyOptions cf = it != loaded.end() ? it->options
                                      : fallback         ? *fallback
                                                         : rocksdb::ColumnFamilyOptions();
    if (it == loaded.end() && !loaded.empty()) without_options.push_back(name);
    sanitize(cf, dir, added_merge, was_fifo);
    out.column_families.emplace_back(name, cf);
  }
  if (!without_options.empty()) {
    std::string list;
    for (const auto& n : without_options) list += (list.empty() ? "" : ", ") + n;
    out.notes.push_back("column families without options in OPTIONS (given the default column family's): " + list);
  }
  if (added_merge && !loaded.empty()) {
    out.notes.push_back(std::string("column families without a merge operator were given Flink's ") +
                        kFlinkMergeOperator);
  }
  if (was_fifo) out.notes.push_back("FIFO compaction style (which drops old files) replaced by level compaction");
  return out;
}

OpenDb::OpenDb(const fs::path& dir, Mode mode) : dir_(dir), options_(flink_db_options(dir)) {
  rocksdb::DBOptions dbo = options_.db;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = options_.column_families;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (mode == Mode::kReadOnly) {
    s = rocksdb::DB::OpenForReadOnly(dbo, dir.string(), cfs, &handles_, &raw);
  } else {
    dbo.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    for (auto& cf : cfs) cf.options.disable_auto_compactions = true;
    s = rocksdb::DB::Open(dbo, dir.string(), cfs, &handles_, &raw);
  }
  db_.reset(raw);
  check(s, mode == Mode::kReadOnly ? "cannot open read-only" : "cannot open");
}

OpenDb::~OpenDb() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  db_->Close().PermitUncheckedError();
  db_.reset();
}

void OpenDb::check(const rocksdb::Status& s, const char* what) const {
  if (!s.ok()) throw RocksError(dir_.string() + ": " + what + ": " + s.ToString());
}

}  // namespace ckpt::rocks
