// Splitting text into lines for the small line-oriented formats ckpt reads (flat YAML config,
// the pipeline's job parameters), with 1-based line numbers for error messages.
#pragma once

#include <cstddef>
#include <string_view>

namespace ckpt::util {

// Calls fn(line, line_no) for every '\n'-separated line of `text` (without the '\n'; a final
// line without '\n' counts; an empty text has no lines). A trailing '\r' is kept: callers that
// accept CRLF files trim it.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  int line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    fn(line, ++line_no);
  }
}

}  // namespace ckpt::util
