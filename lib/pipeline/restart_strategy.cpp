#include "pipeline/restart_strategy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace ckpt::pipeline {

RestartStrategy::RestartStrategy(const RestartStrategyConfig& config, bool checkpointing, uint64_t seed)
    : config_(config), rng_(seed) {
  if (config_.kind == Kind::kDefault) {
    defaulted_ = true;
    RestartStrategyConfig defaults;
    defaults.kind = checkpointing ? Kind::kExponentialDelay : Kind::kNone;
    config_ = defaults;
  }
}

std::optional<int64_t> RestartStrategy::on_failure(int64_t now_ms) {
  const RestartStrategyConfig& c = config_;
  switch (c.kind) {
    case Kind::kDefault:
    case Kind::kNone:
      return std::nullopt;
    case Kind::kFixedDelay:
      ++restarts_;
      if (restarts_ > c.fixed_attempts) return std::nullopt;
      return c.fixed_delay_ms;
    case Kind::kFailureRate: {
      const auto capacity = static_cast<std::size_t>(c.max_failures_per_interval);
      if (failures_.size() >= capacity) failures_.pop_front();
      failures_.push_back(now_ms);
      if (failures_.size() >= capacity && now_ms - failures_.front() <= c.failure_rate_interval_ms) {
        return std::nullopt;
      }
      return c.failure_rate_delay_ms;
    }
    case Kind::kExponentialDelay: {
      if (next_restart_ && now_ms - *next_restart_ >= c.reset_backoff_threshold_ms) restarts_ = 0;
      const double backoff = static_cast<double>(c.initial_backoff_ms) * std::pow(c.backoff_multiplier, restarts_);
      const auto current = static_cast<int64_t>(std::min(backoff, static_cast<double>(INT64_MAX / 2)));
      int64_t jitter = 0;
      if (c.jitter_factor > 0) {
        const auto offset = static_cast<int64_t>(static_cast<double>(current) * c.jitter_factor);
        jitter = std::uniform_int_distribution<int64_t>(-offset, offset)(rng_);
      }
      const int64_t delay = std::max(c.initial_backoff_ms, std::min(current + jitter, c.max_backoff_ms));
      next_restart_ = now_ms + delay;
      ++restarts_;
      if (restarts_ > c.attempts_before_reset) return std::nullopt;
      return delay;
    }
  }
  return std::nullopt;
}

std::string RestartStrategy::describe() const {
  const RestartStrategyConfig& c = config_;
  std::string what;
  switch (c.kind) {
    case Kind::kDefault:
    case Kind::kNone:
      what = "none";
      break;
    case Kind::kFixedDelay:
      what = fmt::format("fixed-delay ({} attempts, {} ms apart)", c.fixed_attempts, c.fixed_delay_ms);
      break;
    case Kind::kFailureRate:
      what = fmt::format("failure-rate (at most {} failures in {} ms, {} ms before a restart)",
                         c.max_failures_per_interval, c.failure_rate_interval_ms, c.failure_rate_delay_ms);
      break;
    case Kind::kExponentialDelay:
      what = fmt::format("exponential-delay ({} ms to {} ms, x{}, jitter {})", c.initial_backoff_ms, c.max_backoff_ms,
                         c.backoff_multiplier, c.jitter_factor);
      break;
  }
  if (defaulted_) what += c.kind == Kind::kNone ? " (default without checkpointing)" : " (default with checkpointing)";
  return what;
}

std::optional<RestartStrategyConfig::Kind> restart_strategy_kind(std::string_view name) {
  std::string l(name);
  for (char& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  using Kind = RestartStrategyConfig::Kind;
  if (l == "none" || l == "off" || l == "disable") return Kind::kNone;
  if (l == "fixed-delay" || l == "fixeddelay") return Kind::kFixedDelay;
  if (l == "failure-rate" || l == "failurerate") return Kind::kFailureRate;
  if (l == "exponential-delay" || l == "exponentialdelay") return Kind::kExponentialDelay;
  return std::nullopt;
}

}  // namespace ckpt::pipeline
