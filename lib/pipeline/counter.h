// Operator `counter`: keyed running count per word in a ValueState<Long> ("count"), like a Flink
// KeyedProcessFunction. Output, through the chain:
//  * every record goes on to `windows`;
//  * "C\t<word>\t<n>\n" when the running count n is a power of two (a deterministic sample of the
//    running counts: each n is reached exactly once per word in a failure-free run);
//  * "F\t<word>\t<total>\n" from an event-time timer at Long.MAX_VALUE registered with the first
//    occurrence, i.e. when the final watermark arrives. Fired timers are gone from state, so a
//    restore from a checkpoint taken after the end of input does not repeat them.
#pragma once

#include <functional>
#include <string>

#include "pipeline/events.h"
#include "pipeline/state_backend.h"

namespace ckpt::pipeline {

inline constexpr std::string_view kCounterStateName = "count";
inline constexpr std::string_view kCounterTimersName = "_timer_state/event_user-timers";

class CounterOperator {
 public:
  using RecordOut = std::function<void(const Record&)>;
  using LineOut = std::function<void(std::string_view)>;

  CounterOperator(KeyedStateBackend& backend, LineOut lines);

  // Returns the running count of the record's word after counting it.
  int64_t process(const Record& r);
  void on_watermark(int64_t watermark);

 private:
  KeyedStateBackend& backend_;
  LineOut lines_;
  int state_;
  std::string line_;
};

}  // namespace ckpt::pipeline
