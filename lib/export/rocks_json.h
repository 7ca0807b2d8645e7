// The --json documents of `ckpt materialize` and `ckpt compact` (formats/compact.proto).
#pragma once

#include <string>

#include "compact.pb.h"
#include "ops/compact.h"
#include "ops/materialize.h"

namespace ckpt::rocks_json {

// `result` is null for --dry-run.
ckpt::MaterializeReport materialize_message(const std::string& input, const std::string& output,
                                            const ops::MaterializePlan& plan, const ops::MaterializeResult* result);

// `result` is null for --dry-run.
ckpt::CompactReport compact_message(const std::string& input, const std::string& output, const ops::CompactPlan& plan,
                                    const ops::CompactResult* result);

}  // namespace ckpt::rocks_json
