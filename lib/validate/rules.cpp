#include "validate/rules.h"

#include <array>
#include <stdexcept>
#include <string>

#include "util/error.h"

namespace ckpt::validate {
namespace {

using enum Severity;

constexpr std::array kRules{
    Rule{"S01", kError, "magic number and format version are ones Flink can restore"},
    Rule{"S02", kError, "checkpoint id, master-state and operator counts are non-negative"},
    Rule{"S03", kError, "master states: magic, positive length, inner block consumed exactly"},
    Rule{"S04", kError, "counts and lengths are non-negative and fit the bytes that remain (no truncation)"},
    Rule{"S05", kError, "every handle tag and channel type is legal for its position"},
    Rule{"S06", kError, "operator-state distribution mode is 0, 1 or 2; BROADCAST has exactly one offset"},
    Rule{"S07", kError, "every string is valid modified UTF-8"},
    Rule{"S08", kError, "V4+: the properties trailer is a Java serialization stream of one object"},
    Rule{"S09", kError, "a fully finished operator has no coordinator state"},
    Rule{"S10", kError, "file-merging segments: scope 0 or 1, start >= 0, size >= 0"},
    Rule{"S11", kError, "file handle state sizes are >= 0 or exactly -1"},
    Rule{"S12", kWarning, "no bytes follow the last structure Flink reads (Flink ignores them; ckpt keeps them)"},
    Rule{"K12", kError, "1 <= parallelism <= maxParallelism <= 32768"},
    Rule{"K13", kError, "subtask indices are unique and in [0, parallelism)"},
    Rule{"K14", kError, "keyed ranges of an operator's subtasks partition [0, maxParallelism) as rangeOfSubtask does"},
    Rule{"K15", kError, "changelog composites: nested handles' key-group ranges lie inside the composite's"},
    Rule{"K16", kError, "key-group offsets: one per key group, -1/0 or inside the stream, non-decreasing"},
    Rule{"K17", kError, "operator-state offsets lie inside the stream and are non-decreasing per state"},
    Rule{"K18", kError, "channel state: subtask index >= 0, offsets and sizes inside the stream"},
    Rule{"K19", kError, "RocksDB handles: key groups, backend id, checkpoint id, sizes, unique file names"},
    Rule{"K20", kWarning, "V5+: an operator's id is the hash of its uid"},
    Rule{"K21", kWarning, "coordinator state is named after its operator id"},
    Rule{"K22", kWarning, "checkpoint/savepoint properties agree with the directory name and checkpoint id"},
    Rule{"F23", kError, "relative files exist, are regular files and have the recorded size"},
    Rule{"F24", kError,
         "absolute and segment files exist, are regular files and hold the recorded bytes (a note lists files outside "
         "the job directory)"},
    Rule{"F26", kWarning, "every file in the snapshot directory is referenced by its _metadata"},
    Rule{"F27", kWarning, "savepoints: Flink's directory name, self-contained (no files in a checkpoint's shared/)"},
    Rule{"F28", kWarning, "chk-N and job directory names follow Flink's layout"},
    Rule{"F29", kError, "a chk-N directory holds _metadata (else the checkpoint never completed)"},
    Rule{"F30", kError, "relative paths resolve inside the snapshot directory"},
    Rule{"F31", kInfo, "files on unmapped remote file systems are not checked (--map, --strict)"},
    Rule{"F32", kError,
         "handle paths resolve inside the snapshot's root, --map and --allow-outside directories, through no symbolic "
         "link"},
    Rule{"D01", kError, "--deep: SST files open and every block checksum is correct"},
    Rule{"D02", kError, "--deep: SST table properties are readable and consistent with the file"},
    Rule{"D03", kError, "--deep: first and last SST keys lie inside the handle's key-group range"},
    Rule{"D04", kError, "--deep: CURRENT, MANIFEST and OPTIONS files are sane"},
    Rule{"D05", kError, "--deep: key-group and operator-state offsets point inside the actual file"},
    Rule{"D06", kError, "--deep: every referenced file can be read to its end"},
    Rule{"D07", kError, "--deep: channel-state offsets point at records inside the file"},
    Rule{"E01", kError, "operators with state in the snapshot exist in the job (else --allowNonRestoredState)"},
    Rule{"E02", kError, "the job's max parallelism equals the snapshot's"},
    Rule{"E03", kError, "the job's parallelism does not exceed the (effective) max parallelism"},
    Rule{"E04", kInfo, "operators of the job that have no state in the snapshot"},
    Rule{"E05", kError, "the expected operator list names each operator once"},
};

}  // namespace

std::string_view severity_name(Severity s) {
  switch (s) {
    case kInfo:
      return "info";
    case kWarning:
      return "warning";
    case kError:
      return "error";
  }
  return "?";
}

std::span<const Rule> all_rules() { return kRules; }

const Rule& rule(std::string_view id) {
  for (const Rule& r : kRules) {
    if (r.id == id) return r;
  }
  throw util::Error(util::ErrorKind::kInternal, "unknown validate rule " + std::string(id));
}

}  // namespace ckpt::validate
