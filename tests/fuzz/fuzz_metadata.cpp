// libFuzzer target over the `_metadata` reader and everything that consumes a parsed model
// without touching the file system: any input must either parse (and then write back to the
// identical bytes, inspect, and pass through validate's metadata and mapping rules) or fail with
// a MetadataError -- never crash, hang or over-allocate.
//
// CKPT_FUZZ_SKIP=inspect (comma-separated stage names: roundtrip, inspect, validate) skips a
// stage, so that a known open bug in one consumer does not stop the fuzzing of the others.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "ops/inspect.h"
#include "snapshot/file_refs.h"
#include "validate/expect.h"
#include "validate/metadata_rules.h"

namespace {

bool skip_roundtrip = false, skip_inspect = false, skip_validate = false;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* s = std::getenv("CKPT_FUZZ_SKIP")) {
    std::string_view v(s);
    skip_roundtrip = v.find("roundtrip") != std::string_view::npos;
    skip_inspect = v.find("inspect") != std::string_view::npos;
    skip_validate = v.find("validate") != std::string_view::npos;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    ckpt::flink::Metadata md = ckpt::flink::parse_metadata(bytes, "fuzz");
    if (!skip_roundtrip && ckpt::flink::write_metadata(md) != bytes) std::abort();  // round trip is part of the contract
    ckpt::snapshot::Location loc;
    loc.metadata = "fuzz/_metadata";
    loc.directory = "fuzz";
    if (!skip_inspect) {
      ckpt::ops::InspectOptions all;
      all.subtasks = all.files = true;
      (void)ckpt::ops::inspect(md, loc, all);
    }
    if (!skip_validate) {
      ckpt::validate::Findings out;
      ckpt::validate::check_metadata(md, loc, out);
      (void)ckpt::snapshot::file_refs(md, loc.directory);
      ckpt::validate::check_expectation(md, ckpt::validate::expectation_from(md, "self"), out);
    }
  } catch (const ckpt::flink::MetadataError& e) {
    (void)ckpt::validate::structural_rule_of(e.what());
  }
  return 0;
}
