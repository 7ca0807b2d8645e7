// Channel state of unaligned checkpoints in Flink's channel-state file format (spec §8.1): one
// file per subtask, `i32 version (0)` then entries `i32 length, bytes[length]`; each channel's
// handle lists the offsets of its entries. An entry is one buffer of records
// (serialize_buffer()). Below the inline threshold every channel gets its own inline chunk
// (version + its entries, first offset 4), as Flink re-cuts inline channel state.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/events.h"
#include "pipeline/snapshot_result.h"

namespace ckpt::pipeline {

struct CapturedChannel {
  bool input = true;
  int32_t a = 0;
  int32_t b = 0;
  std::vector<Record> records;
};

// Persists the non-empty channels; returns one result per persisted channel.
std::vector<ChannelResult> persist_channel_state(const SnapshotLocation& loc,
                                                 const std::vector<CapturedChannel>& channels, std::string_view what);

// The records of one channel handle, given its delegate's bytes and its offsets.
void read_channel_state(std::string_view file, const flink::I64Array& offsets, int32_t max_parallelism,
                        std::vector<Record>& out);

}  // namespace ckpt::pipeline
