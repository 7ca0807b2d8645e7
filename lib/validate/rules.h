// The catalogue of `ckpt validate` rules: one stable id per check, tied to the numbered rules of
// spec §19 where there is one.
//
// Id scheme (ids never change meaning; retired ids are never reused):
//   S01-S11  structural rules of one `_metadata` file (§19.1, numbers 1-11)
//   S12      ckpt's own: bytes after the last structure Flink reads. §19.1 rule 8 makes them an
//            error for V2/V3, but Flink's reader ignores them (for every version): a warning.
//   K12-K22  semantic rules within one file (§19.2, numbers 12-22)
//   F23-F32  rules against the file system (§19.3, numbers 23-28; 29-32 are ckpt's own)
//   D01-D07  --deep: contents of the referenced files (RocksDB files, offsets inside files)
//   E01-E05  --expect / --expect-from: will the job's operators map onto the snapshot
// §19 rule 25 ("inline handles never need a file") forbids a check rather than asking for one,
// so it has no id.
#pragma once

#include <span>
#include <string_view>

namespace ckpt::validate {

enum class Severity : int { kInfo = 0, kWarning = 1, kError = 2 };

std::string_view severity_name(Severity s);  // "info", "warning", "error"

struct Rule {
  std::string_view id;     // "K14"
  Severity severity;       // default severity (a few rules report some cases at a lower one)
  std::string_view title;  // one line, for --list-rules and the man page
};

// Every rule, in id order.
std::span<const Rule> all_rules();

// The rule with this id; throws util::Error (kInternal) for an unknown id (a programming error).
const Rule& rule(std::string_view id);

}  // namespace ckpt::validate
