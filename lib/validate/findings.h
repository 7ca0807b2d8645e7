// Findings of `ckpt validate`: what a rule found, where, and how bad it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink/model.h"
#include "validate/rules.h"

namespace ckpt::validate {

struct Finding {
  std::string rule;  // stable id from rules.h, e.g. "K14"
  Severity severity = Severity::kError;
  std::string where;        // "operator <uid or id> subtask 3", a file path, or "" for the snapshot
  std::string message;      // one line, no trailing period
  std::string operator_id;  // 32 hex when the finding concerns one operator
  int32_t subtask = -1;     // when it concerns one subtask
  std::string file;         // local path (or URI) when it concerns one file
};

// Collects findings; severity defaults to the rule's.
class Findings {
 public:
  Finding& add(std::string_view rule_id, std::string where, std::string message);
  Finding& add(std::string_view rule_id, Severity severity, std::string where, std::string message);
  void append(std::vector<Finding> more);

  const std::vector<Finding>& items() const { return items_; }
  std::vector<Finding>& items() { return items_; }
  int count(Severity s) const;

 private:
  std::vector<Finding> items_;
};

// "operator <uid>" (V5+ with a uid), "operator <name> (<id>)", or "operator <id>"; plus
// " subtask N" when subtask >= 0. Used as Finding::where by every rule.
std::string operator_where(const flink::OperatorState& op, int32_t subtask = -1);

}  // namespace ckpt::validate
