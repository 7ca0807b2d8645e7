#include "snapshot_on_disk.h"

#include <fstream>
#include <map>
#include <stdexcept>

#include "flink/metadata_writer.h"
#include "io/atomic_file.h"
#include "snapshot/file_refs.h"

namespace fs = std::filesystem;

namespace ckpt::testsupport {

std::string filler_bytes(uint64_t n, uint64_t seed) {
  static const std::string text = "user-event clicks page=/checkout region=eu-west-1 amount=42.50 currency=EUR ";
  std::string out;
  out.resize(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (uint64_t i = 0; i < n; i += 8) {
    bool random_half = (i / 2048) % 2 == 0;
    for (uint64_t k = 0; k < 8 && i + k < n; ++k) {
      if (random_half) {
        if (k == 0) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
        }
        out[i + k] = static_cast<char>((x >> (8 * k)) & 0xFF);
      } else {
        out[i + k] = text[(i + k) % text.size()];
      }
    }
  }
  return out;
}

uint64_t write_snapshot_on_disk(const flink::Metadata& md, const fs::path& snapshot_dir) {
  fs::create_directories(snapshot_dir);
  std::map<fs::path, uint64_t> need;
  for (const auto& f : snapshot::file_refs(md, snapshot_dir)) {
    if (f.resolved.kind != snapshot::ResolvedPath::Kind::kLocal) continue;
    uint64_t end = static_cast<uint64_t>(std::max<int64_t>(f.size, 0) + f.segment_start);
    auto& n = need[f.resolved.local];
    n = std::max(n, end);
  }
  uint64_t total = 0, seed = 1;
  for (const auto& [p, n] : need) {
    fs::create_directories(p.parent_path());
    std::ofstream o(p, std::ios::binary | std::ios::trunc);
    const uint64_t chunk = 8u << 20;
    for (uint64_t done = 0; done < n; done += chunk) {
      std::string b = filler_bytes(std::min(chunk, n - done), seed++);
      o.write(b.data(), static_cast<std::streamsize>(b.size()));
    }
    if (!o) throw std::runtime_error(p.string() + ": cannot write");
    total += n;
  }
  io::write_file_atomically(snapshot_dir / "_metadata", flink::write_metadata(md));
  return total;
}

}  // namespace ckpt::testsupport
