#include "pipeline/windows.h"

#include <fmt/format.h>

namespace ckpt::pipeline {

WindowsOperator::WindowsOperator(KeyedStateBackend& backend, int64_t size_ms, int64_t allowed_lateness_ms,
                                 LineOut lines)
    : backend_(backend), size_(size_ms), lateness_(allowed_lateness_ms), lines_(std::move(lines)) {
  state_ = backend_.declare_value_state(std::string(kWindowStateName), NamespaceKind::kTimeWindow);
  backend_.declare_timers(std::string(kWindowTimersName), NamespaceKind::kTimeWindow);
}

void WindowsOperator::emit(std::string_view word, const Namespace& w, int64_t count) {
  line_.clear();
  fmt::format_to(std::back_inserter(line_), "W\t{}\t{}\t{}\t{}\n", word, w.start, w.end, count);
  lines_(line_);
}

void WindowsOperator::process(const Record& r) {
  // TimeWindow.getWindowStartWithOffset(ts, 0, size), correct for negative timestamps too.
  int64_t start = r.timestamp - ((r.timestamp % size_) + size_) % size_;
  Namespace w{start, start + size_};
  int64_t max_ts = w.end - 1;
  if (max_ts + lateness_ <= watermark_) {  // WindowOperator.isWindowLate
    ++dropped_;
    return;
  }
  backend_.set_current_key(r.word, r.key_group);
  int64_t n = backend_.value(state_, w).value_or(0) + 1;
  backend_.update(state_, w, n);
  if (max_ts <= watermark_) {
    emit(r.word, w, n);  // EventTimeTrigger.onElement: FIRE for a late element within lateness
  } else if (n == 1) {
    backend_.register_event_timer(w, max_ts);
  }
  if (n == 1 && lateness_ > 0) backend_.register_event_timer(w, max_ts + lateness_);
}

void WindowsOperator::on_watermark(int64_t watermark) {
  watermark_ = watermark;
  Timer t;
  while (backend_.poll_timer(watermark, t)) {
    int64_t max_ts = t.ns.end - 1;
    if (t.timestamp == max_ts) {
      if (auto n = backend_.value(state_, t.ns)) emit(t.key, t.ns, *n);
    }
    if (t.timestamp == max_ts + lateness_) backend_.clear(state_, t.ns);
  }
}

}  // namespace ckpt::pipeline
