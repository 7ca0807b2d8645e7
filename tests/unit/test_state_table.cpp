#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>

#include "pipeline/state_table.h"

using ckpt::pipeline::Namespace;
using ckpt::pipeline::StateTable;

namespace {

uint64_t h(const std::string& key, const Namespace& ns) {
  return StateTable::hash_entry(StateTable::hash_key(key), ns);
}

}  // namespace

TEST_CASE("StateTable agrees with std::map over random puts, finds and erases") {
  StateTable t;
  std::map<std::pair<std::string, Namespace>, int64_t> model;
  std::mt19937_64 rng(42);
  for (int op = 0; op < 200000; ++op) {
    std::string key = "k" + std::to_string(rng() % 3000);
    Namespace ns{static_cast<int64_t>(rng() % 4) * 1000, static_cast<int64_t>(rng() % 4) * 1000 + 1000};
    uint64_t hash = h(key, ns);
    switch (rng() % 3) {
      case 0: {
        auto v = static_cast<int64_t>(rng());
        t.put(key, ns, hash, v);
        model[{key, ns}] = v;
        break;
      }
      case 1: {
        t.erase(key, ns, hash);
        model.erase({key, ns});
        break;
      }
      default: {
        const int64_t* got = t.find(key, ns, hash);
        auto it = model.find({key, ns});
        REQUIRE((got != nullptr) == (it != model.end()));
        if (got) REQUIRE(*got == it->second);
      }
    }
    REQUIRE(t.size() == model.size());
  }
  // Every entry is reachable and the dense entries are exactly the model's.
  std::map<std::pair<std::string, Namespace>, int64_t> scanned;
  for (const StateTable::Entry& e : t.entries()) scanned[{e.key, e.ns}] = e.value;
  CHECK(scanned == model);
  for (const auto& [k, v] : model) {
    const int64_t* got = t.find(k.first, k.second, h(k.first, k.second));
    REQUIRE(got);
    CHECK(*got == v);
  }
}

TEST_CASE("StateTable: colliding hashes still distinguish keys and namespaces") {
  StateTable t;
  // The same hash for different entries: probing must compare the keys themselves.
  for (int i = 0; i < 100; ++i) t.put("key" + std::to_string(i), Namespace{i, i + 1}, 7, i);
  for (int i = 0; i < 100; i += 2) t.erase("key" + std::to_string(i), Namespace{i, i + 1}, 7);
  for (int i = 0; i < 100; ++i) {
    const int64_t* v = t.find("key" + std::to_string(i), Namespace{i, i + 1}, 7);
    if (i % 2) {
      REQUIRE(v);
      CHECK(*v == i);
    } else {
      CHECK(v == nullptr);
    }
  }
  CHECK(t.size() == 50);
}
