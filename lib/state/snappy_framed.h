// Flink's snapshot compression (state spec §9): xerial's Snappy framing format, chunks of at most
// 64 KiB, with no end marker (the extent comes from the key-group or partition offsets).
//
// Contract: decompress_framed reads `bytes` to its end as one or more concatenated framed streams
// and returns the uncompressed data; chunk boundaries (offsets into `bytes` where a chunk starts,
// of any type, with the uncompressed position it starts at, in order) are reported through
// `boundaries` when given, for operator state whose offsets point at chunks. Checksums are verified (Flink does not; a
// mismatch is corruption all the same). Errors are io::DecodeError at `base` + the chunk's offset;
// an uncompressed length is checked against the 64 KiB chunk limit before allocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ckpt::state {

// (offset of a chunk in the compressed bytes, its first byte's position in the output)
using ChunkBoundaries = std::vector<std::pair<uint64_t, uint64_t>>;

std::string decompress_framed(std::string_view bytes, uint64_t base, ChunkBoundaries* boundaries = nullptr);

// Appends `data` to `out` as one framed stream, as xerial's SnappyFramedOutputStream writes it
// for Flink: the stream identifier, then a chunk per 64 KiB block, compressed (type 0) unless the
// compressed block would exceed 85 % of its input (type 1, stored), each with the masked CRC32C
// of its uncompressed bytes.
void append_framed(std::string& out, std::string_view data);

// The same in two steps, for a stream flushed at chosen points (Flink's operator state flushes it
// before every element, so that each element starts a chunk): the stream identifier once, then
// the chunks of each piece.
void append_stream_identifier(std::string& out);
void append_chunks(std::string& out, std::string_view data);

}  // namespace ckpt::state
