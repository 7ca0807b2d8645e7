// util/flink_units: Flink's duration and memory-size syntax (TimeUtils.parseDuration,
// MemorySize.parse), with the examples of Flink's own tests and documentation.
#include <doctest/doctest.h>

#include <cstdint>

#include "util/flink_units.h"

using namespace ckpt::util;

namespace {
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1000 * kMs;
}  // namespace

TEST_CASE("flink units: durations with every unit label of TimeUtils") {
  CHECK(parse_duration_ns("30 min") == 1800 * kS);
  CHECK(parse_duration_ns("30min") == 1800 * kS);
  CHECK(parse_duration_ns("30m") == 1800 * kS);
  CHECK(parse_duration_ns("2 minutes") == 120 * kS);
  CHECK(parse_duration_ns("1 h") == 3600 * kS);
  CHECK(parse_duration_ns("24h") == 24 * 3600 * kS);
  CHECK(parse_duration_ns("2 hours") == 7200 * kS);
  CHECK(parse_duration_ns("7d") == 7 * 86400 * kS);
  CHECK(parse_duration_ns("1 day") == 86400 * kS);
  CHECK(parse_duration_ns("3 days") == 3 * 86400 * kS);
  CHECK(parse_duration_ns("45s") == 45 * kS);
  CHECK(parse_duration_ns("10 sec") == 10 * kS);
  CHECK(parse_duration_ns("10 secs") == 10 * kS);
  CHECK(parse_duration_ns("1 second") == kS);
  CHECK(parse_duration_ns("500ms") == 500 * kMs);
  CHECK(parse_duration_ns("500 milli") == 500 * kMs);
  CHECK(parse_duration_ns("500 millis") == 500 * kMs);
  CHECK(parse_duration_ns("500 milliseconds") == 500 * kMs);
  CHECK(parse_duration_ns("7 \xc2\xb5s") == 7000);
  CHECK(parse_duration_ns("7 micros") == 7000);
  CHECK(parse_duration_ns("7ns") == 7);
  CHECK(parse_duration_ns("7 nanoseconds") == 7);
  // Case-insensitive, surrounding whitespace ignored, as Flink lower-cases and trims.
  CHECK(parse_duration_ns("  10 MIN ") == 600 * kS);
  CHECK(parse_duration_ns("1H") == 3600 * kS);
}

TEST_CASE("flink units: a plain number is milliseconds") {
  CHECK(parse_duration_ns("500") == 500 * kMs);
  CHECK(parse_duration_ns("0") == 0);
  CHECK(parse_duration_ms("500") == 500);
  CHECK(parse_duration_ms("10 min") == 600000);
  CHECK(parse_duration_ms("999 micros") == 0);  // Duration.toMillis truncates
}

TEST_CASE("flink units: what Flink refuses is refused") {
  CHECK_FALSE(parse_duration_ns(""));
  CHECK_FALSE(parse_duration_ns("   "));
  CHECK_FALSE(parse_duration_ns("min"));
  CHECK_FALSE(parse_duration_ns("-1h"));
  CHECK_FALSE(parse_duration_ns("1.5h"));
  CHECK_FALSE(parse_duration_ns("1h30m"));  // no compound durations in Flink
  CHECK_FALSE(parse_duration_ns("2w"));     // no weeks
  CHECK_FALSE(parse_duration_ns("1y"));
  CHECK_FALSE(parse_duration_ns("soon"));
  CHECK_FALSE(parse_duration_ns("99999999999999999d"));
  CHECK_FALSE(parse_duration_ns("99999999999999999999"));
}

TEST_CASE("flink units: memory sizes with MemorySize's units (powers of 1024)") {
  CHECK(parse_memory_size("4096") == 4096);
  CHECK(parse_memory_size("4096 b") == 4096);
  CHECK(parse_memory_size("4096bytes") == 4096);
  CHECK(parse_memory_size("20 kb") == 20 * 1024);
  CHECK(parse_memory_size("20k") == 20 * 1024);
  CHECK(parse_memory_size("1 kibibytes") == 1024);
  CHECK(parse_memory_size("1mb") == 1 << 20);
  CHECK(parse_memory_size("1 MB") == 1 << 20);
  CHECK(parse_memory_size("64 mebibytes") == 64 << 20);
  CHECK(parse_memory_size("2g") == int64_t{2} << 30);
  CHECK(parse_memory_size("1 tb") == int64_t{1} << 40);
  CHECK_FALSE(parse_memory_size("-1"));
  CHECK_FALSE(parse_memory_size("1.5 mb"));
  CHECK_FALSE(parse_memory_size("1 pb"));
  CHECK_FALSE(parse_memory_size("kb"));
  CHECK_FALSE(parse_memory_size("99999999999 tb"));
}
