#include "rocks/flink_db.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <memory>

#include "rocks/flink_options.h"

namespace fs = std::filesystem;

namespace ckpt::rocks {
namespace {

rocksdb::ReadOptions scan_options() {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;  // one pass over everything: caching would only evict
  // No fixed readahead: an iterator merges every table file of a level-0 heavy database at once,
  // and 2 MiB per file made the scan 2x slower than RocksDB's adaptive default.
  ro.readahead_size = 0;
  return ro;
}

std::string hex_prefix(const rocksdb::Slice& s) {
  constexpr std::size_t kMax = 32;
  std::string out = "0x";
  for (std::size_t i = 0; i < std::min(s.size(), kMax); ++i)
    out += fmt::format("{:02x}", static_cast<unsigned char>(s[i]));
  if (s.size() > kMax) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

void count(ColumnFamilyEntries& c, const rocksdb::Iterator& it) {
  ++c.entries;
  c.key_bytes += it.key().size();
  c.value_bytes += it.value().size();
}

}  // namespace

std::vector<std::string> list_column_families(const fs::path& dir) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names);
  if (!s.ok()) throw RocksError(dir.string() + ": not a RocksDB database: " + s.ToString());
  return names;
}

std::vector<ColumnFamilyEntries> count_entries(const fs::path& dir) {
  OpenDb db(dir, OpenDb::Mode::kReadOnly);
  std::vector<ColumnFamilyEntries> out;
  for (auto* h : db.handles()) {
    ColumnFamilyEntries c;
    c.name = h->GetName();
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(scan_options(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) count(c, *it);
    db.check(it->status(), ("cannot read column family " + c.name).c_str());
    out.push_back(std::move(c));
  }
  return out;
}

void visit_entries(const fs::path& dir, std::string_view prefix,
                   const std::function<bool(std::string_view, std::string_view, std::string_view)>& visit) {
  OpenDb db(dir, OpenDb::Mode::kReadOnly);
  for (auto* h : db.handles()) {
    if (h->GetName() == rocksdb::kDefaultColumnFamilyName) continue;  // holds no Flink state
    std::string cf = h->GetName();
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(scan_options(), h));
    rocksdb::Slice start(prefix.data(), prefix.size());
    for (prefix.empty() ? it->SeekToFirst() : it->Seek(start); it->Valid(); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      if (!key.starts_with(prefix)) break;
      if (!visit(cf, key, std::string_view(it->value().data(), it->value().size()))) return;
    }
    db.check(it->status(), ("cannot read column family " + cf).c_str());
  }
}

DbComparison compare_dbs(const fs::path& a, const fs::path& b) {
  OpenDb da(a, OpenDb::Mode::kReadOnly);
  OpenDb dbb(b, OpenDb::Mode::kReadOnly);
  DbComparison r;
  auto names = [](const OpenDb& d) {
    std::vector<std::string> n;
    for (auto* h : d.handles()) n.push_back(h->GetName());
    std::sort(n.begin(), n.end());
    return n;
  };
  if (names(da) != names(dbb)) {
    r.equal = false;
    r.difference = fmt::format("column families differ: {{{}}} vs {{{}}}", fmt::join(names(da), ", "),
                               fmt::join(names(dbb), ", "));
    return r;
  }
  for (auto* ha : da.handles()) {
    auto hb = *std::find_if(dbb.handles().begin(), dbb.handles().end(),
                            [&](auto* h) { return h->GetName() == ha->GetName(); });
    ColumnFamilyEntries c;
    c.name = ha->GetName();
    std::unique_ptr<rocksdb::Iterator> ia(da.db()->NewIterator(scan_options(), ha));
    std::unique_ptr<rocksdb::Iterator> ib(dbb.db()->NewIterator(scan_options(), hb));
    ia->SeekToFirst();
    ib->SeekToFirst();
    for (; ia->Valid() && ib->Valid(); ia->Next(), ib->Next()) {
      if (ia->key() != ib->key()) {
        r.difference = fmt::format("column family {}: entry {}: key {} vs {}", c.name, c.entries, hex_prefix(ia->key()),
                                   hex_prefix(ib->key()));
        break;
      }
      if (ia->value() != ib->value()) {
        r.difference = fmt::format("column family {}: key {}: values differ ({} vs {} bytes)", c.name,
                                   hex_prefix(ia->key()), ia->value().size(), ib->value().size());
        break;
      }
      count(c, *ia);
    }
    da.check(ia->status(), ("cannot read column family " + c.name).c_str());
    dbb.check(ib->status(), ("cannot read column family " + c.name).c_str());
    if (r.difference.empty() && (ia->Valid() || ib->Valid())) {
      r.difference = fmt::format("column family {}: {} has more entries after {} (first extra key {})", c.name,
                                 ia->Valid() ? a.string() : b.string(), c.entries,
                                 hex_prefix(ia->Valid() ? ia->key() : ib->key()));
    }
    r.column_families.push_back(std::move(c));
    if (!r.difference.empty()) {
      r.equal = false;
      return r;
    }
  }
  return r;
}

}  // namespace ckpt::rocks
