#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>

#include "snapshot/path_index.h"

using ckpt::snapshot::PathIndex;

TEST_CASE("path index: dense ids in insertion order, stable keys, agrees with std::map") {
  PathIndex idx;
  std::map<std::string, uint32_t> model;
  std::vector<std::string_view> first_views;
  std::mt19937_64 rng(7);
  // Long shared prefixes and lengths around the 8-byte steps of the hash, plus the empty key.
  const std::string prefix = "/tmp/root/c5ff3ca60f5081352a6c2caf278dc3f3/shared/";
  for (int round = 0; round < 200000; ++round) {
    std::string key;
    switch (rng() % 4) {
      case 0:
        key = prefix + std::to_string(rng() % 50000);
        break;
      case 1:
        key = std::string(rng() % 20, 'x');
        break;
      case 2:
        key = "/j/chk-" + std::to_string(rng() % 1000) + "/" + std::to_string(rng() % 300);
        break;
      default:
        key = std::to_string(rng() % 100);
        break;
    }
    auto [id, fresh] = idx.insert(key);
    auto [it, model_fresh] = model.try_emplace(key, static_cast<uint32_t>(model.size()));
    REQUIRE(fresh == model_fresh);
    REQUIRE(id == it->second);
    if (fresh) first_views.push_back(idx.key(id));
  }
  CHECK(idx.size() == model.size());
  for (const auto& [key, id] : model) {
    REQUIRE(idx.find(key) == id);
    REQUIRE(idx.key(id) == key);
    // The view handed out at insertion still points at the same bytes after every growth.
    REQUIRE(first_views[id].data() == idx.key(id).data());
  }
  CHECK_FALSE(idx.find(prefix + "nope"));
  CHECK_FALSE(idx.find("/tmp/root"));

  PathIndex moved = std::move(idx);
  CHECK(moved.key(0).data() == first_views[0].data());
  CHECK(moved.find(std::string(first_views[5])) == 5u);
}

TEST_CASE("path index: a key longer than a block, and an empty index") {
  PathIndex idx;
  CHECK_FALSE(idx.find("a"));
  std::string big(3 << 20, 'p');
  auto [id, fresh] = idx.insert(big);
  CHECK(fresh);
  CHECK(idx.key(id) == big);
  CHECK(idx.insert("small").first == 1u);
  CHECK(idx.find(big) == 0u);
}
