// io/flink_config: Flink's config.yaml (nested, Flink 1.19+), the legacy flat flink-conf.yaml,
// a mix of both, lists, and one-line errors naming the file and the line.
#include <doctest/doctest.h>

#include <string>

#include "io/flink_config.h"
#include "util/error.h"

using ckpt::io::parse_flink_config;

TEST_CASE("flink config: nested keys are flattened to Flink's dotted keys") {
  auto c = parse_flink_config(
      "# Flink 1.19+ config.yaml\n"
      "execution:\n"
      "  checkpointing:\n"
      "    interval: 10s\n"
      "    dir: \"file:///tmp/ck\"\n"
      "state:\n"
      "  backend:\n"
      "    type: rocksdb\n",
      "config.yaml");
  REQUIRE(c.size() == 3);
  CHECK(c.at("execution.checkpointing.interval").value == "10s");
  CHECK(c.at("execution.checkpointing.interval").line == 4);
  CHECK(c.at("execution.checkpointing.dir").value == "file:///tmp/ck");
  CHECK(c.at("state.backend.type").value == "rocksdb");
  CHECK(c.at("state.backend.type").line == 8);
}

TEST_CASE("flink config: the legacy flat form and a mix of both") {
  auto flat = parse_flink_config(
      "state.checkpoints.dir: /tmp/x\n\nexecution.checkpointing.interval: 1 s # every second\nenv.java.opts: -Dx=y\n",
      "flink-conf.yaml");
  CHECK(flat.at("state.checkpoints.dir").value == "/tmp/x");
  CHECK(flat.at("execution.checkpointing.interval").value == "1 s");
  CHECK(flat.at("execution.checkpointing.interval").line == 3);
  CHECK(flat.at("env.java.opts").value == "-Dx=y");
  auto mixed = parse_flink_config(
      "execution.checkpointing:\n  interval: 5s\n  mode: AT_LEAST_ONCE\nstate.backend.type: hashmap\n"
      "restart-strategy:\n  type: fixed-delay\n  fixed-delay.attempts: 3\n",
      "mixed.yaml");
  CHECK(mixed.at("execution.checkpointing.interval").value == "5s");
  CHECK(mixed.at("execution.checkpointing.mode").value == "AT_LEAST_ONCE");
  CHECK(mixed.at("state.backend.type").value == "hashmap");
  CHECK(mixed.at("restart-strategy.type").value == "fixed-delay");
  CHECK(mixed.at("restart-strategy.fixed-delay.attempts").value == "3");
}

TEST_CASE("flink config: a list becomes Flink's list string") {
  auto c = parse_flink_config(
      "taskmanager:\n  state:\n    local:\n      root-dirs:\n        - /a\n        - /b\n"
      "pipeline.jars: [x.jar, 'y;z.jar']\n",
      "c.yaml");
  CHECK(c.at("taskmanager.state.local.root-dirs").value == "/a;/b");
  CHECK(c.at("pipeline.jars").value == "x.jar;'y;z.jar'");
}

TEST_CASE("flink config: empty files are empty configurations") {
  CHECK(parse_flink_config("", "c.yaml").empty());
  CHECK(parse_flink_config("# nothing\n\n", "c.yaml").empty());
}

TEST_CASE("flink config: errors are one line naming the file, the line and what was expected") {
  auto error_of = [](const std::string& text) {
    try {
      parse_flink_config(text, "c.yaml");
    } catch (const ckpt::util::Error& e) {
      CHECK(e.kind() == ckpt::util::ErrorKind::kUsage);
      std::string m = e.what();
      CHECK(m.find('\n') == std::string::npos);
      return m;
    }
    return std::string("no error");
  };
  CHECK(error_of("just words\n").starts_with("c.yaml:1: expected"));
  CHECK(error_of("a: 1\nb: [1, 2\n").starts_with("c.yaml:"));
  CHECK(error_of("a: 1\nb: [1, 2\n").find("invalid YAML") != std::string::npos);
  std::string no_value = error_of("a: 1\nstate.backend.type:\n");
  CHECK(no_value.starts_with("c.yaml:2: state.backend.type: expected a value"));
  CHECK(error_of("a:\n  - x: 1\n").starts_with("c.yaml:2: a: expected a list of values"));
  CHECK(error_of("- a\n- b\n").starts_with("c.yaml:1: expected"));
}
