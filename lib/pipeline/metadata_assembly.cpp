#include "pipeline/metadata_assembly.h"

#include <map>
#include <random>

#include "flink/builder.h"
#include "flink/checkpoint_properties.h"
#include "flink/operator_id.h"
#include "pipeline/job_params.h"

namespace ckpt::pipeline {

namespace {

flink::StreamHandle stream_of(flink::Builder& b, const PersistedStream& s) {
  switch (s.kind) {
    case PersistedStream::Kind::kNone:
      return {};
    case PersistedStream::Kind::kInline:
      return b.inline_bytes(s.name, s.data);
    case PersistedStream::Kind::kFile:
      return b.relative_file(s.name, s.size);
    case PersistedStream::Kind::kAbsoluteFile:
      return b.file(s.name, s.size);
  }
  return {};
}

}  // namespace

flink::Metadata assemble_metadata(const AssemblyInput& in) {
  flink::Metadata md;
  md.version = in.version;
  md.checkpoint_id = in.checkpoint_id;
  flink::Builder b(md);
  std::mt19937_64 rng{std::random_device{}()};

  flink::MasterState master;
  master.version = 1;
  master.name = b.str(kJobMasterStateName);
  master.payload = md.intern(in.job_params);
  md.masters.push_back(master);

  // (uid, subtask) -> result
  std::map<std::pair<std::string, int32_t>, const OperatorSubtaskResult*> results;
  for (const auto& ack : in.acks) {
    for (const auto& r : ack.operators) results[{r.uid, r.subtask}] = &r;
  }

  for (const auto& layout : in.operators) {
    flink::OperatorState op;
    op.id = flink::operator_id_from_uid(layout.uid);
    if (in.version >= 5) {
      op.uid = b.str(layout.uid);
      op.name = b.str(layout.name);
    }
    op.parallelism = layout.parallelism;
    op.max_parallelism = layout.max_parallelism;
    if (!layout.coordinator_state.empty())
      op.coordinator = b.inline_bytes(flink::to_hex(op.id), layout.coordinator_state);
    for (int32_t i = 0; i < layout.parallelism; ++i) {
      auto it = results.find({layout.uid, i});
      if (it == results.end()) continue;
      const OperatorSubtaskResult& r = *it->second;
      flink::SubtaskState s;
      s.index = i;
      if (r.operator_state && r.operator_state->stream.kind != PersistedStream::Kind::kNone) {
        std::vector<flink::OperatorStateEntry> entries;
        for (const auto& e : r.operator_state->entries)
          entries.push_back(b.operator_state_entry(e.name, e.mode, e.offsets));
        s.managed_operator_flag = 1;
        s.managed_operator = b.operator_handle(std::move(entries), stream_of(b, r.operator_state->stream));
      }
      if (r.keyed && r.keyed->native) {
        const NativeKeyedResult& n = *r.keyed->native;
        std::vector<flink::NamedStream> shared, private_files;
        for (const auto& [name, st] : n.shared) shared.push_back(b.named(name, stream_of(b, st)));
        for (const auto& [name, st] : n.private_files) private_files.push_back(b.named(name, stream_of(b, st)));
        s.managed_keyed =
            b.incremental(n.checkpoint_id, n.backend_id, r.keyed->range, n.checkpointed_size, stream_of(b, n.meta),
                          std::move(shared), std::move(private_files), flink::random_uuid(rng));
      } else if (r.keyed && r.keyed->stream.kind != PersistedStream::Kind::kNone) {
        // Canonical savepoints: tag 7 without an id; checkpoints and native savepoints of the
        // hashmap backend (spec §12.3): tag 12.
        bool canonical = in.savepoint && in.properties.format == flink::CheckpointProperties::Format::kCanonical;
        s.managed_keyed =
            b.key_groups(r.keyed->range, r.keyed->offsets, stream_of(b, r.keyed->stream),
                         canonical ? std::string() : flink::random_uuid(rng),
                         canonical ? flink::keyed_tag::kSavepointKeyGroups : flink::keyed_tag::kKeyGroupsV2);
      }
      if (r.raw_keyed && r.raw_keyed->stream.kind != PersistedStream::Kind::kNone) {
        s.raw_keyed = b.key_groups(r.raw_keyed->range, r.raw_keyed->offsets, stream_of(b, r.raw_keyed->stream),
                                   flink::random_uuid(rng), flink::keyed_tag::kKeyGroupsV2);
      }
      for (const auto& c : r.channels) {
        flink::ChannelHandle h;
        // Version 6 names each handle's direction (one channel each: not merged); 3 to 5 do not.
        if (in.version >= 6) {
          h.type = c.input ? flink::channel_type::kInput : flink::channel_type::kOutput;
        } else {
          h.type = c.input ? flink::channel_type::kUntypedInput : flink::channel_type::kUntypedOutput;
        }
        h.has_subtask_index = true;
        h.subtask_index = i;
        h.state_size = c.size;
        h.delegate = stream_of(b, c.stream);
        flink::ChannelInfo info;
        info.a = c.a;
        info.b = c.b;
        info.state_size = c.size;
        info.offsets = b.offsets(c.offsets);
        h.channels.push_back(info);
        (c.input ? s.input_channels : s.output_channels).push_back(std::move(h));
      }
      op.subtasks.push_back(std::move(s));
    }
    md.operators.push_back(std::move(op));
  }
  md.properties = in.properties;
  md.trailer = md.intern(flink::encode_properties_trailer(in.properties));
  md.trailer_state = flink::TrailerState::kParsed;
  return md;
}

}  // namespace ckpt::pipeline
