#include "progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "console.h"
#include "render.h"

namespace ckpt::cli {
namespace {

std::string eta_text(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace

Progress::Progress(std::string label, Unit unit, std::string items)
    : label_(std::move(label)),
      items_(std::move(items)),
      unit_(unit),
      enabled_(!console::quiet() && isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { clear(); }

std::string Progress::line(uint64_t done, uint64_t total) const {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  auto amount = [this](uint64_t n) {
    return unit_ == Unit::kBytes ? human_bytes(static_cast<int64_t>(n)) : std::to_string(n);
  };
  std::string s = label_ + ": ";
  if (total > 0) s += fmt::format("{:3}% ", done >= total ? 100 : done * 100 / total);
  s += amount(done);
  if (total > 0) s += " of " + amount(total);
  if (unit_ == Unit::kItems) s += " " + items_;
  if (secs >= 0.5 && done > 0) {
    double rate = static_cast<double>(done) / secs;
    s +=
        unit_ == Unit::kBytes ? ", " + human_bytes(static_cast<int64_t>(rate)) + "/s" : fmt::format(", {:.0f}/s", rate);
    if (total > done && rate > 0) s += ", ETA " + eta_text(static_cast<double>(total - done) / rate);
  }
  return s;
}

void Progress::update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  std::string s = "\r" + line(done, total) + "\033[K";
  std::fputs(s.c_str(), stderr);
  std::fflush(stderr);
  shown_ = true;
}

void Progress::status(const std::string& text) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  std::string s = "\r" + label_ + ": " + text + "\033[K";
  std::fputs(s.c_str(), stderr);
  std::fflush(stderr);
  shown_ = true;
}

util::ProgressFn Progress::fn() {
  if (!enabled_) return {};
  return [this](uint64_t done, uint64_t total) { update(done, total); };
}

void Progress::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shown_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
  shown_ = false;
}

}  // namespace ckpt::cli
