// Opening a RocksDB database written by Flink's RocksDB state backend with Debian's RocksDB 7.8.
// (Internal to lib/rocks: this header exposes RocksDB types; the rest of ckpt uses flink_db.h
// and compact_db.h.)
//
// Flink writes with FRocksDB (6.20.3 in Flink 1.x, 8.10 in Flink 2.x). Its OPTIONS-NNNNNN file
// is the best description of how the database was configured, but:
//  * FRocksDB 8.10 writes keys RocksDB 7.8 does not know (compaction_verify_record_count, ...):
//    they are ignored (ConfigOptions::ignore_unknown_options), as `ldb --ignore_unknown_options`
//    does;
//  * paths of the machine that wrote it (wal_dir, db_log_dir, db_paths, cf_paths) are dropped;
//  * list state needs the merge operator Flink configures, "StringAppendTESTOperator" with
//    delimiter ',' (spec §14.4): RocksDB ships it under the same name; a column family whose
//    OPTIONS name none (or that has no OPTIONS) gets it;
//  * compaction filters (Flink's TTL cleanup, FRocksDB's FlinkCompactionFilter) are never
//    loaded: ckpt must not drop entries, expired or not;
//  * FIFO compaction (which deletes the oldest table files) becomes level compaction;
//  * a column family the MANIFEST has but OPTIONS lacks gets the default column family's options;
//  * without a usable OPTIONS file, RocksDB's defaults plus the merge operator are used.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include "util/error.h"

namespace ckpt::rocks {

// A RocksDB call failed; what() is one line naming the directory and RocksDB's status.
class RocksError : public util::Error {
 public:
  explicit RocksError(const std::string& message) : util::Error(util::ErrorKind::kInput, message) {}
};

// Flink's list-state merge operator (RocksDB's "StringAppendTESTOperator", delimiter ','), one
// shared instance. Throws RocksError naming `dir` when this RocksDB build lacks it.
std::shared_ptr<rocksdb::MergeOperator> flink_merge_operator(const std::filesystem::path& dir);

struct FlinkDbOptions {
  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> column_families;  // every CF of the MANIFEST
  std::vector<std::string> notes;  // what was assumed (no OPTIONS file, CFs without options, ...)
};

// The options to open `dir` with, per the rules above. Throws RocksError when the directory is
// not a database (ListColumnFamilies fails).
FlinkDbOptions flink_db_options(const std::filesystem::path& dir);

// An open database and its column family handles (in the order of FlinkDbOptions), closed by the
// destructor.
class OpenDb {
 public:
  enum class Mode { kReadOnly, kWrite };
  // kWrite opens with automatic compactions off and a quiet info log. Throws RocksError.
  OpenDb(const std::filesystem::path& dir, Mode mode);
  ~OpenDb();
  OpenDb(const OpenDb&) = delete;
  OpenDb& operator=(const OpenDb&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles() const { return handles_; }
  const FlinkDbOptions& options() const { return options_; }
  const std::filesystem::path& dir() const { return dir_; }

  // Throws RocksError "<dir>: <what>: <status>" when `s` is not ok.
  void check(const rocksdb::Status& s, const char* what) const;

 private:
  std::filesystem::path dir_;
  FlinkDbOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace ckpt::rocks
