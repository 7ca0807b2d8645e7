#include "snapshot/layout.h"

#include <charconv>

namespace ckpt::snapshot {
namespace {

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::optional<int64_t> checkpoint_number(std::string_view name) {
  if (!name.starts_with(kCheckpointDirPrefix)) return std::nullopt;
  std::string_view digits = name.substr(kCheckpointDirPrefix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n < 0) return std::nullopt;
  return n;
}

bool is_flink_savepoint_name(std::string_view name) {
  if (!name.starts_with(kSavepointDirPrefix)) return false;
  std::string_view rest = name.substr(kSavepointDirPrefix.size());
  return rest.size() == 19 && rest[6] == '-' && lower_hex(rest.substr(0, 6)) && lower_hex(rest.substr(7));
}

bool is_job_id(std::string_view name) { return name.size() == 32 && lower_hex(name); }

}  // namespace ckpt::snapshot
