// Wall-clock helpers of the benchmarks: a monotonic clock and timed shell baselines.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace ckpt::testsupport {

// Seconds on a monotonic clock.
inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs a shell command (a baseline such as cat or cp), returns its wall time in seconds; exits the
// benchmark with status 2 when the command fails.
inline double timed_shell(const std::string& cmd) {
  double t0 = now_seconds();
  if (std::system(cmd.c_str()) != 0) {
    fmt::print(stderr, "baseline failed: {}\n", cmd);
    std::exit(2);
  }
  return now_seconds() - t0;
}

}  // namespace ckpt::testsupport
