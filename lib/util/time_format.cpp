#include "util/time_format.h"

#include <ctime>
#include <utility>

namespace ckpt::util {
namespace {

std::string format_utc(int64_t unix_seconds, const char* pattern) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, pattern, &tm);
  return buf;
}

}  // namespace

std::string utc_display(int64_t unix_seconds) { return format_utc(unix_seconds, "%Y-%m-%d %H:%M:%S"); }

std::string utc_rfc3339(int64_t unix_seconds) { return format_utc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

std::string duration_text(int64_t ns) {
  if (ns <= 0) return "0s";
  static const std::pair<int64_t, const char*> units[] = {{7 * 86400000000000LL, "w"}, {86400000000000LL, "d"},
                                                          {3600000000000LL, "h"},      {60000000000LL, "m"},
                                                          {1000000000LL, "s"},         {1000000LL, "ms"}};
  std::string out;
  for (const auto& [unit, name] : units) {
    if (ns >= unit) {
      out += std::to_string(ns / unit) + name;
      ns %= unit;
    }
  }
  return out.empty() ? "1ms" : out;  // below a millisecond: round up, never print a shorter grace
}

}  // namespace ckpt::util
