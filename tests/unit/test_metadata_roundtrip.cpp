// The reader's strongest test: every real `_metadata` decodes, consumes every byte, and
// re-encodes to the identical bytes.
#include <doctest/doctest.h>

#include <map>

#include "fixtures.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/file_bytes.h"

using namespace ckpt;

TEST_SUITE("fixtures") {
  TEST_CASE("every fixture _metadata round-trips byte for byte") {
    auto files = fixtures::all_metadata();
    REQUIRE(files.size() > 250);
    std::map<int32_t, int> per_version;
    int round_tripped = 0;
    for (const auto& f : files) {
      CAPTURE(f.string());
      std::string bytes = io::read_file_bytes(f);
      flink::Metadata md;
      REQUIRE_NOTHROW(md = flink::parse_metadata(bytes, f.string()));
      ++per_version[md.version];
      std::string again;
      REQUIRE_NOTHROW(again = flink::write_metadata(md));
      CHECK(again.size() == bytes.size());
      CHECK(again == bytes);
      if (again == bytes) ++round_tripped;
    }
    MESSAGE("round-tripped " << round_tripped << " of " << files.size() << " files");
    for (auto [v, n] : per_version) MESSAGE("version " << v << ": " << n << " files");
    // Every version Flink has written since 1.2 is represented among the fixtures.
    for (int v = 1; v <= 6; ++v) CHECK(per_version[v] > 0);
  }

  TEST_CASE("every fixture with 8 bytes appended reads, keeps them and writes back byte for byte") {
    // Flink ignores bytes after the last structure it reads (V1-V3: the last operator; V4+: the
    // properties object), so ckpt must read such a file, and a rewrite must keep them.
    std::vector<std::filesystem::path> files = fixtures::all_metadata();
    REQUIRE(files.size() > 250);
    for (const auto& e : std::filesystem::directory_iterator(fixtures::root())) {  // version 1 files
      std::string name = e.path().filename().string();
      if (name.find("flink1.2-") == std::string::npos || name.find("single-file") == std::string::npos) continue;
      for (const auto& f : std::filesystem::directory_iterator(e.path())) files.push_back(f.path());
    }
    const std::string extra("\xDE\xAD\xBE\xEF\x00\x00\x00\x08", 8);
    std::map<int32_t, int> per_version;
    for (const auto& f : files) {
      CAPTURE(f.string());
      std::string bytes = io::read_file_bytes(f);
      flink::Metadata plain;
      REQUIRE_NOTHROW(plain = flink::parse_metadata(bytes, f.string()));
      flink::Metadata md;
      REQUIRE_NOTHROW(md = flink::parse_metadata(bytes + extra, f.string()));
      CHECK(md.trailing == extra);
      CHECK(md.trailer == plain.trailer);
      CHECK(md.trailer_state == plain.trailer_state);
      CHECK(md.operators.size() == plain.operators.size());
      CHECK(flink::write_metadata(md) == bytes + extra);
      ++per_version[md.version];
    }
    for (int v = 1; v <= 6; ++v) CHECK(per_version[v] > 0);
  }

  TEST_CASE("version 0 single-file savepoints are recognised and refused") {
    auto dir = fixtures::root() / "stateful-udf-migration-itcase-flink1.1-savepoint-single-file";
    REQUIRE(std::filesystem::is_directory(dir));
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      try {
        flink::read_metadata_file(e.path());
        FAIL("version 0 was accepted");
      } catch (const flink::MetadataError& err) {
        std::string msg = err.what();
        CHECK(msg.find("byte 4") != std::string::npos);
        CHECK(msg.find("Flink 1.1") != std::string::npos);
      }
    }
  }

  TEST_CASE("version 1 single-file savepoints of Flink 1.2 decode") {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(fixtures::root())) {
      std::string name = e.path().filename().string();
      if (name.find("flink1.2-") == std::string::npos || name.find("single-file") == std::string::npos) continue;
      for (const auto& f : std::filesystem::directory_iterator(e.path())) {
        CAPTURE(f.path().string());
        std::string bytes = io::read_file_bytes(f.path());
        flink::Metadata md;
        REQUIRE_NOTHROW(md = flink::parse_metadata(bytes, f.path().string()));
        CHECK(md.version == 1);
        CHECK(flink::write_metadata(md) == bytes);
        ++n;
      }
    }
    CHECK(n >= 5);
  }
}
