#include "flink/handles.h"

namespace ckpt::flink {

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kCoordinator:
      return "coordinator";
    case Role::kManagedOperator:
      return "operator";
    case Role::kRawOperator:
      return "raw-operator";
    case Role::kKeyGroups:
      return "keyed";
    case Role::kIncrementalMeta:
      return "rocksdb-meta";
    case Role::kShared:
      return "rocksdb-shared";
    case Role::kPrivate:
      return "rocksdb-private";
    case Role::kChangelog:
      return "changelog";
    case Role::kInputChannel:
      return "input-channel";
    case Role::kOutputChannel:
      return "output-channel";
    case Role::kLegacyOperator:
      return "legacy-operator";
  }
  return "?";
}

Category category_of(Role r) {
  switch (r) {
    case Role::kCoordinator:
      return Category::kCoordinator;
    case Role::kManagedOperator:
    case Role::kRawOperator:
    case Role::kLegacyOperator:
      return Category::kOperator;
    case Role::kInputChannel:
    case Role::kOutputChannel:
      return Category::kChannel;
    default:
      return Category::kKeyed;
  }
}

int64_t stream_size(const StreamHandle& h) {
  switch (h.tag) {
    case stream_tag::kByteStream:
      return static_cast<int64_t>(h.data.size());
    case stream_tag::kFile:
    case stream_tag::kRelativeFile:
    case stream_tag::kSegment:
      return h.size < 0 ? 0 : h.size;
    case stream_tag::kKeyGroups:
      return h.key_groups ? stream_size(h.key_groups->delegate) : 0;
    default:
      return 0;
  }
}

int64_t keyed_state_size(const KeyedHandle& h) {
  if (const auto* kg = std::get_if<KeyGroupsHandle>(&h.body)) return stream_size(kg->delegate);
  if (const auto* inc = std::get_if<IncrementalHandle>(&h.body)) {
    int64_t total = stream_size(inc->meta);
    for (const auto& ns : inc->shared) total = add_sizes(total, stream_size(ns.handle));
    for (const auto& ns : inc->private_files) total = add_sizes(total, stream_size(ns.handle));
    return total;
  }
  if (const auto* cl = std::get_if<ChangelogHandle>(&h.body)) {
    int64_t total = 0;
    for (const auto& m : cl->materialized) total = add_sizes(total, keyed_state_size(m));
    for (const auto& m : cl->non_materialized) total = add_sizes(total, keyed_state_size(m));
    return total;
  }
  if (const auto* cb = std::get_if<ChangelogBytesHandle>(&h.body)) {
    int64_t total = 0;
    for (const auto& c : cb->changes) total = add_sizes(total, static_cast<int64_t>(c.data.size()));
    return total;
  }
  if (const auto* cf = std::get_if<ChangelogFilesHandle>(&h.body)) return cf->state_size;
  return 0;
}

int64_t keyed_checkpointed_size(const KeyedHandle& h) {
  switch (h.tag) {
    case keyed_tag::kIncrementalV2:
      return std::get<IncrementalHandle>(h.body).checkpointed_size;
    case keyed_tag::kChangelogV1:
    case keyed_tag::kChangelogV2:
      return std::get<ChangelogHandle>(h.body).checkpointed_size;
    case keyed_tag::kChangelogFilesV1:
    case keyed_tag::kChangelogFilesV2:
      return std::get<ChangelogFilesHandle>(h.body).checkpointed_size;
    default:
      return keyed_state_size(h);  // Flink substitutes the full size where none is recorded
  }
}

KeyGroupRange keyed_range(const KeyedHandle& h) {
  return std::visit(
      [](const auto& b) -> KeyGroupRange {
        if constexpr (requires { b.range; }) {
          return b.range;
        } else {
          return {};
        }
      },
      h.body);
}

}  // namespace ckpt::flink
