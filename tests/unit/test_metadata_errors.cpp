// Bad input gets one line naming the file, the byte offset, what was being read and what was
// expected -- never a crash, a hang or an allocation sized by an unchecked field. The inputs are
// mutated copies of real fixtures, made here at run time.
#include <doctest/doctest.h>

#include <random>

#include "fixtures.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/file_bytes.h"

using namespace ckpt;

namespace {

// The worked example of spec §20 (985 bytes, V4, heap backend).
std::string worked_example() {
  return io::read_file_bytes(fixtures::root() /
                             "type-serializer-snapshot-migration-itcase-flink1.16-hashmap-checkpoint/_metadata");
}

std::string error_of(const std::string& bytes) {
  try {
    flink::parse_metadata(bytes, "m/_metadata");
  } catch (const flink::MetadataError& e) {
    return e.what();
  }
  return "";
}

void put_i32(std::string& b, std::size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>(v >> (24 - 8 * k));
}

bool contains(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

}  // namespace

TEST_SUITE("fixtures") {
  TEST_CASE("specific corruptions name the offset, the structure and the expectation") {
    const std::string good = worked_example();
    REQUIRE(good.size() == 985);

    SUBCASE("bad magic") {
      std::string b = good;
      b[0] = 0x12;
      std::string e = error_of(b);
      CHECK(contains(e, "m/_metadata: byte 0:"));
      CHECK(contains(e, "expected 0x4960672D"));
    }
    SUBCASE("unknown version") {
      std::string b = good;
      put_i32(b, 4, 99);
      std::string e = error_of(b);
      CHECK(contains(e, "byte 4:"));
      CHECK(contains(e, "format version 99 is unknown, expected 1..7"));
    }
    SUBCASE("truncated") {
      std::string e = error_of(good.substr(0, 0x90));
      CHECK(contains(e, "truncated"));
      CHECK(contains(e, "operator #0 (20ba6b65f97481d5570070de90e4e791) subtask 0"));
    }
    SUBCASE("unknown keyed tag") {
      std::string b = good;
      b[0x41] = 42;
      std::string e = error_of(b);
      CHECK(contains(e, "byte 65:"));
      CHECK(contains(e, "managed keyed state"));
      CHECK(contains(e, "keyed handle tag 42 is unknown"));
    }
    SUBCASE("count larger than the bytes left") {
      std::string b = good;
      put_i32(b, 0x14, 0x10000000);  // operator count
      std::string e = error_of(b);
      CHECK(contains(e, "byte 20:"));
      CHECK(contains(e, "operator count is 268435456 but only"));
    }
    SUBCASE("key-group count larger than the bytes left") {
      std::string b = good;
      put_i32(b, 0x46, 0x7FFFFFFF);
      std::string e = error_of(b);
      CHECK(contains(e, "key-group offsets"));
    }
    SUBCASE("negative length") {
      std::string b = good;
      put_i32(b, 0x14, 0xFFFFFFFF);
      CHECK(contains(error_of(b), "operator count is -1, expected >= 0"));
    }
    SUBCASE("invalid modified UTF-8") {
      std::string b = good;
      b[0x55] = static_cast<char>(0xF0);  // 4-byte lead inside the relative path
      std::string e = error_of(b);
      CHECK(contains(e, "byte 85:"));
      CHECK(contains(e, "not valid modified UTF-8"));
    }
    // Flink ignores bytes after the last structure it reads, so they are no error (they were,
    // until ckpt stopped being stricter than Flink): kept in Metadata::trailing, see
    // test_metadata_roundtrip.cpp; `validate` warns (S12).
    SUBCASE("bytes after the properties trailer are accepted and kept") {
      CHECK(error_of(good + "x") == "");
      flink::Metadata md = flink::parse_metadata(good + "x", "m/_metadata");
      CHECK(md.trailing == "x");
      CHECK(md.trailer.size() == 985 - 381);  // the 604-byte checkpoint trailer, nothing more
    }
    SUBCASE("bytes after the last operator of a V3 file are accepted and kept") {
      std::string b = io::read_file_bytes(fixtures::root() /
                                          "new-stateful-udf-migration-itcase-flink1.15-hashmap-checkpoint/_metadata");
      REQUIRE(flink::peek_metadata_version(b, "x") == 3);
      CHECK(error_of(b + "zz") == "");
      CHECK(flink::parse_metadata(b + "zz", "m/_metadata").trailing == "zz");
    }
    SUBCASE("a truncated properties trailer is still an error") {
      std::string e = error_of(good.substr(0, good.size() - 1));
      CHECK(contains(e, "checkpoint properties trailer"));
    }
  }

  TEST_CASE("random truncations and bit flips of every fixture fail cleanly or parse") {
    std::mt19937_64 rng(20261123);
    int rejected = 0, accepted = 0;
    for (const auto& f : fixtures::all_metadata()) {
      const std::string good = io::read_file_bytes(f);
      for (int trial = 0; trial < 12; ++trial) {
        std::string b = good;
        if (trial % 2 == 0) {
          b.resize(rng() % good.size());
        } else {
          std::size_t at = rng() % b.size();
          b[at] = static_cast<char>(b[at] ^ (1u << (rng() % 8)));
        }
        try {
          flink::Metadata md = flink::parse_metadata(b, "mutant");
          // A mutant that still parses must still round-trip.
          CHECK(flink::write_metadata(md) == b);
          ++accepted;
        } catch (const flink::MetadataError& e) {
          std::string msg = e.what();
          CHECK(msg.rfind("mutant: byte ", 0) == 0);
          CHECK(msg.find('\n') == std::string::npos);
          ++rejected;
        }
      }
    }
    MESSAGE(rejected << " mutants rejected, " << accepted << " still valid");
    CHECK(rejected > 0);
  }
}
