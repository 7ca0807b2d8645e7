#include "flink/builder.h"

#include <fmt/format.h>

#include "io/byte_writer.h"
#include "io/mutf8.h"

namespace ckpt::flink {

Bytes Builder::str(std::string_view utf8) {
  if (utf8.empty()) return {};
  if (io::is_plain_ascii(utf8)) return md_.intern(std::string(utf8));
  return md_.intern(io::utf8_to_mutf8(utf8));
}

I64Array Builder::offsets(std::span<const int64_t> values) {
  if (values.empty()) return {};
  std::string raw;
  raw.reserve(values.size() * 8);
  io::ByteWriter w(raw);
  for (int64_t v : values) w.i64(v);
  return I64Array(md_.intern(std::move(raw)));
}

StreamHandle Builder::inline_bytes(std::string_view name, std::string_view data) {
  StreamHandle h;
  h.tag = stream_tag::kByteStream;
  h.name = str(name);
  h.data = md_.intern(std::string(data));
  return h;
}

StreamHandle Builder::file(std::string_view flink_path, int64_t size) {
  StreamHandle h;
  h.tag = stream_tag::kFile;
  h.name = str(flink_path);
  h.size = size;
  return h;
}

StreamHandle Builder::relative_file(std::string_view name, int64_t size) {
  StreamHandle h;
  h.tag = stream_tag::kRelativeFile;
  h.name = str(name);
  h.size = size;
  return h;
}

KeyedHandle Builder::key_groups(KeyGroupRange range, std::span<const int64_t> offs, StreamHandle delegate,
                                std::string_view handle_id, int8_t tag) {
  KeyGroupsHandle k;
  k.range = range;
  k.offsets = offsets(offs);
  k.delegate = std::move(delegate);
  if (tag == keyed_tag::kKeyGroupsV2) k.handle_id = str(handle_id);
  KeyedHandle h;
  h.tag = tag;
  h.body = std::move(k);
  return h;
}

KeyedHandle Builder::incremental(int64_t checkpoint_id, std::string_view backend_id, KeyGroupRange range,
                                 int64_t checkpointed_size, StreamHandle meta, std::vector<NamedStream> shared,
                                 std::vector<NamedStream> private_files, std::string_view handle_id) {
  IncrementalHandle k;
  k.checkpoint_id = checkpoint_id;
  k.backend_id = str(backend_id);
  k.range = range;
  k.checkpointed_size = checkpointed_size;
  k.meta = std::move(meta);
  k.shared = std::move(shared);
  k.private_files = std::move(private_files);
  k.handle_id = str(handle_id);
  KeyedHandle h;
  h.tag = keyed_tag::kIncrementalV2;
  h.body = std::move(k);
  return h;
}

NamedStream Builder::named(std::string_view local_path, StreamHandle h) {
  return NamedStream{str(local_path), std::move(h)};
}

OperatorStateEntry Builder::operator_state_entry(std::string_view name, DistributionMode mode,
                                                 std::span<const int64_t> offs) {
  return OperatorStateEntry{str(name), static_cast<int8_t>(mode), offsets(offs)};
}

OperatorHandle Builder::operator_handle(std::vector<OperatorStateEntry> states, StreamHandle delegate) {
  OperatorHandle h;
  h.tag = operator_tag::kStream;
  h.states = std::move(states);
  h.delegate = std::move(delegate);
  return h;
}

std::string random_uuid(std::mt19937_64& rng) {
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // IETF variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                     lo & 0xFFFFFFFFFFFFull);
}

}  // namespace ckpt::flink
