// Operator `windows`: event-time tumbling windows counting words, with Flink's WindowOperator
// semantics: state "window-contents" (Long per key and TimeWindow), an event-time timer at
// window.maxTimestamp() (= end - 1) that fires the window, a cleanup timer at
// maxTimestamp + allowed lateness, late elements within the lateness fire again at once, later
// ones are dropped. Output: "W\t<word>\t<start>\t<end>\t<count>\n".
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "pipeline/events.h"
#include "pipeline/state_backend.h"

namespace ckpt::pipeline {

inline constexpr std::string_view kWindowStateName = "window-contents";
inline constexpr std::string_view kWindowTimersName = "_timer_state/event_window-timers";

class WindowsOperator {
 public:
  using LineOut = std::function<void(std::string_view)>;

  WindowsOperator(KeyedStateBackend& backend, int64_t size_ms, int64_t allowed_lateness_ms, LineOut lines);

  void process(const Record& r);
  void on_watermark(int64_t watermark);
  int64_t late_records_dropped() const { return dropped_; }

 private:
  void emit(std::string_view word, const Namespace& w, int64_t count);
  KeyedStateBackend& backend_;
  int64_t size_;
  int64_t lateness_;
  LineOut lines_;
  int state_;
  int64_t watermark_ = kMinWatermark;
  int64_t dropped_ = 0;
  std::string line_;
};

}  // namespace ckpt::pipeline
