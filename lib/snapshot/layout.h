// Flink's directory layout rules (spec §11.4, §12): which directory names mean what.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ckpt::snapshot {

inline constexpr std::string_view kMetadataFileName = "_metadata";
inline constexpr std::string_view kSharedDirName = "shared";
inline constexpr std::string_view kTaskOwnedDirName = "taskowned";
inline constexpr std::string_view kCheckpointDirPrefix = "chk-";
inline constexpr std::string_view kSavepointDirPrefix = "savepoint-";

// N for a directory named "chk-N" (decimal, no sign, no padding required), else nullopt.
std::optional<int64_t> checkpoint_number(std::string_view dir_name);

// True for "savepoint-" + 6 lowercase hex + "-" + 12 lowercase hex (Flink's naming).
bool is_flink_savepoint_name(std::string_view dir_name);

// True for a 32-char lowercase hex job id directory name.
bool is_job_id(std::string_view dir_name);

}  // namespace ckpt::snapshot
