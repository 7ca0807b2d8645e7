// The --json documents of `ckpt prune` and `ckpt gc` (formats/prune.proto): the plan, what an
// apply did, and `--explain FILE`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "ops/deletion_plan.h"
#include "ops/plan_executor.h"
#include "prune.pb.h"

namespace ckpt::prune_json {

// The plan document (a ckpt.PrunePlan) to `out`; `outcome` is null for --dry-run. The deletions
// are printed as they are converted (json::write_json with an ElementSource): a plan may list
// millions, and the whole message would hold each one twice more. Throws json::JsonError when
// writing fails.
void write_plan_json(const ops::PlanRun& run, const std::string& command, const ops::PlanOptions& options,
                     const ops::ApplyResult* outcome, bool pretty, std::FILE* out);

ckpt::FileExplanation explanation_message(const ops::PlanRun& run, const ops::Explanation& e);

// "checkpoint", "savepoint" or "other".
std::string kind_of(const snapshot::GraphSnapshot& s);

// Bytes a plan frees per pruned snapshot (its `_metadata`, its files, the pool files released
// only by it), indexed like run.graph.snapshots.
std::vector<int64_t> bytes_by_snapshot(const ops::PlanRun& run);

}  // namespace ckpt::prune_json
