// UTC time stamps for humans and for JSON.
#pragma once

#include <cstdint>
#include <string>

namespace ckpt::util {

// "2026-11-23 21:34:01": tables.
std::string utc_display(int64_t unix_seconds);

// "2026-11-23T21:34:01Z": RFC 3339, for JSON.
std::string utc_rfc3339(int64_t unix_seconds);

// A duration the way --grace and --keep-within take it: "1h30m", "10m", "45s", "250ms", "0s".
std::string duration_text(int64_t ns);

}  // namespace ckpt::util
