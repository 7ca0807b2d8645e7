#include "io/checksum.h"

#define XXH_STATIC_LINKING_ONLY  // the state's layout, to hold it by value
#include <xxhash.h>

namespace ckpt::io {
namespace {

static_assert(sizeof(XXH64_state_t) <= 88 && alignof(XXH64_state_t) <= 8, "Xxh64::state_ must hold an XXH64_state_t");

}  // namespace

Xxh64::Xxh64(uint64_t seed) { XXH64_reset(reinterpret_cast<XXH64_state_t*>(state_), seed); }

void Xxh64::update(std::string_view bytes) {
  XXH64_update(reinterpret_cast<XXH64_state_t*>(state_), bytes.data(), bytes.size());
}

uint64_t Xxh64::digest() const { return XXH64_digest(reinterpret_cast<const XXH64_state_t*>(state_)); }

uint64_t xxh64(std::string_view bytes, uint64_t seed) { return XXH64(bytes.data(), bytes.size(), seed); }

}  // namespace ckpt::io
