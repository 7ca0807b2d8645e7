// "No kept snapshot ever fails validation", checked independently of prune/gc: every file a
// snapshot references exists with at least its recorded size.
// TODO(validate): once `ckpt validate` / ops::validate_snapshot is final, the prune/gc tests should
// call it here instead (this is the single place to swap).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ckpt::testsupport {

// Problems of the snapshot in `dir` (one line each); empty when intact.
std::vector<std::string> snapshot_problems(const std::filesystem::path& dir);

}  // namespace ckpt::testsupport
