// The corruption suite of `ckpt validate`: for every fixture, random truncations and bit flips of
// its `_metadata` and of the files it references, validated in-process (with --deep when a state
// file was hit). Run under ASan + UBSan by the asan preset; no input may crash, hang or leave a
// finding without a message, and every truncation must be reported as a problem.
//
// CKPT_CORRUPTION_ITERATIONS sets the mutations per fixture (default 3 for CI; the acceptance run
// uses 100). The seed is fixed (CKPT_CORRUPTION_SEED overrides it), so a failure reproduces.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fixtures.h"
#include "io/file_bytes.h"
#include "ops/validate.h"
#include "snapshot/discovery.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_SUITE("fixtures") {
  TEST_CASE("validate: random truncations and bit flips of every fixture never crash or hang") {
    if (!fixtures::available()) {
      MESSAGE("fixtures not found: skipped");
      doctest::skip();
      return;
    }
    const int per_fixture = env_int("CKPT_CORRUPTION_ITERATIONS", 3);
    std::mt19937_64 rng(static_cast<uint64_t>(env_int("CKPT_CORRUPTION_SEED", 20261123)));
    testsupport::TempDir t;
    int runs = 0, truncations = 0, flips = 0, flips_detected = 0, fixtures_done = 0;
    double slowest = 0;
    for (const auto& md_path : fixtures::all_metadata()) {
      // A private copy: mutations are made in place and undone.
      fs::path dir = t.path() / fmt::format("f{}", fixtures_done++);
      fs::copy(md_path.parent_path(), dir, fs::copy_options::recursive);
      for (const auto& e : fs::recursive_directory_iterator(dir)) {
        fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
      }
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      const snapshot::Location loc = snapshot::locate(dir / "_metadata");
      for (int i = 0; i < per_fixture; ++i) {
        // Half the mutations hit `_metadata`, the rest a random file of the snapshot.
        fs::path target = (i % 2 == 0 || files.size() == 1) ? dir / "_metadata" : files[rng() % files.size()];
        const bool metadata = target.filename() == "_metadata";
        const std::string original = io::read_file_bytes(target);
        if (original.empty()) continue;
        std::string bytes = original;
        const bool truncate = rng() % 2 == 0;
        if (truncate) {
          bytes.resize(rng() % bytes.size());
        } else {
          int n = 1 + static_cast<int>(rng() % 4);
          for (int k = 0; k < n; ++k) bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
        }
        write_bytes(target, bytes);
        ops::ValidateOptions o;
        o.files.deep = !metadata;
        o.files.threads = 1;
        auto t0 = std::chrono::steady_clock::now();
        ops::SnapshotValidation v = ops::validate_snapshot(loc, o);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        slowest = std::max(slowest, secs);
        write_bytes(target, original);
        ++runs;
        CAPTURE(target);
        CAPTURE(truncate);
        CHECK(v.status != ops::SnapshotValidation::Status::kUnreadable);
        for (const auto& f : v.findings) CHECK(!f.message.empty());
        if (truncate) {
          ++truncations;
          // Shorter `_metadata` never parses; a shorter state file never has its recorded size.
          // (Files nothing references, e.g. leftovers, only get F26 either way.)
          bool referenced = metadata;
          for (const auto& f : v.findings) referenced |= f.file == target.string() && f.rule != "F26";
          if (referenced || metadata) CHECK(v.status == ops::SnapshotValidation::Status::kInvalid);
        } else {
          ++flips;
          flips_detected += v.status != ops::SnapshotValidation::Status::kValid;
        }
        CHECK(secs < 30);
      }
    }
    MESSAGE(
        fmt::format("{} fixtures, {} validations: {} truncations (all reported), {} bit flips ({} detected; "
                    "flips inside inline payloads or uncompressed state bytes are undetectable), slowest {:.2f}s",
                    fixtures_done, runs, truncations, flips, flips_detected, slowest));
    CHECK(runs > 0);
  }
}
