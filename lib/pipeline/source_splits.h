// The replayable input of the source: splits (like Kafka partitions) with a position that a
// checkpoint stores and a restore resumes from.
//
//  * File splits: one per file of the input directory (sorted by name; `.txt` and `.jsonl`).
//    Position = byte offset of the next unread line plus that line's number. Text: every
//    whitespace-separated word is a record whose timestamp is the line number (ms). JSONL: one
//    object per line with "word" (string) and optional "ts" (integer ms; default line number).
//    A line is read as a whole, so positions always fall between lines.
//  * Generator splits: `generate` records numbered i = 0..N-1, record i belongs to split
//    i mod S. Each record is a pure function of (seed, i): a Zipf-distributed word and the
//    timestamp floor(i * 1000 / events_per_second) - jitter, jitter uniform in
//    [0, max_disorder_ms]. Position = how many of the split's records were emitted.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/events.h"
#include "pipeline/job_params.h"

namespace ckpt::pipeline {

struct Split {
  std::string id;        // file name relative to the input dir, or "generator-<j>-of-<S>"
  int64_t position = 0;  // byte offset / records emitted
  int64_t line = 0;      // file splits: number of the next line
};

// Serialized as a list-state element (formats/pipeline-state-format.md).
std::string serialize_split(const Split& s);
Split deserialize_split(std::string_view bytes);

// All splits of a fresh job, in a fixed order.
std::vector<Split> initial_splits(const JobParams& p);

// The shared, immutable part of the generator: vocabulary, key groups and the Zipf table.
class Generator {
 public:
  Generator(const JobParams& p, int32_t max_parallelism);
  void record(int64_t i, Record& out) const;
  int64_t total() const { return total_; }

 private:
  uint64_t seed_;
  int64_t total_;
  int64_t events_per_second_;
  int64_t max_disorder_;
  std::vector<std::string> words_;
  std::vector<int32_t> key_groups_;
  std::vector<double> cdf_;  // empty: uniform
};

// Reads one split from its position.
class SplitReader {
 public:
  virtual ~SplitReader() = default;
  // Appends up to `max` records; false once the split is exhausted (nothing appended then).
  virtual bool read(std::vector<Record>& out, std::size_t max) = 0;
  virtual Split position() const = 0;
};

std::unique_ptr<SplitReader> open_split(const Split& s, const JobParams& p, const Generator* gen,
                                        int32_t max_parallelism);

}  // namespace ckpt::pipeline
