#include "storage/object_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>
#include <vector>

#include "io/atomic_file.h"
#include "io/checksum.h"
#include "io/file_bytes.h"
#include "storage/s3_client.h"
#include "util/error.h"
#include "util/flink_units.h"

namespace fs = std::filesystem;

namespace ckpt::storage {
namespace {

constexpr std::string_view kMagic = "CKPTOBJ1";
constexpr uint64_t kDefaultMaxBytes = uint64_t{512} << 20;
// Bigger objects are not worth a place (a bound against one huge `_metadata` evicting the rest).
constexpr double kLargestShare = 0.25;

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

// magic, size u64, three lengths u32, scope, key, etag: what an entry must match.
std::string header_of(std::string_view scope, const ObjectInfo& o) {
  std::string h(kMagic);
  put_u64(h, o.size);
  put_u32(h, static_cast<uint32_t>(scope.size()));
  put_u32(h, static_cast<uint32_t>(o.key.size()));
  put_u32(h, static_cast<uint32_t>(o.etag.size()));
  h += scope;
  h += o.key;
  h += o.etag;
  return h;
}

// Whether `etag` is the MD5 of `bytes`: S3's ETag of an object uploaded in one PUT (quoted). A
// multipart ETag ("…-3") or an encrypted object's says nothing checkable about the bytes.
bool etag_matches(std::string_view etag, std::string_view bytes) {
  if (etag.size() == 34 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, 32);
  if (etag.size() != 32) return false;
  std::string md5 = md5_hex(bytes);
  return std::equal(md5.begin(), md5.end(), etag.begin(),
                    [](char a, char b) { return a == (b >= 'A' && b <= 'F' ? static_cast<char>(b - 'A' + 'a') : b); });
}

uint64_t checksum(std::string_view header, std::string_view content) {
  io::Xxh64 h;
  h.update(header);
  h.update(content);
  return h.digest();
}

}  // namespace

ObjectCache::ObjectCache(fs::path dir, std::string scope, uint64_t max_bytes)
    : dir_(std::move(dir)), scope_(std::move(scope)), max_bytes_(max_bytes) {}

ObjectCache::~ObjectCache() {
  if (added_ > 0) trim();
}

fs::path ObjectCache::entry_path(std::string_view key) const {
  std::string id = scope_;
  id += '\0';
  id += key;
  return dir_ / fmt::format("{:016x}", io::xxh64(id));
}

std::optional<std::string> ObjectCache::get(const ObjectInfo& object) {
  if (object.etag.empty()) return std::nullopt;
  fs::path p = entry_path(object.key);
  const std::string header = header_of(scope_, object);
  std::error_code ec;
  auto file_size = fs::file_size(p, ec);
  if (ec || file_size != header.size() + 8 + object.size) return std::nullopt;
  std::string bytes;
  try {
    bytes = io::read_file_bytes(p);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (bytes.size() != file_size || bytes.compare(0, header.size(), header) != 0) return std::nullopt;
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + header.size(), 8);
  std::string_view content = std::string_view(bytes).substr(header.size() + 8);
  if (stored != checksum(header, content)) return std::nullopt;
  // Used: the entry becomes the most recently used for trim().
  fs::last_write_time(p, fs::file_time_type::clock::now(), ec);
  ++hits_;
  bytes.erase(0, header.size() + 8);  // the content, without a second copy of it
  return bytes;
}

void ObjectCache::put(const ObjectInfo& object, std::string_view bytes) {
  // Only bytes the server's own ETag vouches for: an object replaced between the listing and
  // the GET must not be recorded under the listing's ETag.
  if (bytes.size() != object.size ||
      static_cast<double>(bytes.size()) > kLargestShare * static_cast<double>(max_bytes_) ||
      !etag_matches(object.etag, bytes)) {
    return;
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return;
  fs::path p = entry_path(object.key);
  fs::path tmp = io::temp_sibling(p, "tmp");
  const std::string header = header_of(scope_, object);
  uint64_t sum = checksum(header, bytes);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(&sum), 8);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      return;
    }
  }
  // No fsync: an entry lost or torn by a crash fails its checksum and is read again.
  fs::rename(tmp, p, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return;
  }
  added_ += bytes.size();
}

void ObjectCache::trim() {
  struct Entry {
    fs::file_time_type used;
    uint64_t size;
    fs::path path;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  const auto stale_temp = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (!it->is_regular_file(e2)) continue;
    auto used = it->last_write_time(e2);
    auto size = it->file_size(e2);
    if (e2) continue;
    if (it->path().filename().native().starts_with(".")) {
      // A writer killed before its rename (or one still writing, if recent: left alone).
      if (used < stale_temp) fs::remove(it->path(), e2);
      continue;
    }
    entries.push_back({used, size, it->path()});
    total += size;
  }
  if (total <= max_bytes_) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const auto& e : entries) {
    if (total <= max_bytes_) break;
    if (fs::remove(e.path, ec)) total -= e.size;
  }
}

std::shared_ptr<ObjectCache> resolve_object_cache(const std::map<std::string, std::string>& config, std::string scope) {
  uint64_t max_bytes = kDefaultMaxBytes;
  if (auto it = config.find("ckpt.cache.max-size"); it != config.end()) {
    auto v = util::parse_memory_size(it->second);
    if (!v) {
      throw util::Error(util::ErrorKind::kUsage,
                        fmt::format("ckpt.cache.max-size: '{}' is not {}", it->second, util::kMemorySizeSyntax));
    }
    max_bytes = static_cast<uint64_t>(*v);
  }
  fs::path dir;
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  if (auto it = config.find("ckpt.cache.dir"); it != config.end()) {
    dir = it->second;
  } else if (auto d = env("CKPT_CACHE_DIR"); !d.empty()) {
    dir = d;
  } else if (auto x = env("XDG_CACHE_HOME"); !x.empty()) {
    dir = fs::path(x) / "ckpt";
  } else if (auto h = env("HOME"); !h.empty()) {
    dir = fs::path(h) / ".cache" / "ckpt";
  }
  if (dir.empty() || dir == "none" || max_bytes == 0) return nullptr;
  return std::make_shared<ObjectCache>(dir / "objects", std::move(scope), max_bytes);
}

std::unordered_map<std::string, std::string> prefetch(ObjectStore& store, std::span<const ObjectInfo> objects,
                                                      uint64_t max_bytes, ObjectCache* cache) {
  std::unordered_map<std::string, std::string> out;
  std::vector<std::string> missing;
  std::unordered_map<std::string, const ObjectInfo*> info;
  for (const auto& o : objects) {
    if (cache && o.size <= max_bytes) {
      if (auto bytes = cache->get(o)) {
        out.emplace(o.key, std::move(*bytes));
        continue;
      }
      info.emplace(o.key, &o);
    }
    missing.push_back(o.key);
  }
  for (auto& [key, bytes] : prefetch(store, missing, max_bytes)) {
    if (auto it = info.find(key); cache && it != info.end()) cache->put(*it->second, bytes);
    out.emplace(key, std::move(bytes));
  }
  return out;
}

}  // namespace ckpt::storage
