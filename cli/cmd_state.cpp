// `ckpt state`: flags, one call into ops/state_dump.h, lines to stdout, problems to stderr.
#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "console.h"
#include "conventions.h"
#include "flink/operator_id.h"
#include "map_flags.h"
#include "ops/snapshot_input.h"
#include "ops/state_dump.h"
#include "path_args.h"
#include "storage_flags.h"

namespace ckpt::cli {
namespace {

struct StateArgs {
  std::vector<std::string> defines;
  std::vector<std::string> maps;
  std::string input;
  std::string uid;
  std::string operator_id;
  std::string state;
  std::string key;
  int32_t key_group = -1;
  int64_t limit = -1;
  std::string format = "jsonl";
};

int run_state(StateArgs& a) {
  if (!a.uid.empty() && !a.operator_id.empty()) return fail("state", "--uid and --operator: give one");
  if (!a.operator_id.empty() && !flink::parse_operator_id(a.operator_id)) {
    return fail("state", "--operator " + a.operator_id + ": expected 32 hex characters");
  }
  if (a.format != "jsonl" && a.format != "csv")
    return fail("state", "--format " + a.format + ": expected jsonl or csv");
  if (a.limit < -1) return fail("state", fmt::format("--limit {}: expected a count >= 0", a.limit));
  std::string bad;
  auto maps = parse_map_flags(a.maps, bad);
  if (!maps) return fail("state", "--map " + bad + ": expected PREFIX=DIR");
  auto config = parse_storage_config(a.defines, bad);
  if (!config) return fail("state", "-D " + bad + ": expected KEY=VALUE");
  std::unique_ptr<ops::StagedSnapshot> staged;  // an s3:// input, copied here for the command's run
  if (auto e = localise_input(a.input, *maps, *config, staged)) return fail("state", *e);
  return naming_uris(staged.get(), nullptr, [&]() -> int {
    ops::SnapshotInput in = ops::load_snapshot_input(a.input, ops::InputForm::kFlink);
    if (!in.location) return fail("state", a.input + ": needs a Flink snapshot on disk");
    ops::DumpRequest req;
    req.filter.uid = a.uid;
    req.filter.operator_id = a.operator_id;
    req.state = a.state;
    if (!a.key.empty()) req.key = a.key;
    if (a.key_group >= 0) req.key_group = a.key_group;
    req.limit = a.limit;
    req.format = a.format == "csv" ? ops::DumpFormat::kCsv : ops::DumpFormat::kJsonl;
    bool matched = false;
    for (const auto& op : in.md.operators) matched = matched || req.filter.matches(op);
    if (!matched) {
      return fail("state", a.uid.empty() ? "no operator with id " + a.operator_id : "no operator with uid " + a.uid,
                  kExitProblems);
    }
    ops::DumpResult r = ops::dump_state(in.md, *in.location, *maps, req, [](std::string_view line) {
      if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
        throw util::Error(util::ErrorKind::kIo, "cannot write to stdout");
      }
    });
    std::fflush(stdout);
    for (const std::string& p : r.problems) {
      console::error("ckpt state", name_uris(p, staged.get(), nullptr));
    }
    console::note("ckpt state", fmt::format("{} entries{}{}", r.lines, r.limited ? " (--limit reached)" : "",
                                            r.problems.empty() ? "" : fmt::format(", {} problems", r.problems.size())));
    return r.problems.empty() ? kExitOk : kExitProblems;
  });
}

}  // namespace

void register_state(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<StateArgs>();
  CLI::App* cmd = app.add_subcommand("state", "Print every entry of a snapshot's state, one line each");
  long_description(
      cmd,
      "Decode the state a checkpoint or savepoint holds, without a JVM and without the job's classes: one\n"
      "JSON line (or CSV row) per entry, streamed. A value, list, reducing or aggregating state gives one\n"
      "line per key and namespace; a map state one per user key; timers one per timer; operator list and\n"
      "union state one per element; broadcast state one per map entry. Values are decoded by the serializer\n"
      "snapshots stored with the state; what needs the job's classes (Kryo user types, Avro, custom\n"
      "serializers) is printed as base64 with the serializer named. --key serializes the key with the\n"
      "state's key serializer, computes its key group as Flink does and reads only that key group.\n"
      "Exit 0 ok, 1 a payload did not match its serializers (named on stderr; the dump goes on), 2 usage\n"
      "error or unreadable input.");
  cmd->add_option("snapshot", args->input, "Snapshot directory, _metadata file or s3:// URI")->required();
  cmd->add_option("--uid", args->uid, "Only the operator with this uid");
  cmd->add_option("--operator", args->operator_id, "Only the operator with this id (32 hex digits)");
  cmd->add_option("--state", args->state, "Only the state with this name");
  cmd->add_option("--key", args->key, "Only this key: 42, abc, or [1, \"x\"] for a tuple");
  cmd->add_option("--key-group", args->key_group, "Only this key group");
  cmd->add_option("--limit", args->limit, "Stop after this many lines");
  cmd->add_option("--format", args->format, "jsonl (default) or csv");
  add_map_option(*cmd, args->maps);
  add_storage_config_option(*cmd, args->defines);
  cmd->callback([args, &exit_code] { exit_code = run_state(*args); });
}

}  // namespace ckpt::cli
