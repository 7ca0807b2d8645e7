// JSON of `ckpt diff` (formats/diff.proto): the ops result copied into the proto message and
// printed with the proto3 JSON mapping (formats/json-mapping.md, section "ckpt diff").
#pragma once

#include <cstdio>

#include "ops/diff.h"

namespace ckpt::diff_json {

void write_diff_report(const ops::DiffResult& r, bool pretty, std::FILE* out);

}  // namespace ckpt::diff_json
