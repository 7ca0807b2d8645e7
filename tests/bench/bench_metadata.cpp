// Benchmark of the `_metadata` reader (issue "foundation", item 9). Files are read into memory
// first; only parsing is timed, in one process.
//   (a) every _metadata under the fixtures, all parsed once per round
//   (b) the largest fixture, parsed 1,000 times
//   (c) a synthetic 50 operators x 200 subtasks incremental RocksDB snapshot made by the writer
// Usage: bench_metadata FIXTURES_DIR OUT_DIR
//        bench_metadata --parse-once FILE   (peak-memory probe: parse once, print max RSS)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/file_bytes.h"
#include "support/synthetic.h"

using namespace ckpt;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

long max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Best of `rounds` timings of fn().
template <typename Fn>
double best_of(int rounds, Fn&& fn) {
  double best = 1e100;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = Clock::now();
    fn();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

volatile std::size_t sink;

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--parse-once") {
    std::string bytes = io::read_file_bytes(argv[2]);
    std::size_t size = bytes.size();
    long before = max_rss_kib();
    flink::Metadata md = flink::parse_metadata(std::move(bytes), argv[2]);
    sink = md.operators.size();
    std::printf("parse-once: file %.1f MB, max RSS %.1f MB (%.1f MB before parsing), ratio %.2fx file size\n",
                size / 1e6, max_rss_kib() / 1024.0, before / 1024.0, max_rss_kib() * 1024.0 / size);
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_metadata FIXTURES_DIR OUT_DIR | --parse-once FILE\n");
    return 2;
  }
  std::filesystem::path fixtures = argv[1], out = argv[2];
  std::filesystem::create_directories(out);

  // (a)
  // Shared buffers: parse_metadata keeps a reference instead of copying, so only parsing is timed.
  std::vector<std::shared_ptr<const std::string>> files;
  std::size_t total = 0, largest = 0;
  std::string largest_path;
  for (const auto& e : std::filesystem::recursive_directory_iterator(fixtures)) {
    if (!e.is_regular_file() || e.path().filename() != "_metadata") continue;
    files.push_back(std::make_shared<const std::string>(io::read_file_bytes(e.path())));
    total += files.back()->size();
    if (files.back()->size() > largest) {
      largest = files.back()->size();
      largest_path = e.path().string();
    }
  }
  int parsed = 0;
  double ta = best_of(20, [&] {
    parsed = 0;
    for (const auto& f : files) {
      try {
        sink = flink::parse_metadata(f, "x").operators.size();
        ++parsed;
      } catch (const flink::MetadataError&) {
      }
    }
  });
  // The baseline measured here: reading the same files from the page cache (what `cat` does).
  // A peer parser is not run here; its last side-by-side figure is in tests/bench/README.md.
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::recursive_directory_iterator(fixtures)) {
    if (e.is_regular_file() && e.path().filename() == "_metadata") paths.push_back(e.path().string());
  }
  double tr = best_of(20, [&] {
    for (const auto& p : paths) sink = io::read_file_bytes(p).size();
  });
  std::printf(
      "(a) all fixtures: %d of %zu files parsed, %.1f MB, %.2f ms per round, %.0f MB/s; "
      "reading the same files (page cache): %.2f ms; parse / read = %.2fx\n",
      parsed, files.size(), total / 1e6, ta * 1e3, total / ta / 1e6, tr * 1e3, ta / tr);

  // (b)
  auto big = std::make_shared<const std::string>(io::read_file_bytes(largest_path));
  double tb = best_of(3, [&] {
    for (int i = 0; i < 1000; ++i) sink = flink::parse_metadata(big, "x").operators.size();
  });
  // The physical limit measured here: copying the same bytes once per parse (memcpy).
  std::string copy(big->size(), '\0');
  double tcopy = best_of(3, [&] {
    for (int i = 0; i < 1000; ++i) {
      std::copy(big->begin(), big->end(), copy.begin());
      sink = static_cast<unsigned char>(copy[static_cast<size_t>(i) % copy.size()]);
    }
  });
  std::printf(
      "(b) largest fixture (%s, %.0f KB) x1000: %.1f ms, %.2f GB/s; copying the same bytes x1000: %.1f ms "
      "(%.2f GB/s); parse / copy = %.1fx\n",
      std::filesystem::path(largest_path).parent_path().filename().c_str(), big->size() / 1e3, tb * 1e3,
      big->size() * 1000.0 / tb / 1e9, tcopy * 1e3, big->size() * 1000.0 / tcopy / 1e9, tb / tcopy);

  // (c)
  flink::Metadata syn = testsupport::synthetic_incremental(50, 200, 20, 3);
  auto syn_shared = std::make_shared<const std::string>(flink::write_metadata(syn));
  const std::string& syn_bytes = *syn_shared;
  std::filesystem::path syn_dir = out / "synthetic-50x200" / "chk-1000";
  std::filesystem::create_directories(syn_dir);
  std::ofstream(syn_dir / "_metadata", std::ios::binary)
      .write(syn_bytes.data(), static_cast<std::streamsize>(syn_bytes.size()));
  double tc = best_of(5, [&] { sink = flink::parse_metadata(syn_shared, "x").operators.size(); });
  bool same = flink::write_metadata(flink::parse_metadata(syn_bytes, "x")) == syn_bytes;
  std::printf("(c) synthetic 50x200 incremental (%.1f MB): %.1f ms, %.2f GB/s (target >= 1 GB/s), round trip %s\n",
              syn_bytes.size() / 1e6, tc * 1e3, syn_bytes.size() / tc / 1e9, same ? "identical" : "DIFFERENT");
  std::printf("    written to %s\n", (syn_dir / "_metadata").c_str());
  return 0;
}
