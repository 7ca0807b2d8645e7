// JSON of the write plans and results of `ckpt convert --self-contained`, `ckpt pack` and
// `ckpt unpack` (formats/convert.proto, WriteReport).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "ops/convert.h"
#include "ops/pack.h"

namespace ckpt::write_report_json {

struct Outcome {
  bool dry_run = true;
  ops::WriteStats written;     // convert
  uint64_t archive_bytes = 0;  // pack
};

void write_plan_report(const std::string& command, const std::string& input, const std::string& output,
                       const ops::SelfContainedPlan& plan, const Outcome& outcome, bool pretty, std::FILE* out);

void write_unpack_report(const std::string& input, const std::string& output, const ops::UnpackStats& st, bool dry_run,
                         bool pretty, std::FILE* out);

}  // namespace ckpt::write_report_json
