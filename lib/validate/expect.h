// Rules E01-E05: will a job's operators map onto a snapshot the way Flink's restore does
// (Checkpoints.loadAndValidateCheckpoint)?
//
// The job is described by a small list of operators (--expect FILE, YAML or JSON) or by another
// snapshot of the new job version (--expect-from). Operators match by id, or by uid (hashed as
// Flink does, or compared with the uid a V5+ snapshot stores).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "util/error.h"
#include "validate/findings.h"

namespace ckpt::validate {

struct ExpectedOperator {
  std::string uid;  // UTF-8, may be empty when id is set
  std::optional<flink::OperatorId> id;
  std::string name;  // for messages only
  std::optional<int32_t> parallelism;
  std::optional<int32_t> max_parallelism;  // unset: the job lets Flink pick (it adopts the snapshot's)

  std::string label() const;  // "uid <uid>", "<name> (<id>)" or "<id>"
};

struct Expectation {
  std::string source;  // file or snapshot it came from
  std::vector<ExpectedOperator> operators;
};

// A file that is not a valid expectation list; what() is one line naming the file (and line).
class ExpectError : public util::Error {
 public:
  explicit ExpectError(const std::string& message) : util::Error(util::ErrorKind::kUsage, message) {}
};

// Parses an expectation list. JSON when the first non-blank character is '{' or '[' (the
// ExpectedJob message of formats/validate.proto, or just its list); otherwise a YAML subset: an
// optional "operators:" line, then a list of maps with scalar values:
//     - uid: my-source          # keys: uid, id, name, parallelism, maxParallelism
//       parallelism: 4
// Each operator needs a uid or an id; unknown keys are errors.
Expectation parse_expectation(std::string_view text, std::string_view label);
Expectation load_expectation(const std::filesystem::path& file);

// The operators of another snapshot (e.g. one taken by the new job version), with their
// parallelism and max parallelism.
Expectation expectation_from(const flink::Metadata& md, std::string source);

// True when a snapshot operator holds any state Flink would have to restore.
bool has_state(const flink::OperatorState& op);

void check_expectation(const flink::Metadata& md, const Expectation& job, Findings& out);

}  // namespace ckpt::validate
