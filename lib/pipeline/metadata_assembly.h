// Turning the acknowledgements of one checkpoint into Flink's `_metadata` (V4, as Flink 1.20
// writes it), built with flink::Builder and written with the foundation writer.
//
// Handles: keyed state tag 12 (KeyGroupsStateHandle with a handle id) for checkpoints, tag 7
// for canonical savepoints, delegate tag 6 (file in the snapshot directory) or tag 1 (inline);
// operator list state tag 4 with per-element offsets; channel state as V4 untyped input-channel /
// result-subpartition handles with the subtask index; the source's enumerator state as inline
// coordinator state named by the operator id; the job parameters as a master state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flink/model.h"
#include "pipeline/snapshot_result.h"

namespace ckpt::pipeline {

struct OperatorLayout {
  std::string uid;
  std::string name;  // readable, as Flink's web UI shows it (versions 5 and 6 store it)
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;
  std::string coordinator_state;  // empty: none
};

struct AssemblyInput {
  int32_t version = 6;  // the `_metadata` format version: 4, 5 or 6
  int64_t checkpoint_id = 0;
  bool savepoint = false;
  flink::CheckpointProperties properties;
  std::vector<OperatorLayout> operators;
  std::vector<TaskAck> acks;
  std::string job_params;  // master state payload
};

flink::Metadata assemble_metadata(const AssemblyInput& in);

}  // namespace ckpt::pipeline
