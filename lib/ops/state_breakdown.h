// `ckpt inspect --states`: which states each operator holds, their kinds and serializers, and how
// many entries and bytes each holds, summed over subtasks (formats/state.proto's StatesReport).
//
// Heap and canonical payloads are walked record by record (nothing decoded to JSON); operator
// state is counted from its offsets (broadcast maps from their sizes); RocksDB native and
// incremental state is sized from the table properties of each column family's SST files, so no
// RocksDB data block is read.
//
// Contract: a payload or file that cannot be read or parsed becomes one line in `problems`
// (where, byte offset, what was expected) and the rest is still counted; only an unreadable
// snapshot throws.
#pragma once

#include <filesystem>
#include <vector>

#include "flink/model.h"
#include "ops/state_payloads.h"
#include "snapshot/discovery.h"
#include "snapshot/paths.h"
#include "state.pb.h"

namespace ckpt::ops {

ckpt::StatesReport state_breakdown(const flink::Metadata& md, const snapshot::Location& loc,
                                   const std::vector<snapshot::PathMapping>& mappings, const OperatorFilter& filter);

}  // namespace ckpt::ops
