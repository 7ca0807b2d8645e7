// The restart strategies of the bundled job, as Flink's RestartBackoffTimeStrategy
// implementations decide them: after a failure, whether the job restarts and after what delay.
//
// Contract (Flink 1.19+/2.x, RestartStrategyOptions and RestartBackoffTimeStrategyFactoryLoader):
//  * Not configured: exponential-delay with its defaults when periodic checkpoints are on, else
//    none (the job fails at its first failure).
//  * none: never restarts.
//  * fixed-delay: at most `fixed_attempts` restarts (default 1), each after `fixed_delay_ms`
//    (default 1 s).
//  * failure-rate: restarts after `failure_rate_delay_ms` (default 1 s) unless
//    `max_failures_per_interval` failures (default 1) happened within the last
//    `failure_rate_interval_ms` (default 1 min) — Flink's queue of failure times: the queue is
//    full and its oldest entry is not older than the interval.
//  * exponential-delay: the n-th restart since the last reset waits
//    initial * multiplier^n (defaults: 1 s, 1.5), plus a jitter in [-j, +j] * that backoff
//    (default j = 0.1), bounded by [initial, max] (max default 1 min); a failure more than
//    `reset_backoff_threshold_ms` (default 1 h) after the previously planned restart resets n
//    to 0; after `attempts_before_reset` restarts (default unlimited) without a reset the job
//    fails.
//  * Times are milliseconds of a clock the caller passes (tests pass their own).
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <random>
#include <string>

namespace ckpt::pipeline {

struct RestartStrategyConfig {
  enum class Kind { kDefault, kNone, kFixedDelay, kFailureRate, kExponentialDelay };
  Kind kind = Kind::kDefault;  // kDefault: restart-strategy.type not set
  // fixed-delay
  int fixed_attempts = 1;
  int64_t fixed_delay_ms = 1000;
  // failure-rate
  int max_failures_per_interval = 1;
  int64_t failure_rate_interval_ms = 60'000;
  int64_t failure_rate_delay_ms = 1000;
  // exponential-delay
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 60'000;
  double backoff_multiplier = 1.5;
  int64_t reset_backoff_threshold_ms = 3'600'000;
  double jitter_factor = 0.1;
  int attempts_before_reset = std::numeric_limits<int>::max();
};

class RestartStrategy {
 public:
  using Kind = RestartStrategyConfig::Kind;

  // `checkpointing`: periodic checkpoints are on (chooses the default strategy). `seed` seeds
  // the jitter of exponential-delay.
  RestartStrategy(const RestartStrategyConfig& config, bool checkpointing, uint64_t seed = std::random_device{}());

  // A failure at `now_ms`: the delay until the restart, or nullopt when the job must fail.
  std::optional<int64_t> on_failure(int64_t now_ms);

  Kind kind() const { return config_.kind; }
  // "exponential-delay (Flink's default with checkpointing)", "fixed-delay (3 attempts, 10 ms)", ...
  std::string describe() const;

 private:
  RestartStrategyConfig config_;
  bool defaulted_ = false;
  int restarts_ = 0;                     // fixed-delay: restarts so far; exponential-delay: since the last reset
  std::deque<int64_t> failures_;         // failure-rate: times of the latest failures
  std::optional<int64_t> next_restart_;  // exponential-delay: when the last restart was planned
  std::mt19937_64 rng_;
};

// Flink's names of a restart-strategy.type value (none/off/disable, fixed-delay/fixeddelay,
// failure-rate/failurerate, exponential-delay/exponentialdelay; case-insensitive).
std::optional<RestartStrategyConfig::Kind> restart_strategy_kind(std::string_view name);

}  // namespace ckpt::pipeline
