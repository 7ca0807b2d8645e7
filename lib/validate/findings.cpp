#include "validate/findings.h"

#include <fmt/format.h>

#include "flink/operator_id.h"
#include "io/mutf8.h"

namespace ckpt::validate {

Finding& Findings::add(std::string_view rule_id, std::string where, std::string message) {
  return add(rule_id, rule(rule_id).severity, std::move(where), std::move(message));
}

Finding& Findings::add(std::string_view rule_id, Severity severity, std::string where, std::string message) {
  Finding f;
  f.rule = std::string(rule(rule_id).id);
  f.severity = severity;
  f.where = std::move(where);
  f.message = std::move(message);
  return items_.emplace_back(std::move(f));
}

void Findings::append(std::vector<Finding> more) {
  for (auto& f : more) items_.push_back(std::move(f));
}

int Findings::count(Severity s) const {
  int n = 0;
  for (const auto& f : items_) n += f.severity == s;
  return n;
}

std::string operator_where(const flink::OperatorState& op, int32_t subtask) {
  std::string id = flink::to_hex(op.id);
  std::string s;
  if (!op.uid.empty()) {
    s = fmt::format("operator {}", io::mutf8_to_utf8(op.uid));
  } else if (!op.name.empty()) {
    s = fmt::format("operator {} ({})", io::mutf8_to_utf8(op.name), id);
  } else {
    s = fmt::format("operator {}", id);
  }
  if (subtask >= 0) s += fmt::format(" subtask {}", subtask);
  return s;
}

}  // namespace ckpt::validate
