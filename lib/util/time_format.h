// UTC time stamps for humans and for JSON.
#pragma once

#include <cstdint>
#include <string>

namespace ckpt::util {

// "2026-11-23 21:34:01": tables.
std::string utc_display(int64_t unix_seconds);

// "2026-11-23T21:34:01Z": RFC 3339, for JSON.
std::string utc_rfc3339(int64_t unix_seconds);

}  // namespace ckpt::util
