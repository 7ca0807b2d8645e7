#include "ops/state_payloads.h"

#include <fmt/format.h>

#include <algorithm>

#include "flink/operator_id.h"
#include "io/byte_reader.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "io/java_serialization.h"
#include "io/mutf8.h"
#include "util/error.h"

namespace ckpt::ops {

namespace {

StatePayload payload_of(StatePayload::Kind kind, std::size_t op, int32_t subtask, const flink::StreamHandle& stream) {
  StatePayload p;
  p.kind = kind;
  p.operator_index = op;
  p.subtask = subtask;
  p.stream = &stream;
  return p;
}

void add_keyed(const flink::KeyedHandle& h, std::size_t op, int32_t subtask, std::vector<StatePayload>& out) {
  switch (h.tag) {
    case flink::keyed_tag::kKeyGroups:
    case flink::keyed_tag::kSavepointKeyGroups:
    case flink::keyed_tag::kKeyGroupsV2: {
      const auto& kg = std::get<flink::KeyGroupsHandle>(h.body);
      if (kg.delegate.is_null()) return;
      StatePayload p = payload_of(StatePayload::Kind::kKeyGroups, op, subtask, kg.delegate);
      p.key_groups = &kg;
      p.canonical_handle = h.tag == flink::keyed_tag::kSavepointKeyGroups;
      out.push_back(p);
      return;
    }
    case flink::keyed_tag::kIncrementalV1:
    case flink::keyed_tag::kIncrementalV2: {
      const auto& inc = std::get<flink::IncrementalHandle>(h.body);
      if (inc.meta.is_null()) return;
      StatePayload p = payload_of(StatePayload::Kind::kRocksDb, op, subtask, inc.meta);
      p.incremental = &inc;
      out.push_back(p);
      return;
    }
    case flink::keyed_tag::kChangelogV1:
    case flink::keyed_tag::kChangelogV2: {
      // The materialized part is an ordinary keyed handle; the increments are not read.
      for (const flink::KeyedHandle& m : std::get<flink::ChangelogHandle>(h.body).materialized) {
        add_keyed(m, op, subtask, out);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

bool OperatorFilter::matches(const flink::OperatorState& op) const {
  if (!uid.empty() && !flink::uid_names(op, uid)) return false;
  if (!operator_id.empty()) {
    auto id = flink::parse_operator_id(operator_id);
    if (!id || *id != op.id) return false;
  }
  return true;
}

std::vector<StatePayload> state_payloads(const flink::Metadata& md, const OperatorFilter& filter) {
  std::vector<StatePayload> out;
  for (std::size_t i = 0; i < md.operators.size(); ++i) {
    const flink::OperatorState& op = md.operators[i];
    if (!filter.matches(op)) continue;
    for (const flink::SubtaskState& s : op.subtasks) {
      add_keyed(s.managed_keyed, i, s.index, out);
      if (const auto* raw = std::get_if<flink::KeyGroupsHandle>(&s.raw_keyed.body); raw && !raw->delegate.is_null()) {
        StatePayload p = payload_of(StatePayload::Kind::kRawKeyed, i, s.index, raw->delegate);
        p.key_groups = raw;
        out.push_back(p);
      }
      for (const flink::StreamHandle& h : s.legacy_operator_states) {
        if (!h.is_null()) out.push_back(payload_of(StatePayload::Kind::kLegacy, i, s.index, h));
      }
      if (!s.managed_operator.is_null() && !s.managed_operator.delegate.is_null()) {
        StatePayload p = payload_of(StatePayload::Kind::kOperator, i, s.index, s.managed_operator.delegate);
        p.operator_handle = &s.managed_operator;
        out.push_back(p);
      }
    }
  }
  return out;
}

std::vector<state::PartitionOffsets> partition_offsets(const flink::OperatorHandle& h) {
  std::vector<state::PartitionOffsets> parts;
  for (const flink::OperatorStateEntry& e : h.states) {
    state::PartitionOffsets po;
    po.name = io::lenient_mutf8_to_utf8(e.name);
    for (std::size_t i = 0; i < e.offsets.size(); ++i) po.offsets.push_back(e.offsets[i]);
    parts.push_back(std::move(po));
  }
  return parts;
}

state::KeyedPayload keyed_payload(const flink::Metadata& md, const StatePayload& p, std::string_view bytes) {
  state::KeyedPayload kp;
  kp.bytes = bytes;
  kp.key_group_start = p.key_groups->range.start;
  for (std::size_t i = 0; i < p.key_groups->offsets.size(); ++i) kp.offsets.push_back(p.key_groups->offsets[i]);
  kp.max_parallelism = md.operators[p.operator_index].max_parallelism;
  kp.canonical_handle = p.canonical_handle;
  return kp;
}

LegacyOperatorState read_legacy_operator_state(std::string_view bytes) {
  io::ByteReader r(bytes);
  LegacyOperatorState out;
  uint8_t flag = r.u8("legacy function state flag");
  if (flag > 1) io::ByteReader::fail(0, fmt::format("legacy function state flag is {}, expected 0 or 1", flag));
  out.present = flag == 1;
  if (out.present) {
    io::java::ObjectTree tree;
    try {
      tree = io::java::parse_first_object(r.rest());
    } catch (const io::DecodeError& e) {
      io::ByteReader::fail(1 + e.offset(), "legacy function state (Java-serialized): " + e.message());
    }
    out.function = r.bytes(tree.length, "legacy function state");
  }
  out.operator_bytes = r.rest();
  return out;
}

std::optional<std::string> not_flink_format(std::string_view payload) {
  std::string_view magic = payload.substr(0, 4);
  if (magic != "CKKS" && magic != "CKOS") return std::nullopt;
  return fmt::format("a{} snapshot in ckpt run's own {} format, not Flink's: its entries are not decoded",
                     magic == "CKKS" ? " keyed" : "n operator", magic);
}

std::string payload_where(const flink::Metadata& md, const StatePayload& p) {
  const flink::OperatorState& op = md.operators[p.operator_index];
  std::string uid = io::lenient_mutf8_to_utf8(op.uid);
  return fmt::format("operator {}{} subtask {}", flink::to_hex(op.id), uid.empty() ? "" : " (uid " + uid + ")",
                     p.subtask);
}

std::string read_file_range(const io::ReadScope& scope, const std::string& path, int64_t start, int64_t size) {
  if (start < 0 || size < 0) {
    throw util::Error(util::ErrorKind::kInput,
                      fmt::format("{}: a segment [{}, +{}) with a negative bound", path, start, size));
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(std::min<int64_t>(size, int64_t{1} << 30)));
  io::read_range(scope, path, static_cast<uint64_t>(start), static_cast<uint64_t>(size),
                 [&](std::string_view piece) { out.append(piece); });
  return out;
}

std::string read_payload_bytes(const flink::StreamHandle& h, const std::filesystem::path& snapshot_dir,
                               const std::vector<snapshot::PathMapping>& mappings, const io::ReadScope& scope,
                               std::string* label) {
  if (h.tag == flink::stream_tag::kByteStream) {
    if (label) *label = "<inline in _metadata>";
    return std::string(h.data);
  }
  std::string written = io::lenient_mutf8_to_utf8(h.name);
  std::string local;
  if (h.tag == flink::stream_tag::kRelativeFile) {
    local = snapshot::local_of_relative(written, snapshot_dir);
  } else if (h.tag == flink::stream_tag::kFile || h.tag == flink::stream_tag::kSegment) {
    auto resolved = snapshot::local_of_absolute(written, mappings);
    if (!resolved) {
      throw io::IoError(fmt::format("{}: a remote file; name a local copy with --map PREFIX=DIR", written));
    }
    local = *resolved;
  } else {
    throw util::Error(util::ErrorKind::kInput, fmt::format("stream handle tag {} holds no state bytes", h.tag));
  }
  if (label) *label = local;
  if (h.tag == flink::stream_tag::kSegment) return read_file_range(scope, local, h.start, h.size);
  io::ConfinedFile f = scope.open(local);
  return read_file_range(scope, local, 0, static_cast<int64_t>(f.size));
}

}  // namespace ckpt::ops
