#include "render.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "util/time_format.h"

namespace ckpt::cli {

void emit_displayed(std::FILE* to, const std::function<std::string(std::string_view)>& display,
                    const std::function<void(std::FILE*)>& write) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* mem = ::open_memstream(&buf, &len);
  if (!mem) {
    write(to);
    return;
  }
  write(mem);
  std::fclose(mem);
  std::string text = display(std::string_view(buf, len));
  std::free(buf);
  std::fwrite(text.data(), 1, text.size(), to);
}

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

namespace {

// One line of a table: cells padded to `w`, right-aligned where `right`, trailing blanks cut.
void table_line(const std::vector<std::string>& cells, const std::vector<std::size_t>& w,
                const std::vector<bool>& right, std::string& l) {
  l.clear();
  for (std::size_t c = 0; c < cells.size(); ++c) {
    if (c) l += "  ";
    bool last = c + 1 == cells.size();
    if (right[c]) {
      l += fmt::format("{:>{}}", cells[c], w[c]);
    } else {
      l += last ? cells[c] : fmt::format("{:<{}}", cells[c], w[c]);
    }
  }
  while (!l.empty() && l.back() == ' ') l.pop_back();
  l += '\n';
}

}  // namespace

std::string Table::str() const {
  std::string out;
  print(
      rows_.size(), [&](std::size_t i) { return rows_[i]; }, [&](std::string_view l) { out += l; });
  return out;
}

void Table::print(std::size_t n, const std::function<std::vector<std::string>(std::size_t)>& cells,
                  const std::function<void(std::string_view)>& sink) const {
  std::vector<std::size_t> w(header_.size());
  for (std::size_t c = 0; c < header_.size(); ++c) w[c] = header_[c].size();
  auto row = [&](std::size_t i) {
    std::vector<std::string> r = cells(i);
    r.resize(header_.size());
    return r;
  };
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::string> r = row(i);
    for (std::size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  }
  std::string l;
  table_line(header_, w, right_, l);
  sink(l);
  for (std::size_t i = 0; i < n; ++i) {
    table_line(row(i), w, right_, l);
    sink(l);
  }
}

}  // namespace ckpt::cli
