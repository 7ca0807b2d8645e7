// Operator state payloads (state spec §8.1): list, union and broadcast states, addressed by the
// partition offsets `_metadata` records for each state.
//
// Contract: walk_operator_payload yields every list element and every broadcast map entry, in
// offset order. List elements are delimited by the offsets alone (an element ends where the next
// offset of any state begins), so an element of a type ckpt cannot decode still comes out as
// bytes. A broadcast map must be decoded to be split into entries: a map that does not parse is
// reported through `problem` and skipped. Compressed payloads (operator proxy 6) are decompressed
// once, their offsets mapped from chunk boundaries to uncompressed positions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "state/backend_proxy.h"
#include "state/keyed_payload.h"

namespace ckpt::state {

// One state of an operator state handle, as `_metadata` records it.
struct PartitionOffsets {
  std::string name;
  std::vector<int64_t> offsets;  // relative to the payload
};

struct OperatorRecord {
  const StateMeta* meta = nullptr;  // nullptr: the proxy does not list the state
  std::string_view name;
  int32_t index = 0;  // element index in the list, entry index in the map
  Slice element;      // list and union states
  Slice key;          // broadcast states
  Slice value;        // broadcast states
};

struct OperatorProblem {
  std::string state;
  uint64_t offset = 0;
  std::string message;
};

struct OperatorVisitor {
  std::function<void(const OperatorRecord&)> record;
  std::function<void(const OperatorProblem&)> problem;
};

void walk_operator_payload(std::string_view payload, uint64_t base, const OperatorProxy& proxy,
                           const std::vector<PartitionOffsets>& states, const OperatorVisitor& v);

}  // namespace ckpt::state
