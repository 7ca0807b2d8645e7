#include "state/snappy_framed.h"

#include <fmt/format.h>
#include <snappy.h>

#include "io/byte_reader.h"
#include "io/checksum.h"

namespace ckpt::state {

namespace {

constexpr std::size_t kMaxChunk = 65536;  // xerial's block size: no chunk holds more

uint32_t le32(std::string_view b) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[0])) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[1])) << 8) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[2])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[3])) << 24);
}

}  // namespace

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
    uint32_t actual = io::crc32c_mask(io::crc32c(std::string_view(out).substr(mark)));
    if (actual != expected) {
      io::ByteReader::fail(at + 4, fmt::format("Snappy chunk checksum 0x{:08X}, expected 0x{:08X}", actual, expected));
    }
  }
  return out;
}

void append_stream_identifier(std::string& out) {
  static constexpr char kStreamIdentifier[] = {'\xff', 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'};
  out.append(kStreamIdentifier, sizeof kStreamIdentifier);
}

void append_chunks(std::string& out, std::string_view data) {
  std::string compressed;
  for (std::size_t at = 0; at < data.size(); at += kMaxChunk) {
    std::string_view block = data.substr(at, kMaxChunk);
    snappy::Compress(block.data(), block.size(), &compressed);
    bool stored = compressed.size() > block.size() * 85 / 100;  // xerial's MIN_COMPRESSION_RATIO
    std::string_view body = stored ? block : std::string_view(compressed);
    uint32_t len = static_cast<uint32_t>(body.size() + 4);
    uint32_t crc = io::crc32c_mask(io::crc32c(block));
    out += static_cast<char>(stored ? 0x01 : 0x00);
    for (int i = 0; i < 3; ++i) out += static_cast<char>((len >> (8 * i)) & 0xFF);  // little-endian
    for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xFF);
    out += body;
  }
}

void append_framed(std::string& out, std::string_view data) {
  append_stream_identifier(out);
  append_chunks(out, data);
}

}  // namespace ckpt::state
