#include "render.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/time_format.h"

namespace ckpt::cli {

std::string human_bytes(int64_t bytes) {
  if (bytes < 0) return "?";
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  do {
    v /= 1024.0;
    ++u;
  } while (v >= 1024.0 && u < 4);
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string utc_time(int64_t unix_seconds) { return util::utc_display(unix_seconds); }

Table::Table(std::vector<std::string> header, std::vector<bool> right_aligned)
    : header_(std::move(header)), right_(std::move(right_aligned)) {
  right_.resize(header_.size(), false);
}

void Table::row(std::vector<std::string> cells) {
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::str() const {
  std::vector<std::size_t> w(header_.size());
  for (std::size_t c = 0; c < header_.size(); ++c) w[c] = header_[c].size();
  for (const auto& r : rows_) {
    for (std::size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c) l += "  ";
      bool last = c + 1 == cells.size();
      if (right_[c]) {
        l += fmt::format("{:>{}}", cells[c], w[c]);
      } else {
        l += last ? cells[c] : fmt::format("{:<{}}", cells[c], w[c]);
      }
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l;
    out += '\n';
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  return out;
}

}  // namespace ckpt::cli
