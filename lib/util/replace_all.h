// Spelling one path as another inside a message or report: every occurrence of a private or
// virtual directory replaced by the URI it stands for (ops/store_plan.h, ops/staged_snapshot.h,
// ops/published_output.h).
#pragma once

#include <string>
#include <string_view>

namespace ckpt::util {

// `text` with every occurrence of `from` (non-empty) replaced by `to`, left to right.
inline std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(text);
  std::string out;
  size_t i = 0;
  for (size_t j = text.find(from); j != std::string_view::npos; j = text.find(from, i)) {
    out.append(text.substr(i, j - i));
    out.append(to);
    i = j + from.size();
  }
  out.append(text.substr(i));
  return out;
}

}  // namespace ckpt::util
