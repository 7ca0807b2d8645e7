// Building models by hand: for the bundled pipeline, for synthetic test and benchmark snapshots,
// and for editors (convert, compact) that create new handles.
//
// Every string and array is interned into the Metadata's storage, so built models obey the same
// contract as parsed ones (views into Metadata::storage). Strings are given as UTF-8 and stored as
// modified UTF-8. The builder emits what current Flink emits (spec §16): tag 12 key-group handles,
// tag 11 incremental handles, presence flags of 1, ascending subtasks.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "flink/model.h"

namespace ckpt::flink {

class Builder {
 public:
  explicit Builder(Metadata& md) : md_(md) {}

  Bytes str(std::string_view utf8);
  I64Array offsets(std::span<const int64_t> values);

  StreamHandle inline_bytes(std::string_view name, std::string_view data);
  StreamHandle file(std::string_view flink_path, int64_t size);
  StreamHandle relative_file(std::string_view name, int64_t size);

  KeyedHandle key_groups(KeyGroupRange range, std::span<const int64_t> offsets, StreamHandle delegate,
                         std::string_view handle_id, int8_t tag = keyed_tag::kKeyGroupsV2);
  KeyedHandle incremental(int64_t checkpoint_id, std::string_view backend_id, KeyGroupRange range,
                          int64_t checkpointed_size, StreamHandle meta, std::vector<NamedStream> shared,
                          std::vector<NamedStream> private_files, std::string_view handle_id);
  NamedStream named(std::string_view local_path, StreamHandle h);

  OperatorStateEntry operator_state_entry(std::string_view name, DistributionMode mode,
                                          std::span<const int64_t> offsets);
  OperatorHandle operator_handle(std::vector<OperatorStateEntry> states, StreamHandle delegate);

 private:
  Metadata& md_;
};

// A random UUID in canonical lowercase form, as Flink names state files and handle ids.
std::string random_uuid(std::mt19937_64& rng);

}  // namespace ckpt::flink
