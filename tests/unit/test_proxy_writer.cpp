// state/proxy_writer: what it writes reads back through state/backend_proxy, and is Flink's own
// bytes (a real RocksDB meta file of the fixtures, written again byte for byte).
#include <doctest/doctest.h>

#include <filesystem>

#include "fixtures.h"
#include "io/file_bytes.h"
#include "state/backend_proxy.h"
#include "state/proxy_writer.h"
#include "util/error.h"

using namespace ckpt;

TEST_CASE("keyed proxy: written states read back with their kinds and serializers") {
  std::vector<state::StateMetaSpec> states = {
      state::keyed_state("counts", "VALUE", state::long_serializer(), state::void_namespace_serializer()),
      state::keyed_state("window-contents", "LIST", state::list_serializer(state::string_serializer()),
                         state::time_window_serializer()),
      state::keyed_state("übersicht", "MAP", state::map_serializer(state::string_serializer(), state::int_serializer()),
                         state::void_namespace_serializer()),
      state::priority_queue_state("_timer_state/event_window-timers",
                                  state::timer_serializer(state::string_serializer(), state::time_window_serializer())),
  };
  std::string bytes = state::write_keyed_proxy(false, state::string_serializer(), states);
  bytes += "state data after the proxy";
  state::KeyedProxy p = state::read_keyed_proxy(bytes);
  CHECK(p.version == 6);
  CHECK_FALSE(p.compressed);
  CHECK(p.length == bytes.size() - std::string_view("state data after the proxy").size());
  CHECK(p.key.kind == state::Kind::kString);
  REQUIRE(p.states.size() == 4);
  CHECK(p.states[0].name == "counts");
  CHECK(p.states[0].keyed_kind() == "VALUE");
  CHECK(p.states[0].serializer("VALUE_SERIALIZER")->kind == state::Kind::kLong);
  CHECK(p.states[0].serializer("NAMESPACE_SERIALIZER")->kind == state::Kind::kVoidNamespace);
  CHECK(p.states[1].keyed_kind() == "LIST");
  CHECK(state::type_name(*p.states[1].serializer("VALUE_SERIALIZER")) == "List<String>");
  CHECK(p.states[1].serializer("NAMESPACE_SERIALIZER")->kind == state::Kind::kTimeWindow);
  CHECK(p.states[2].name == "übersicht");
  CHECK(state::type_name(*p.states[2].serializer("VALUE_SERIALIZER")) == "Map<String, Integer>");
  CHECK(p.states[3].backend == state::BackendStateType::kPriorityQueue);
  CHECK(p.states[3].serializer("VALUE_SERIALIZER")->kind == state::Kind::kTimer);

  CHECK(state::read_keyed_proxy(state::write_keyed_proxy(true, state::long_serializer(), {})).compressed);
  CHECK_THROWS_AS(
      state::write_keyed_proxy(false, state::long_serializer(),
                               {state::keyed_state(std::string(70'000, 'x'), "VALUE", state::long_serializer(),
                                                   state::void_namespace_serializer())}),
      util::Error);
}

TEST_SUITE("fixtures") {
  TEST_CASE("keyed proxy: a Flink 1.18 RocksDB meta file written again byte for byte" *
            doctest::skip(!fixtures::available())) {
    // Two timer services of a keyed broadcast ITCase job (Long keys): Flink's own bytes.
    std::filesystem::path meta = fixtures::root() /
                                 "new-stateful-broadcast-udf-migration-itcase-flink1.18-rocksdb-checkpoint" /
                                 "16512b54-3c3b-4919-bd25-06cbf67a5b05";
    REQUIRE(std::filesystem::exists(meta));
    std::string want = io::read_file_bytes(meta);
    auto timers = [] { return state::timer_serializer(state::long_serializer(), state::void_namespace_serializer()); };
    std::string got =
        state::write_keyed_proxy(false, state::long_serializer(),
                                 {state::priority_queue_state("_timer_state/processing_user-timers", timers()),
                                  state::priority_queue_state("_timer_state/event_user-timers", timers())});
    CHECK(got == want);
  }
}

TEST_CASE("operator proxy: list, union and broadcast states read back") {
  state::StateMetaSpec broadcast;
  broadcast.name = "rules";
  broadcast.backend = state::BackendStateType::kBroadcast;
  broadcast.options = {{"OPERATOR_STATE_DISTRIBUTION_MODE", "BROADCAST"}};
  broadcast.serializers = {{"KEY_SERIALIZER", state::string_serializer()},
                           {"VALUE_SERIALIZER", state::long_serializer()}};
  std::string bytes = state::write_operator_proxy(
      false,
      {state::operator_list_state("offsets", "UNION", state::long_serializer()),
       state::operator_list_state("buffer", "SPLIT_DISTRIBUTE", state::string_serializer())},
      {broadcast});
  state::OperatorProxy p = state::read_operator_proxy(bytes);
  CHECK(p.version == 6);
  CHECK(p.length == bytes.size());
  REQUIRE(p.states.size() == 2);
  CHECK(p.states[0].distribution() == "UNION");
  CHECK(p.states[0].serializer("VALUE_SERIALIZER")->kind == state::Kind::kLong);
  CHECK(p.states[1].distribution() == "SPLIT_DISTRIBUTE");
  REQUIRE(p.broadcast.size() == 1);
  CHECK(p.broadcast[0].distribution() == "BROADCAST");
  CHECK(p.broadcast[0].serializer("KEY_SERIALIZER")->kind == state::Kind::kString);
}
