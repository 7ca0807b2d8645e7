// Reading a RocksDB database written by Flink's RocksDB state backend: its column families, its
// entries, and whether two databases hold the same entries. Databases are opened read-only with
// the options of rocks/flink_options.h (Flink's merge operator, unknown OPTIONS keys ignored).
//
// Entries are the LOGICAL contents a reader of the database sees: one value per live key, merge
// operands merged with Flink's list-state operator, deleted and overwritten values gone. That is
// the right notion of "the same state" for `ckpt compact`: compaction legitimately changes the
// physical representation (operands folded into one value, tombstones dropped, sequence numbers
// zeroed) but must never change what Flink reads back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::rocks {

struct ColumnFamilyEntries {
  std::string name;
  uint64_t entries = 0;
  uint64_t key_bytes = 0;
  uint64_t value_bytes = 0;
};

// The column families of the database in `dir`, as its MANIFEST lists them ("default" first).
// Throws RocksError (rocks/flink_options.h) when `dir` is not a database.
std::vector<std::string> list_column_families(const std::filesystem::path& dir);

// Opens `dir` read-only and iterates every column family. Throws RocksError on open or read errors
// (checksums are verified).
std::vector<ColumnFamilyEntries> count_entries(const std::filesystem::path& dir);

// Opens `dir` read-only and hands every entry of every column family but "default" to
// `visit(column family, key, value)` in key order, merge operands merged (Flink's list state).
// With `prefix`, only keys starting with it (a key-group prefix) are read, found by a seek. Views
// live for the call. `visit` returns false to stop. Throws RocksError on open or read errors.
void visit_entries(const std::filesystem::path& dir, std::string_view prefix,
                   const std::function<bool(std::string_view cf, std::string_view key, std::string_view value)>& visit);

struct DbComparison {
  bool equal = true;
  std::vector<ColumnFamilyEntries> column_families;  // counted on `a` (all of them when equal)
  std::string difference;                            // the first difference, one line
};

// Iterates `a` and `b` side by side, column family by column family, comparing every key and
// value. Column families must have the same names. Throws RocksError when either cannot be read.
DbComparison compare_dbs(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace ckpt::rocks
