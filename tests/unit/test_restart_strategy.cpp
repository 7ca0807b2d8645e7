// pipeline/restart_strategy: Flink's restart strategies — whether and when a failed job restarts
// (the backoff sequences of Flink's *RestartBackoffTimeStrategyTest cases), and the default.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "pipeline/restart_strategy.h"

using namespace ckpt::pipeline;
using Kind = RestartStrategyConfig::Kind;

TEST_CASE("restart strategy: the default is exponential-delay with checkpointing, none without") {
  RestartStrategyConfig c;  // restart-strategy.type not set
  RestartStrategy without(c, false);
  CHECK(without.kind() == Kind::kNone);
  CHECK_FALSE(without.on_failure(0));
  RestartStrategy with(c, true, 7);
  CHECK(with.kind() == Kind::kExponentialDelay);
  // Flink's defaults: 1 s initial backoff with 10% jitter, unlimited attempts.
  for (int i = 0; i < 100; ++i) REQUIRE(with.on_failure(int64_t{i} * 100'000).has_value());
  RestartStrategy first(c, true, 7);
  auto d = first.on_failure(0);
  REQUIRE(d);
  CHECK(*d >= 1000);
  CHECK(*d <= 1100);
}

TEST_CASE("restart strategy: none never restarts") {
  RestartStrategyConfig c;
  c.kind = Kind::kNone;
  RestartStrategy s(c, true);
  CHECK_FALSE(s.on_failure(0));
}

TEST_CASE("restart strategy: fixed-delay restarts `attempts` times after its delay") {
  RestartStrategyConfig c;
  c.kind = Kind::kFixedDelay;
  c.fixed_attempts = 3;
  c.fixed_delay_ms = 10;
  RestartStrategy s(c, false);
  CHECK(s.on_failure(0) == 10);
  CHECK(s.on_failure(1) == 10);
  CHECK(s.on_failure(2) == 10);
  CHECK_FALSE(s.on_failure(3));
  c.fixed_attempts = 0;
  CHECK_FALSE(RestartStrategy(c, true).on_failure(0));
}

TEST_CASE("restart strategy: exponential-delay backoff sequence without jitter") {
  RestartStrategyConfig c;
  c.kind = Kind::kExponentialDelay;
  c.initial_backoff_ms = 1;
  c.max_backoff_ms = 100;  // Flink's testMaxBackoff-like sequence: 1, 2, 4, ..., capped
  c.backoff_multiplier = 2;
  c.jitter_factor = 0;
  c.reset_backoff_threshold_ms = 1'000'000;
  RestartStrategy s(c, true);
  std::vector<int64_t> got;
  int64_t now = 0;
  for (int i = 0; i < 9; ++i) {
    auto d = s.on_failure(now);
    REQUIRE(d);
    got.push_back(*d);
    now += *d + 1;  // fails again just after its restart
  }
  CHECK(got == std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 100, 100});
}

TEST_CASE("restart strategy: exponential-delay's multiplier 1.5 and initial 1 s, as Flink's defaults") {
  RestartStrategyConfig c;
  c.kind = Kind::kExponentialDelay;
  c.jitter_factor = 0;
  RestartStrategy s(c, true);
  std::vector<int64_t> got;
  int64_t now = 0;
  for (int i = 0; i < 12; ++i) {
    got.push_back(*s.on_failure(now));
    now += got.back();
  }
  // 1000 * 1.5^n, truncated, up to max-backoff 60 s.
  CHECK(got == std::vector<int64_t>{1000, 1500, 2250, 3375, 5062, 7593, 11390, 17085, 25628, 38443, 57665, 60000});
}

TEST_CASE("restart strategy: exponential-delay resets after the threshold and stops after its attempts") {
  RestartStrategyConfig c;
  c.kind = Kind::kExponentialDelay;
  c.initial_backoff_ms = 10;
  c.max_backoff_ms = 1000;
  c.backoff_multiplier = 2;
  c.jitter_factor = 0;
  c.reset_backoff_threshold_ms = 500;
  RestartStrategy s(c, true);
  CHECK(s.on_failure(0) == 10);    // planned restart at 10
  CHECK(s.on_failure(20) == 20);   // 20 - 10 < 500: grows
  CHECK(s.on_failure(50) == 40);   // planned at 90
  CHECK(s.on_failure(590) == 10);  // 590 - 90 >= 500: reset to the initial backoff
  c.attempts_before_reset = 2;
  RestartStrategy limited(c, true);
  CHECK(limited.on_failure(0) == 10);
  CHECK(limited.on_failure(20) == 20);
  CHECK_FALSE(limited.on_failure(50));
}

TEST_CASE("restart strategy: exponential-delay's jitter stays within the factor") {
  RestartStrategyConfig c;
  c.kind = Kind::kExponentialDelay;
  c.initial_backoff_ms = 1000;
  c.max_backoff_ms = 1'000'000;
  c.backoff_multiplier = 2;
  c.jitter_factor = 0.25;
  c.reset_backoff_threshold_ms = 1'000'000'000;
  RestartStrategy s(c, true, 42);
  int64_t now = 0;
  int64_t base = 1000;
  for (int i = 0; i < 6; ++i) {
    auto d = s.on_failure(now);
    REQUIRE(d);
    CHECK(*d >= std::max<int64_t>(1000, base - base / 4));
    CHECK(*d <= base + base / 4);
    now += *d;
    base *= 2;
  }
}

TEST_CASE("restart strategy: failure-rate allows max failures per interval") {
  RestartStrategyConfig c;
  c.kind = Kind::kFailureRate;
  c.max_failures_per_interval = 2;
  c.failure_rate_interval_ms = 1000;
  c.failure_rate_delay_ms = 5;
  RestartStrategy s(c, true);
  CHECK(s.on_failure(0) == 5);
  CHECK_FALSE(s.on_failure(500));  // two failures within 1 s
  RestartStrategy t(c, true);
  CHECK(t.on_failure(0) == 5);
  CHECK(t.on_failure(1500) == 5);  // the first one is older than the interval
  CHECK(t.on_failure(3000) == 5);
  CHECK_FALSE(t.on_failure(3100));
}

TEST_CASE("restart strategy: Flink's names of restart-strategy.type") {
  CHECK(restart_strategy_kind("none") == Kind::kNone);
  CHECK(restart_strategy_kind("off") == Kind::kNone);
  CHECK(restart_strategy_kind("disable") == Kind::kNone);
  CHECK(restart_strategy_kind("fixed-delay") == Kind::kFixedDelay);
  CHECK(restart_strategy_kind("FixedDelay") == Kind::kFixedDelay);
  CHECK(restart_strategy_kind("failure-rate") == Kind::kFailureRate);
  CHECK(restart_strategy_kind("failurerate") == Kind::kFailureRate);
  CHECK(restart_strategy_kind("exponential-delay") == Kind::kExponentialDelay);
  CHECK(restart_strategy_kind("exponentialdelay") == Kind::kExponentialDelay);
  CHECK_FALSE(restart_strategy_kind("sometimes"));
}
