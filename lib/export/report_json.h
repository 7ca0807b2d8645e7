// JSON of the reports of formats/report.proto (`ckpt inspect --json`): ops::inspect builds the
// messages; this adds the complete metadata and prints them with the proto3 JSON mapping
// (formats/json-mapping.md).
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "flink/metadata_reader.h"
#include "flink/model.h"
#include "ops/inspect.h"

namespace ckpt::report_json {

// One snapshot: summary, optional subtasks and files, and the complete metadata (strings that
// UTF-8 cannot carry exactly are shown with U+FFFD; `ckpt convert --to json` is the lossless
// export). Fills `result.report->snapshot`.
void write_inspect_report(const flink::Metadata& md, ops::InspectResult& result, bool pretty, std::FILE* out);

// The same from a stream (rewound first): one operator's model and message exist at a time.
void write_inspect_report(flink::OperatorStream& operators, ops::InspectResult& result, bool pretty, std::FILE* out);

// Many snapshots (already sorted newest first), the unreadable ones as (path, error), and
// incomplete checkpoint directories.
void write_snapshot_list(const std::vector<const ops::InspectResult*>& snapshots,
                         const std::vector<std::pair<std::string, std::string>>& unreadable,
                         const std::vector<std::string>& incomplete, bool pretty, std::FILE* out);

}  // namespace ckpt::report_json
