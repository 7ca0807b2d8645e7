// Key-group arithmetic of Flink's KeyGroupRangeAssignment and MathUtils (spec §14.1, §14.2): which
// key group a key falls into, which subtask owns a key group, and how RocksDB keys are prefixed.
//
// Flink computes all of this in Java `int`. Within its own bounds (1 <= parallelism <=
// maxParallelism <= 32768) no intermediate overflows, and these functions return exactly what
// Flink does. They also accept any positive maxParallelism a corrupt file may carry: products are
// taken in 64 bits, so results stay the mathematically intended ones where Flink would have
// overflowed (Flink never gets there: it rejects maxParallelism > 32768 when a job is built).
// Arguments outside the documented preconditions throw util::Error (kInternal), never divide by
// zero.
#pragma once

#include <cstdint>
#include <string_view>

#include "flink/model.h"

namespace ckpt::flink {

inline constexpr int32_t kMaxMaxParallelism = 32768;       // 1 << 15, Flink's upper bound
inline constexpr int32_t kMinDefaultMaxParallelism = 128;  // 1 << 7, floor of the default

// MathUtils.murmurHash: MurmurHash3_x86_32 (seed 0) of the 4-byte value, made non-negative the
// way Flink does it (negated; INT_MIN, which has no negation, becomes 0). Never negative.
int32_t murmur_mix(int32_t hash);

// The key group of a key whose Java hashCode() is `java_hash`. Requires max_parallelism >= 1.
int32_t key_group_for_hash(int32_t java_hash, int32_t max_parallelism);

// Java hashCode() of the key types Flink users most often key by. Other types (tuples, POJOs,
// rows, records) define their own hashCode() and must be hashed by the caller.
int32_t java_hash_string_utf16(std::u16string_view s);  // String.hashCode() over UTF-16 units
// The same over a string given as UTF-8 (supplementary characters count as two surrogate units,
// as in Java). Malformed input is decoded as io::utf8_to_mutf8 does (a bad byte is U+FFFD).
int32_t java_hash_string(std::string_view utf8);
int32_t java_hash_int(int32_t v);   // Integer.hashCode(): the value itself
int32_t java_hash_long(int64_t v);  // Long.hashCode(): (int)(v ^ (v >>> 32))

// The key groups subtask `subtask` owns: [ceil(i*maxP/p), floor(((i+1)*maxP - 1)/p)].
// Requires 1 <= parallelism <= max_parallelism and 0 <= subtask < parallelism.
KeyGroupRange range_of_subtask(int32_t max_parallelism, int32_t parallelism, int32_t subtask);

// The subtask owning key group `key_group`: kg * p / maxP (the inverse of range_of_subtask).
// Requires 1 <= parallelism <= max_parallelism and 0 <= key_group < max_parallelism.
int32_t subtask_for_key_group(int32_t max_parallelism, int32_t parallelism, int32_t key_group);

// The maxParallelism Flink picks when the job sets none: 1.5 * p rounded up to a power of two,
// clamped to [128, 32768]. Requires parallelism >= 1 (larger values than Flink accepts clamp to
// 32768).
int32_t default_max_parallelism(int32_t parallelism);

// Bytes of the key-group prefix of every RocksDB key: 1 up to 128 key groups, else 2.
int key_group_prefix_bytes(int32_t max_parallelism);

}  // namespace ckpt::flink
