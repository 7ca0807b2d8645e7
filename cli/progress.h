// The one progress reporter of the CLI: "LABEL: 42% 1.1 GiB of 2.6 GiB, 85 MiB/s, ETA 17s" on
// stderr, redrawn in place (\r) at most 10 times a second and cleared when done. Nothing at all
// when stderr is not a terminal or with -q/--quiet, so scripts and logs never see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "util/progress.h"

namespace ckpt::cli {

class Progress {
 public:
  enum class Unit { kBytes, kItems };
  // `items` names the unit for kItems ("files", "snapshots").
  explicit Progress(std::string label, Unit unit = Unit::kBytes, std::string items = "items");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  // Thread-safe; throttled.
  void update(uint64_t done, uint64_t total);
  // "LABEL: TEXT" for operations that report steps rather than amounts (compact's). Thread-safe;
  // throttled like update().
  void status(const std::string& text);
  // A callback for the library (util::ProgressFn) that feeds update(); valid while *this lives.
  util::ProgressFn fn();
  // Erases the line (also done by the destructor).
  void clear();

 private:
  std::string line(uint64_t done, uint64_t total) const;

  std::string label_, items_;
  Unit unit_;
  bool enabled_;
  bool shown_ = false;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace ckpt::cli
