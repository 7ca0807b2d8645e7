// Replays every input the fuzzer (tests/fuzz/fuzz_metadata.cpp) ever crashed on, kept in
// tests/fuzz/regressions/: each must go through the same stages as the harness -- parse (or a
// MetadataError), byte-exact write-back, inspect, validate's metadata and mapping rules, the state
// dump -- without
// crashing. Meaningful under the asan preset, where UBSan turns undefined behaviour into failures.
#include <doctest/doctest.h>

#include <filesystem>

#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "io/file_bytes.h"
#include "ops/inspect.h"
#include "ops/state_dump.h"
#include "snapshot/file_refs.h"
#include "validate/expect.h"
#include "validate/metadata_rules.h"

using namespace ckpt;
namespace fs = std::filesystem;

TEST_CASE("fuzz regressions: every kept crash input is handled") {
  // From the build: __FILE__ is relative when a compiler cache rewrites paths.
  const fs::path dir = CKPT_FUZZ_REGRESSIONS_DIR;
  REQUIRE(fs::is_directory(dir));
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() == ".md") continue;
    CAPTURE(e.path());
    ++n;
    std::string bytes = io::read_file_bytes(e.path());
    try {
      flink::Metadata md = flink::parse_metadata(bytes, "regression");
      CHECK(flink::write_metadata(md) == bytes);
      snapshot::Location loc;
      loc.metadata = "regression/_metadata";
      loc.directory = "regression";
      ops::InspectOptions all;
      all.subtasks = all.files = true;
      (void)ops::inspect(md, loc, all);
      validate::Findings out;
      validate::check_metadata(md, loc, out);
      (void)snapshot::file_refs(md, loc.directory);
      validate::check_expectation(md, validate::expectation_from(md, "self"), out);
      try {
        ops::DumpRequest as_fuzzed;
        as_fuzzed.read_rocksdb = false;
        (void)ops::dump_state(md, loc, {}, as_fuzzed, [](std::string_view) {});
      } catch (const util::Error&) {
      }
    } catch (const flink::MetadataError& err) {
      CHECK(!validate::structural_rule_of(err.what()).empty());
    }
  }
  MESSAGE(n << " regression inputs replayed");
}
