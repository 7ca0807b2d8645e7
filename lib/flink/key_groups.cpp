#include "flink/key_groups.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <stdexcept>
#include <string>

#include "io/mutf8.h"
#include "util/error.h"

namespace ckpt::flink {
namespace {

void require(bool ok, const char* what) {
  if (!ok) throw util::Error(util::ErrorKind::kInternal, what);
}

void require_parallelism(int32_t max_parallelism, int32_t parallelism) {
  require(parallelism >= 1, "parallelism must be >= 1");
  require(max_parallelism >= parallelism, "max parallelism must be >= parallelism");
}

}  // namespace

int32_t murmur_mix(int32_t hash) {
  // Unsigned arithmetic: Java's int overflow wraps, C++'s signed overflow is undefined.
  uint32_t k = static_cast<uint32_t>(hash);
  k *= 0xCC9E2D51u;
  k = std::rotl(k, 15);
  k *= 0x1B873593u;
  k = std::rotl(k, 13);
  k = k * 5 + 0xE6546B64u;
  k ^= 4;  // the length in bytes
  k ^= k >> 16;
  k *= 0x85EBCA6Bu;
  k ^= k >> 13;
  k *= 0xC2B2AE35u;
  k ^= k >> 16;
  auto h = static_cast<int32_t>(k);
  if (h >= 0) return h;
  return h == std::numeric_limits<int32_t>::min() ? 0 : -h;
}

int32_t key_group_for_hash(int32_t java_hash, int32_t max_parallelism) {
  require(max_parallelism >= 1, "max parallelism must be >= 1");
  return murmur_mix(java_hash) % max_parallelism;
}

int32_t java_hash_string_utf16(std::u16string_view s) {
  uint32_t h = 0;
  for (char16_t c : s) h = 31 * h + c;
  return static_cast<int32_t>(h);
}

int32_t java_hash_string(std::string_view utf8) {
  // Modified UTF-8 encodes every UTF-16 unit on its own (1, 2 or 3 bytes), so its lead bytes
  // delimit exactly the units Java's String holds.
  const std::string units = io::utf8_to_mutf8(utf8);
  uint32_t h = 0;
  for (std::size_t i = 0; i < units.size();) {
    const auto lead = static_cast<unsigned char>(units[i]);
    const std::size_t n = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : 3;
    if (i + n > units.size()) break;  // cannot happen: utf8_to_mutf8 emits whole units
    uint32_t unit = n == 1 ? lead : n == 2 ? lead & 0x1Fu : lead & 0x0Fu;
    for (std::size_t k = 1; k < n; ++k) unit = (unit << 6) | (static_cast<unsigned char>(units[i + k]) & 0x3Fu);
    h = 31 * h + unit;
    i += n;
  }
  return static_cast<int32_t>(h);
}

int32_t java_hash_int(int32_t v) { return v; }

int32_t java_hash_long(int64_t v) {
  auto u = static_cast<uint64_t>(v);
  return static_cast<int32_t>(static_cast<uint32_t>(u ^ (u >> 32)));
}

KeyGroupRange range_of_subtask(int32_t max_parallelism, int32_t parallelism, int32_t subtask) {
  require_parallelism(max_parallelism, parallelism);
  require(subtask >= 0 && subtask < parallelism, "subtask index must be in [0, parallelism)");
  // Flink: (i * maxP + p - 1) / p and ((i + 1) * maxP - 1) / p in int; exact while maxP <= 32768.
  const int64_t max_p = max_parallelism, p = parallelism, i = subtask;
  const auto start = static_cast<int32_t>((i * max_p + p - 1) / p);
  const auto end = static_cast<int32_t>(((i + 1) * max_p - 1) / p);
  return KeyGroupRange{start, end - start + 1};
}

int32_t subtask_for_key_group(int32_t max_parallelism, int32_t parallelism, int32_t key_group) {
  require_parallelism(max_parallelism, parallelism);
  require(key_group >= 0 && key_group < max_parallelism, "key group must be in [0, max parallelism)");
  // Flink: keyGroupId * parallelism / maxParallelism in int; exact while maxP <= 32768.
  return static_cast<int32_t>(int64_t{key_group} * parallelism / max_parallelism);
}

int32_t default_max_parallelism(int32_t parallelism) {
  require(parallelism >= 1, "parallelism must be >= 1");
  // Flink: roundUpToPowerOfTwo(p + p / 2) in int, which overflows for p > ~1.4e9; clamping first
  // gives the same answer for every p Flink accepts (p <= 32768) and 32768 beyond.
  const int64_t wanted = std::min<int64_t>(int64_t{parallelism} + parallelism / 2, kMaxMaxParallelism);
  const auto rounded = static_cast<int32_t>(std::bit_ceil(static_cast<uint64_t>(wanted)));
  return std::clamp(rounded, kMinDefaultMaxParallelism, kMaxMaxParallelism);
}

int key_group_prefix_bytes(int32_t max_parallelism) { return max_parallelism > 128 ? 2 : 1; }

}  // namespace ckpt::flink
