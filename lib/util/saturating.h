// Arithmetic on numbers read from a snapshot (sizes, counts, offsets): a corrupt or crafted
// `_metadata` can hold any int64, so a sum or difference of them must neither overflow (undefined
// behaviour for signed integers, a wrong figure for unsigned ones) nor refuse the whole command.
// These clamp to the type's range instead; a figure at INT64_MAX / UINT64_MAX reads as "at
// least this much". checked_add is for places where a clamped value would be wrong (an end
// offset to seek to): it reports the overflow so the caller can refuse the input.
//
// The one helper for this: every sum of sizes in lib/ uses it (flink::add_sizes is sat_add).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

namespace ckpt::util {

// a + b, clamped to [min, max] of T.
template <typename T>
constexpr T sat_add(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  if constexpr (std::is_signed_v<T>) return b > 0 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::min();
  return std::numeric_limits<T>::max();
}

// a - b, clamped to [min, max] of T (0 for an unsigned a < b).
template <typename T>
constexpr T sat_sub(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  if constexpr (std::is_signed_v<T>) return b < 0 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::min();
  return 0;
}

// a * b, clamped to [min, max] of T.
template <typename T>
constexpr T sat_mul(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (!__builtin_mul_overflow(a, b, &r)) return r;
  if constexpr (std::is_signed_v<T>) {
    return (a < 0) != (b < 0) ? std::numeric_limits<T>::min() : std::numeric_limits<T>::max();
  }
  return std::numeric_limits<T>::max();
}

// `acc += v`, clamped: the form every running total takes.
template <typename T>
constexpr void sat_accumulate(T& acc, T v) {
  acc = sat_add(acc, v);
}

// A non-negative int64 size as uint64 (negative "unknown" sizes count as 0).
constexpr uint64_t size_or_zero(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }

// A uint64 figure as int64, clamped to INT64_MAX.
constexpr int64_t clamp_to_i64(uint64_t v) {
  return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                        : static_cast<int64_t>(v);
}

// a + b, or nullopt when it does not fit T.
template <typename T>
constexpr std::optional<T> checked_add(T a, T b) {
  T r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace ckpt::util
