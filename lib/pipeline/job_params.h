// The parameters of the bundled job (`ckpt run` flags): what the source reads, window size, where
// the sink writes. They travel with every snapshot as a master state ("ckpt-pipeline-job",
// version 1, payload "key=value" lines), so that `ckpt restore` resumes the same job without
// repeating them — Flink users resubmit the same jar and arguments; ckpt remembers them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ckpt::pipeline {

struct JobParams {
  // Source: a directory of .txt / .jsonl files, or the generator when `generate` > 0.
  std::string input_dir;
  int64_t generate = 0;  // records of the generator
  uint64_t seed = 1;
  int32_t generator_splits = 8;  // like Kafka partitions: fixed, redistributed on rescale
  int64_t vocabulary = 10000;    // distinct words
  double zipf_exponent = 1.0;
  int64_t events_per_second = 1000;  // generator event-time rate
  int64_t max_disorder_ms = 100;     // generator: how far a timestamp may run behind
  int64_t rate_limit = 0;            // records/s per source subtask (0: unlimited)

  // Event time and windows.
  int64_t out_of_orderness_ms = 200;  // bounded out-of-orderness of the watermarks
  int64_t window_ms = 10000;
  int64_t allowed_lateness_ms = 0;

  // Sink.
  std::string output_dir;
};

inline constexpr std::string_view kJobMasterStateName = "ckpt-pipeline-job";

std::string encode_job_params(const JobParams& p);
// Throws util::Error (kInput) naming the bad line.
JobParams decode_job_params(std::string_view payload);

}  // namespace ckpt::pipeline
