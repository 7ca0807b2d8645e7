// Walking the state handles of a Metadata: every stream handle with where it sits, and the sizes
// Flink reports for each kind of handle.
//
// This is the single definition of "which bytes does a snapshot hold and where": inspect,
// validate, diff, prune, gc and convert all enumerate files through visit_streams(), so they can
// never disagree about what a snapshot references.
#pragma once

#include <cstdint>
#include <string_view>

#include "flink/model.h"
#include "util/saturating.h"

namespace ckpt::flink {

// What a stream handle is for.
enum class Role : uint8_t {
  kCoordinator,      // operator coordinator state (always inline)
  kManagedOperator,  // delegate of managed operator state
  kRawOperator,      // delegate of raw operator state
  kKeyGroups,        // delegate of a key-grouped keyed snapshot (tags 3, 7, 12)
  kIncrementalMeta,  // RocksDB meta data file (tags 5, 11)
  kShared,           // RocksDB file in the handle's shared list
  kPrivate,          // RocksDB file in the handle's private list
  kChangelog,        // changelog (DSTL) file (tags 10, 13)
  kInputChannel,     // unaligned checkpoint channel state, input side
  kOutputChannel,    // unaligned checkpoint channel state, output side
  kLegacyOperator,   // Flink 1.2 (V1) non-partitionable operator state
};

std::string_view role_name(Role r);

// Which of the four state categories of `ckpt inspect` a role counts towards.
enum class Category : uint8_t { kKeyed, kOperator, kChannel, kCoordinator };
Category category_of(Role r);

struct StreamRef {
  const StreamHandle* handle = nullptr;
  Role role = Role::kKeyGroups;
  int operator_index = -1;
  int subtask_index = -1;              // -1 for coordinator state
  bool raw_keyed = false;              // from the raw (not managed) keyed slot
  Bytes local_path;                    // kShared / kPrivate: the original RocksDB file name
  const KeyedHandle* keyed = nullptr;  // the keyed handle this stream belongs to, if any
};

// Calls `fn(const StreamRef&)` for every non-null leaf stream handle in `md`, in file order:
// handles nested in changelog composites are visited, and a nested key-groups stream handle
// (stream tag 3) is reported through its delegate, never itself. Channel handles of one subtask
// often share one delegate, so a delegate can be visited several times: count files by path.
template <typename Fn>
void visit_streams(const Metadata& md, Fn&& fn);

// The same for one operator, numbered `operator_index` in the StreamRefs (a streamed reading).
template <typename Fn>
void visit_operator_streams(const OperatorState& op, int operator_index, Fn&& fn);

// Sums of sizes read from a file: a corrupt file can hold any int64, so sums saturate instead of
// overflowing (util/saturating.h).
inline int64_t add_sizes(int64_t a, int64_t b) { return util::sat_add(a, b); }

// Bytes held by one stream handle: inline length, recorded file size (0 when unknown: -1), or the
// delegate's size for a nested key-groups handle.
int64_t stream_size(const StreamHandle& h);

// True for handles whose bytes live in a file (tags 2, 6, 15).
inline bool is_file_backed(const StreamHandle& h) {
  return h.tag == stream_tag::kFile || h.tag == stream_tag::kRelativeFile || h.tag == stream_tag::kSegment;
}

// Total state size of a keyed handle as Flink's getStateSize() reports it.
int64_t keyed_state_size(const KeyedHandle& h);

// Bytes newly persisted by this checkpoint, as Flink's getCheckpointedSize() reports it.
int64_t keyed_checkpointed_size(const KeyedHandle& h);

// The key-group range of a keyed handle (empty for null handles).
KeyGroupRange keyed_range(const KeyedHandle& h);

// ---- implementation of the template -------------------------------------------------------

namespace detail {

template <typename Fn>
void visit_stream(const StreamHandle& h, StreamRef ref, Fn& fn) {
  if (h.is_null()) return;
  if (h.tag == stream_tag::kKeyGroups) {
    if (h.key_groups) visit_stream(h.key_groups->delegate, ref, fn);
    return;
  }
  ref.handle = &h;
  fn(static_cast<const StreamRef&>(ref));
}

template <typename Fn>
void visit_keyed(const KeyedHandle& k, StreamRef ref, Fn& fn) {
  ref.keyed = &k;
  if (const auto* kg = std::get_if<KeyGroupsHandle>(&k.body)) {
    ref.role = Role::kKeyGroups;
    visit_stream(kg->delegate, ref, fn);
  } else if (const auto* inc = std::get_if<IncrementalHandle>(&k.body)) {
    ref.role = Role::kIncrementalMeta;
    visit_stream(inc->meta, ref, fn);
    ref.role = Role::kShared;
    for (const auto& ns : inc->shared) {
      ref.local_path = ns.local_path;
      visit_stream(ns.handle, ref, fn);
    }
    ref.role = Role::kPrivate;
    for (const auto& ns : inc->private_files) {
      ref.local_path = ns.local_path;
      visit_stream(ns.handle, ref, fn);
    }
  } else if (const auto* cl = std::get_if<ChangelogHandle>(&k.body)) {
    for (const auto& m : cl->materialized) visit_keyed(m, ref, fn);
    for (const auto& m : cl->non_materialized) visit_keyed(m, ref, fn);
  } else if (const auto* cf = std::get_if<ChangelogFilesHandle>(&k.body)) {
    ref.role = Role::kChangelog;
    for (const auto& os : cf->handles) visit_stream(os.handle, ref, fn);
  }
}

template <typename Fn>
void visit_operator_handle(const OperatorHandle& h, StreamRef ref, Fn& fn) {
  if (!h.is_null()) visit_stream(h.delegate, ref, fn);
}

}  // namespace detail

template <typename Fn>
void visit_operator_streams(const OperatorState& op, int operator_index, Fn&& fn) {
  StreamRef ref;
  ref.operator_index = operator_index;
  ref.role = Role::kCoordinator;
  detail::visit_stream(op.coordinator, ref, fn);
  for (const SubtaskState& s : op.subtasks) {
    if (s.finished) continue;
    StreamRef sr = ref;
    sr.subtask_index = s.index;
    sr.role = Role::kLegacyOperator;
    for (const auto& h : s.legacy_operator_states) detail::visit_stream(h, sr, fn);
    sr.role = Role::kManagedOperator;
    for (const auto& h : s.legacy_managed_chain) detail::visit_operator_handle(h, sr, fn);
    detail::visit_operator_handle(s.managed_operator, sr, fn);
    sr.role = Role::kRawOperator;
    for (const auto& h : s.legacy_raw_chain) detail::visit_operator_handle(h, sr, fn);
    detail::visit_operator_handle(s.raw_operator, sr, fn);
    detail::visit_keyed(s.managed_keyed, sr, fn);
    StreamRef raw = sr;
    raw.raw_keyed = true;
    detail::visit_keyed(s.raw_keyed, raw, fn);
    sr.keyed = nullptr;
    sr.local_path = {};
    sr.role = Role::kInputChannel;
    for (const auto& c : s.input_channels) detail::visit_stream(c.delegate, sr, fn);
    sr.role = Role::kOutputChannel;
    for (const auto& c : s.output_channels) detail::visit_stream(c.delegate, sr, fn);
  }
}

template <typename Fn>
void visit_streams(const Metadata& md, Fn&& fn) {
  for (std::size_t oi = 0; oi < md.operators.size(); ++oi)
    visit_operator_streams(md.operators[oi], static_cast<int>(oi), fn);
}

}  // namespace ckpt::flink
