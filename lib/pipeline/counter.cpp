#include "pipeline/counter.h"

#include <fmt/format.h>

namespace ckpt::pipeline {

CounterOperator::CounterOperator(KeyedStateBackend& backend, LineOut lines)
    : backend_(backend), lines_(std::move(lines)) {
  state_ = backend_.declare_value_state(std::string(kCounterStateName), NamespaceKind::kVoid);
  backend_.declare_timers(std::string(kCounterTimersName), NamespaceKind::kVoid);
}

int64_t CounterOperator::process(const Record& r) {
  backend_.set_current_key(r.word, r.key_group);
  int64_t n = backend_.value(state_, Namespace{}).value_or(0) + 1;
  backend_.update(state_, Namespace{}, n);
  if (n == 1) backend_.register_event_timer(Namespace{}, kMaxWatermark);
  if ((n & (n - 1)) == 0) {
    line_.clear();
    fmt::format_to(std::back_inserter(line_), "C\t{}\t{}\n", r.word, n);
    lines_(line_);
  }
  return n;
}

void CounterOperator::on_watermark(int64_t watermark) {
  Timer t;
  while (backend_.poll_timer(watermark, t)) {
    int64_t n = backend_.value(state_, Namespace{}).value_or(0);
    line_.clear();
    fmt::format_to(std::back_inserter(line_), "F\t{}\t{}\n", t.key, n);
    lines_(line_);
  }
}

}  // namespace ckpt::pipeline
