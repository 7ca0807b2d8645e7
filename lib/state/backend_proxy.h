// The serialization proxies at the start of every keyed and operator state payload (state spec
// §4): which states a payload holds, their kinds, options and serializers. Every version Flink has
// written is read: keyed proxy 1–6, operator proxy 1–6, state meta info versions 1–7.
//
// Contract: read_keyed_proxy / read_operator_proxy read from the start of `payload` and return
// where the proxy ended (`length`); errors are io::DecodeError at an offset counted from the
// payload's first byte plus `base` (the payload's offset in its file).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "state/type.h"

namespace ckpt::state {

// StateMetaInfoSnapshot.BackendStateType, by its ordinal on disk.
enum class BackendStateType : int32_t {
  kKeyValue = 0,
  kOperator = 1,
  kBroadcast = 2,
  kPriorityQueue = 3,
  kKeyValueV2 = 4,
};

struct StateMeta {
  std::string name;
  BackendStateType backend = BackendStateType::kKeyValue;
  std::map<std::string, std::string> options;  // KEYED_STATE_TYPE, OPERATOR_STATE_DISTRIBUTION_MODE
  // The serializers by Flink's keys: VALUE_SERIALIZER, NAMESPACE_SERIALIZER, KEY_SERIALIZER
  // (broadcast state), USER_KEY_SERIALIZER (state V2 maps).
  std::map<std::string, Type> serializers;

  // "VALUE", "LIST", "MAP", "REDUCING", "AGGREGATING", "FOLDING" for keyed state; "" otherwise.
  std::string keyed_kind() const;
  // "SPLIT_DISTRIBUTE", "UNION", "BROADCAST" for operator state; "" otherwise.
  std::string distribution() const;
  // The serializer under `key`; nullptr when absent.
  const Type* serializer(std::string_view key) const;
};

struct KeyedProxy {
  int32_t version = 0;
  bool compressed = false;
  Type key;
  std::vector<StateMeta> states;  // index = kvStateId
  uint64_t length = 0;            // bytes of the proxy
};

struct OperatorProxy {
  int32_t version = 0;
  bool compressed = false;
  std::vector<StateMeta> states;     // list and union states
  std::vector<StateMeta> broadcast;  // broadcast states (proxy version >= 3)
  // Bytes before the state data: the proxy, plus Flink <= 1.4's extra i32 state count.
  uint64_t length = 0;
};

KeyedProxy read_keyed_proxy(std::string_view payload, uint64_t base = 0);
OperatorProxy read_operator_proxy(std::string_view payload, uint64_t base = 0);

// "KEY_VALUE", "OPERATOR", "BROADCAST", "PRIORITY_QUEUE", "KEY_VALUE_V2".
std::string_view backend_state_type_name(BackendStateType t);

}  // namespace ckpt::state
