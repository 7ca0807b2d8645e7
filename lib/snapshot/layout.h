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

// The largest `_metadata` object read from an object store into memory: a bound on what a
// listing's size (untrusted) may make us allocate.
inline constexpr uint64_t kMaxMetadataObjectBytes = uint64_t{1} << 30;

// N for a directory named "chk-N" (decimal, no sign, no padding required), else nullopt.
std::optional<int64_t> checkpoint_number(std::string_view dir_name);

// True for "savepoint-" + 6 lowercase hex + "-" + 12 lowercase hex (Flink's naming).
bool is_flink_savepoint_name(std::string_view dir_name);

// True for a 32-char lowercase hex job id directory name.
bool is_job_id(std::string_view dir_name);

}  // namespace ckpt::snapshot
