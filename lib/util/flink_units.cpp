#include "util/flink_units.h"

#include <cctype>
#include <charconv>
#include <span>
#include <string>
#include <utility>

namespace ckpt::util {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct Unit {
  std::string_view label;
  int64_t factor;
};

// Digits, optional whitespace, a unit from `units` (lower case; empty = factor of `units[0]`).
std::optional<int64_t> parse_with_units(std::string_view text, std::span<const Unit> units) {
  std::string_view v = trim(text);
  std::size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  if (i == 0) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + i, n);
  if (ec != std::errc() || p != v.data() + i) return std::nullopt;
  std::string unit(trim(v.substr(i)));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Unit& u : units) {
    if (u.label != unit) continue;
    if (n > INT64_MAX / u.factor) return std::nullopt;
    return n * u.factor;
  }
  return std::nullopt;
}

constexpr int64_t kMs = 1'000'000;

}  // namespace

std::optional<int64_t> parse_duration_ns(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", kMs},
      {"d", 86'400'000 * kMs},
      {"day", 86'400'000 * kMs},
      {"days", 86'400'000 * kMs},
      {"h", 3'600'000 * kMs},
      {"hour", 3'600'000 * kMs},
      {"hours", 3'600'000 * kMs},
      {"min", 60'000 * kMs},
      {"m", 60'000 * kMs},
      {"minute", 60'000 * kMs},
      {"minutes", 60'000 * kMs},
      {"s", 1000 * kMs},
      {"sec", 1000 * kMs},
      {"secs", 1000 * kMs},
      {"second", 1000 * kMs},
      {"seconds", 1000 * kMs},
      {"ms", kMs},
      {"milli", kMs},
      {"millis", kMs},
      {"millisecond", kMs},
      {"milliseconds", kMs},
      {"\xc2\xb5s", 1000},  // µs (MICRO SIGN)
      {"micro", 1000},
      {"micros", 1000},
      {"microsecond", 1000},
      {"microseconds", 1000},
      {"ns", 1},
      {"nano", 1},
      {"nanos", 1},
      {"nanosecond", 1},
      {"nanoseconds", 1},
  };
  return parse_with_units(text, kUnits);
}

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  auto ns = parse_duration_ns(text);
  if (!ns) return std::nullopt;
  return *ns / kMs;
}

std::optional<int64_t> parse_memory_size(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"b", 1},
      {"bytes", 1},
      {"k", int64_t{1} << 10},
      {"kb", int64_t{1} << 10},
      {"kibibytes", int64_t{1} << 10},
      {"m", int64_t{1} << 20},
      {"mb", int64_t{1} << 20},
      {"mebibytes", int64_t{1} << 20},
      {"g", int64_t{1} << 30},
      {"gb", int64_t{1} << 30},
      {"gibibytes", int64_t{1} << 30},
      {"t", int64_t{1} << 40},
      {"tb", int64_t{1} << 40},
      {"tebibytes", int64_t{1} << 40},
  };
  return parse_with_units(text, kUnits);
}

}  // namespace ckpt::util
