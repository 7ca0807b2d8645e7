// What the two halves of the proto codec share (proto_encode.cpp, proto_decode.cpp); not part of
// its API (export/proto_codec.h).
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "flink/model.h"

namespace ckpt::codec::detail {

// ---- error paths -----------------------------------------------------------------------------
// Conversions throw Failure with the innermost field name; every enclosing level prepends its
// segment while the exception unwinds (no cost on the success path), and the entry points turn it
// into a CodecError.

struct Failure {
  std::string path;
  std::string problem;
};

[[noreturn]] inline void fail(std::string field, std::string problem) {
  throw Failure{std::move(field), std::move(problem)};
}

inline void prepend(Failure& f, std::string_view name, std::ptrdiff_t index) {
  std::string seg(name);
  if (index >= 0) seg += fmt::format("[{}]", index);
  if (f.path.empty()) {
    f.path = std::move(seg);
  } else {
    if (f.path.front() != '[') seg += '.';
    f.path.insert(0, seg);
  }
}

// Runs fn() with `name` (and `[index]`) as the path segment of any failure inside it.
template <typename Fn>
decltype(auto) at(std::string_view name, std::ptrdiff_t index, Fn&& fn) {
  try {
    return fn();
  } catch (Failure& f) {
    prepend(f, name, index);
    throw;
  }
}

template <typename Fn>
decltype(auto) at(std::string_view name, Fn&& fn) {
  return at(name, -1, std::forward<Fn>(fn));
}

// Every field of the properties, including the output-only type name.
inline bool same_properties(const flink::CheckpointProperties& a, const flink::CheckpointProperties& b) {
  return a.discard_cancelled == b.discard_cancelled && a.discard_failed == b.discard_failed &&
         a.discard_finished == b.discard_finished && a.discard_subsumed == b.discard_subsumed &&
         a.discard_suspended == b.discard_suspended && a.forced == b.forced && a.unclaimed == b.unclaimed &&
         a.kind == b.kind && a.format == b.format && a.action == b.action && a.type_name == b.type_name &&
         a.sharing_strategy == b.sharing_strategy;
}

}  // namespace ckpt::codec::detail
