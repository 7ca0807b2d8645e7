#include "pipeline/channel_state.h"

#include <fmt/format.h>

#include "io/byte_reader.h"
#include "io/byte_writer.h"
#include "pipeline/state_format.h"

namespace ckpt::pipeline {

namespace {

// Appends a channel's entries to `file`, returning their offsets.
std::vector<int64_t> append_entries(std::string& file, const std::vector<Record>& records) {
  std::vector<int64_t> offsets;
  io::ByteWriter w(file);
  for (std::size_t i = 0; i < records.size(); i += kBufferRecords) {
    std::size_t n = std::min(kBufferRecords, records.size() - i);
    std::string buf = serialize_buffer(std::span<const Record>(records.data() + i, n));
    offsets.push_back(static_cast<int64_t>(file.size()));
    w.i32(static_cast<int32_t>(buf.size()));
    w.bytes(buf);
  }
  return offsets;
}

}  // namespace

std::vector<ChannelResult> persist_channel_state(const SnapshotLocation& loc,
                                                 const std::vector<CapturedChannel>& channels, std::string_view what) {
  std::vector<ChannelResult> out;
  std::string file;
  io::ByteWriter(file).i32(0);
  for (const auto& c : channels) {
    if (c.records.empty()) continue;
    ChannelResult r;
    r.input = c.input;
    r.a = c.a;
    r.b = c.b;
    std::size_t before = file.size();
    r.offsets = append_entries(file, c.records);
    r.size = static_cast<int64_t>(file.size() - before);
    out.push_back(std::move(r));
  }
  if (out.empty()) return out;
  PersistedStream whole = persist(loc, file, what);
  if (whole.kind == PersistedStream::Kind::kFile) {
    for (auto& r : out) r.stream = whole;
    return out;
  }
  // Inline: one chunk per channel.
  std::size_t k = 0;
  for (const auto& c : channels) {
    if (c.records.empty()) continue;
    std::string own;
    io::ByteWriter(own).i32(0);
    out[k].offsets = append_entries(own, c.records);
    out[k].stream = persist(loc, own, what);
    ++k;
  }
  return out;
}

void read_channel_state(std::string_view file, const flink::I64Array& offsets, int32_t max_parallelism,
                        std::vector<Record>& out) {
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    int64_t off = offsets[i];
    if (off < 0 || static_cast<uint64_t>(off) >= file.size()) {
      io::ByteReader::fail(0, fmt::format("channel state offset {} is outside the {}-byte file", off, file.size()));
    }
    io::ByteReader r(file.substr(static_cast<std::size_t>(off)), static_cast<uint64_t>(off));
    int32_t len = r.count("channel state entry length", 1);
    deserialize_buffer(r.bytes(static_cast<uint64_t>(len), "channel state entry"), out, max_parallelism);
  }
}

}  // namespace ckpt::pipeline
