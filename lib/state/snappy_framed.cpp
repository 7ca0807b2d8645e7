#include "state/snappy_framed.h"

#include <fmt/format.h>
#include <snappy.h>

#include <array>

#include "io/byte_reader.h"

namespace ckpt::state {

namespace {

constexpr std::size_t kMaxChunk = 65536;  // xerial's block size: no chunk holds more

constexpr auto kCrcTable = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}();

uint32_t le32(std::string_view b) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[0])) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[1])) << 8) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[2])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[3])) << 24);
}

}  // namespace

uint32_t crc32c(std::string_view bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return ~c;
}

uint32_t masked_crc32c(std::string_view bytes) {
  uint32_t c = crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

std::string decompress_framed(std::string_view bytes, uint64_t base, ChunkBoundaries* boundaries) {
  std::string out;
  io::ByteReader r(bytes, base);
  bool started = false;
  while (!r.at_end()) {
    uint64_t at = r.offset();
    uint64_t chunk_pos = r.pos();
    uint8_t type = r.u8("Snappy chunk type");
    std::string_view len_bytes = r.bytes(3, "Snappy chunk length");
    uint32_t len = static_cast<uint32_t>(static_cast<unsigned char>(len_bytes[0])) |
                   (static_cast<uint32_t>(static_cast<unsigned char>(len_bytes[1])) << 8) |
                   (static_cast<uint32_t>(static_cast<unsigned char>(len_bytes[2])) << 16);
    std::string_view body = r.bytes(len, "Snappy chunk");
    if (boundaries != nullptr) boundaries->emplace_back(chunk_pos, out.size());
    if (type == 0xFF) {
      if (body != std::string_view("sNaPpY")) io::ByteReader::fail(at, "Snappy stream identifier is not \"sNaPpY\"");
      started = true;
      continue;
    }
    if (!started)
      io::ByteReader::fail(at, fmt::format("Snappy chunk type 0x{:02X} before the stream identifier", type));
    if (type >= 0x80) continue;  // skippable
    if (type > 0x01) io::ByteReader::fail(at, fmt::format("Snappy chunk type 0x{:02X} is reserved", type));
    if (body.size() < 4)
      io::ByteReader::fail(at, fmt::format("Snappy data chunk of {} bytes, expected >= 4", body.size()));
    uint32_t expected = le32(body);
    std::string_view data = body.substr(4);
    std::size_t mark = out.size();
    if (type == 0x01) {
      if (data.size() > kMaxChunk)
        io::ByteReader::fail(at,
                             fmt::format("uncompressed Snappy chunk of {} bytes, limit {}", data.size(), kMaxChunk));
      out.append(data);
    } else {
      std::size_t n = 0;
      if (!snappy::GetUncompressedLength(data.data(), data.size(), &n)) {
        io::ByteReader::fail(at + 8, "Snappy block: unreadable uncompressed length");
      }
      if (n > kMaxChunk)
        io::ByteReader::fail(at + 8, fmt::format("Snappy block of {} uncompressed bytes, limit {}", n, kMaxChunk));
      out.resize(mark + n);
      if (!snappy::RawUncompress(data.data(), data.size(), out.data() + mark)) {
        io::ByteReader::fail(at + 8, "Snappy block does not decompress");
      }
    }
    uint32_t actual = masked_crc32c(std::string_view(out).substr(mark));
    if (actual != expected) {
      io::ByteReader::fail(at + 4, fmt::format("Snappy chunk checksum 0x{:08X}, expected 0x{:08X}", actual, expected));
    }
  }
  return out;
}

}  // namespace ckpt::state
