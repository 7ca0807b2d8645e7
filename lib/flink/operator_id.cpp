#include "flink/operator_id.h"

#include "io/mutf8.h"

#include <cstdint>

namespace ckpt::flink {
namespace {

constexpr uint64_t kC1 = 0x87C37B91114253D5ULL;
constexpr uint64_t kC2 = 0x4CF5AD432745937FULL;

constexpr uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

constexpr uint64_t fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDULL;
  k ^= k >> 33;
  k *= 0xC4CEB9FE1A85EC53ULL;
  k ^= k >> 33;
  return k;
}

constexpr uint64_t mix_k1(uint64_t k1) { return rotl(k1 * kC1, 31) * kC2; }
constexpr uint64_t mix_k2(uint64_t k2) { return rotl(k2 * kC2, 33) * kC1; }

// Little-endian load of `n` <= 8 bytes, independent of the host's byte order.
uint64_t load_le(const unsigned char* p, std::size_t n) {
  uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

void store_le(uint64_t v, uint8_t* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

OperatorId operator_id_from_uid(std::string_view uid_utf8) {
  const auto* data = reinterpret_cast<const unsigned char*>(uid_utf8.data());
  const std::size_t len = uid_utf8.size();
  const std::size_t blocks = len / 16;
  uint64_t h1 = 0;  // seed 0
  uint64_t h2 = 0;

  for (std::size_t i = 0; i < blocks; ++i) {
    h1 ^= mix_k1(load_le(data + 16 * i, 8));
    h1 = (rotl(h1, 27) + h2) * 5 + 0x52DCE729;
    h2 ^= mix_k2(load_le(data + 16 * i + 8, 8));
    h2 = (rotl(h2, 31) + h1) * 5 + 0x38495AB5;
  }

  // The 1..15 trailing bytes: the first 8 feed k1, the rest k2; each is mixed only if non-empty.
  const unsigned char* tail = data + 16 * blocks;
  const std::size_t rest = len % 16;
  if (rest > 8) h2 ^= mix_k2(load_le(tail + 8, rest - 8));
  if (rest > 0) h1 ^= mix_k1(load_le(tail, rest < 8 ? rest : 8));

  h1 ^= len;
  h2 ^= len;
  h1 += h2;
  h2 += h1;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 += h2;
  h2 += h1;

  OperatorId id{};
  store_le(h1, id.data());
  store_le(h2, id.data() + 8);
  return id;
}

std::string to_hex(const OperatorId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * id.size());
  for (uint8_t b : id) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

std::optional<OperatorId> parse_operator_id(std::string_view hex) {
  OperatorId id{};
  if (hex.size() != 2 * id.size()) return std::nullopt;
  for (std::size_t i = 0; i < id.size(); ++i) {
    int hi = hex_digit(hex[2 * i]);
    int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

bool uid_names(const OperatorState& op, std::string_view uid_utf8) {
  if (!op.uid.empty() && io::lenient_mutf8_to_utf8(op.uid) == uid_utf8) return true;
  return operator_id_from_uid(uid_utf8) == op.id;
}

}  // namespace ckpt::flink
