// Human rendering helpers shared by the subcommands: sizes, tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::cli {

// Writes what `write` prints to `to`, the whole text passed through `display` first (e.g. a
// private or virtual directory spelled as the URI it stands for).
void emit_displayed(std::FILE* to, const std::function<std::string(std::string_view)>& display,
                    const std::function<void(std::FILE*)>& write);

// 1536 -> "1.5 KiB"; exact bytes below 1 KiB.
std::string human_bytes(int64_t bytes);

// "2026-11-23 21:34:01" (UTC) for a Unix time, as every table shows times.
std::string utc_time(int64_t unix_seconds);

// A plain text table: columns padded to their widest cell; numeric columns right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> right_aligned = {});
  void row(std::vector<std::string> cells);
  std::string str() const;
  bool empty() const { return rows_.empty(); }

  // The bytes str() would return for `n` rows, made on demand and handed to `sink` line by line,
  // so that a table of millions of rows is never held: `cells(i)` is called twice per row (once
  // to size the columns, once to print).
  void print(std::size_t n, const std::function<std::vector<std::string>(std::size_t)>& cells,
             const std::function<void(std::string_view)>& sink) const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace ckpt::cli
