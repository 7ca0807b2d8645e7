// What flows through the pipeline's channels: batches of records, checkpoint barriers,
// watermarks, and the end-of-data marker.
//
// Records move in buffers (vectors) of up to kBufferRecords, never one by one: one lock
// round-trip per buffer is what lets the job reach millions of records per second.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace ckpt::pipeline {

struct SnapshotLocation;

inline constexpr std::size_t kBufferRecords = 1024;
inline constexpr int64_t kMinWatermark = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxWatermark = std::numeric_limits<int64_t>::max();

// One word occurrence: the key, its event time, and its key group (computed once, at the source,
// from Java's String.hashCode as Flink's keyBy does).
struct Record {
  std::string word;
  int64_t timestamp = 0;
  int32_t key_group = 0;
};

enum class SnapshotKind : uint8_t { kCheckpoint, kSavepoint };

// A checkpoint barrier's options (Flink's CheckpointOptions).
struct Barrier {
  int64_t id = 0;
  SnapshotKind kind = SnapshotKind::kCheckpoint;
  bool unaligned = false;  // overtakes records; in-flight records become channel state
  bool suspend = false;    // stop-with-savepoint: sources stop emitting after this barrier
  bool native = false;     // savepoint in the native format (backends snapshot as for checkpoints)
  std::shared_ptr<const SnapshotLocation> location;  // where the snapshot's files go
};

struct Event {
  enum class Kind : uint8_t { kRecords, kBarrier, kWatermark, kEndOfData };
  Kind kind = Kind::kRecords;
  std::vector<Record> records;  // kRecords
  Barrier barrier;              // kBarrier
  int64_t watermark = 0;        // kWatermark

  static Event of_barrier(const Barrier& b) {
    Event e;
    e.kind = Kind::kBarrier;
    e.barrier = b;
    return e;
  }
  static Event of_watermark(int64_t wm) {
    Event e;
    e.kind = Kind::kWatermark;
    e.watermark = wm;
    return e;
  }
  static Event end_of_data() {
    Event e;
    e.kind = Kind::kEndOfData;
    return e;
  }
};

}  // namespace ckpt::pipeline
