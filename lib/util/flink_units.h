// Flink's value syntaxes for durations and memory sizes, parsed one way for every command (the
// pipeline's configuration, gc/prune --grace, prune --keep-within, savepoint --timeout, run
// --window, ...). No I/O.
//
// Contract (Flink's TimeUtils.parseDuration and MemorySize.parse):
//  * A duration is digits, optional whitespace, an optional unit, case-insensitive:
//    d/day/days, h/hour/hours, min/m/minute/minutes, s/sec/secs/second/seconds,
//    ms/milli/millis/millisecond/milliseconds, µs/micro/micros/microsecond/microseconds,
//    ns/nano/nanos/nanosecond/nanoseconds. No unit: milliseconds. "30 min", "30min", "1 h",
//    "500ms", "500" are durations; "-1s", "1.5h", "1h30m", "" are not.
//  * A memory size is digits, optional whitespace, an optional unit, case-insensitive:
//    b/bytes, k/kb/kibibytes, m/mb/mebibytes, g/gb/gibibytes, t/tb/tebibytes (powers of 1024).
//    No unit: bytes.
//  * Anything else, or a value that overflows int64 nanoseconds (durations) or bytes (sizes),
//    is nullopt; callers name the key or flag with kDurationSyntax / kMemorySizeSyntax.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ckpt::util {

inline constexpr std::string_view kDurationSyntax =
    "a duration such as 500ms, 30 s, 30min, 1 h, 2 d (no unit: milliseconds)";
inline constexpr std::string_view kMemorySizeSyntax = "a memory size such as 4096, 20 kb, 1 mb (no unit: bytes)";

std::optional<int64_t> parse_duration_ns(std::string_view text);
// The duration in whole milliseconds (Flink's Duration.toMillis: sub-millisecond parts dropped).
std::optional<int64_t> parse_duration_ms(std::string_view text);
std::optional<int64_t> parse_memory_size(std::string_view text);

}  // namespace ckpt::util
