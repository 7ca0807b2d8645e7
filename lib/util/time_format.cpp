#include "util/time_format.h"

#include <ctime>

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

}  // namespace ckpt::util
