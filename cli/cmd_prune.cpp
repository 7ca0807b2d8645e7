// `ckpt prune`: retention policy flags, then the shared plan/apply run of plan_cli.
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "commands.h"
#include "console.h"
#include "conventions.h"
#include "ops/prune_plan.h"
#include "path_args.h"
#include "plan_cli.h"
#include "util/error.h"
#include "util/flink_units.h"

namespace ckpt::cli {
namespace {

struct PruneArgs {
  PlanArgs plan;
  std::optional<int64_t> retain, hourly, daily;
  std::string within;
  std::string config;
  bool include_savepoints = false;
};

int run_prune(const PruneArgs& a) {
  ops::RetentionPolicy policy;
  policy.include_savepoints = a.include_savepoints;
  for (auto [flag, v] : {std::pair{"--retain", a.retain}, {"--keep-hourly", a.hourly}, {"--keep-daily", a.daily}}) {
    if (v && *v < 1) {
      return fail("prune", fmt::format("{} {}: expected a count of at least 1", flag, *v));
    }
  }
  policy.last = a.retain;
  policy.hourly = a.hourly;
  policy.daily = a.daily;
  if (!a.within.empty()) {
    auto d = util::parse_duration_ns(a.within);
    if (!d) {
      return fail("prune", "--keep-within " + a.within + ": expected " + std::string(util::kDurationSyntax));
    }
    policy.within_ns = *d;
  }
  if (!a.config.empty()) {
    if (a.retain) {
      return fail("prune", "give either --retain or --config, not both");
    }
    std::string config = a.config;
    if (auto e = localise_path_args({&config})) return fail("prune", "--config " + *e);
    try {
      std::string warning;
      policy.last = ops::num_retained_from_config(config, &warning);
      if (!warning.empty()) console::warn("ckpt prune", "--config " + warning);
    } catch (const util::Error& e) {
      // Adds the flag: the reader knows only the file.
      throw util::Error(e.kind(), std::string("--config: ") + e.what());
    }
  }
  if (policy.empty()) {
    return fail("prune",
                "refusing an empty policy (it would keep nothing): give --retain N, --keep-within, "
                "--keep-hourly, --keep-daily or --config");
  }
  std::string line;
  auto add = [&](const std::string& s) { line += (line.empty() ? "" : ", ") + s; };
  if (policy.last) add(fmt::format("retain {}{}", *policy.last, a.config.empty() ? "" : " (from " + a.config + ")"));
  if (policy.within_ns) add("keep-within " + a.within);
  if (policy.hourly) add(fmt::format("keep-hourly {}", *policy.hourly));
  if (policy.daily) add(fmt::format("keep-daily {}", *policy.daily));
  add(policy.include_savepoints ? "savepoints ranked too" : "savepoints kept");
  return run_plan_command("prune", a.plan, line,
                          [&](const snapshot::ReferenceGraph& g) { return ops::decide(g, policy); });
}

}  // namespace

void register_prune(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PruneArgs>();
  CLI::App* cmd =
      app.add_subcommand("prune", "Delete old checkpoints by a retention policy, never a file a kept one needs");
  long_description(
      cmd,
      "Keep the newest checkpoints of each job by a restic-style policy (a checkpoint is kept when any rule keeps\n"
      "it), delete the rest in crash-safe order (their _metadata first), and collect what no kept snapshot uses\n"
      "in shared/ and taskowned/ (like ckpt gc). Nothing younger than --grace is touched. See man ckpt-prune.");
  add_plan_flags(cmd, args->plan);
  cmd->add_option("--retain", args->retain, "Keep the N newest complete checkpoints of each job");
  cmd->add_option("--keep-within", args->within, "Keep checkpoints within DURATION of each job's newest (e.g. 24h)");
  cmd->add_option("--keep-hourly", args->hourly, "Keep the newest checkpoint of each of the last N hours (UTC)");
  cmd->add_option("--keep-daily", args->daily, "Keep the newest checkpoint of each of the last N days (UTC)");
  cmd->add_flag("--include-savepoints", args->include_savepoints,
                "Rank savepoints by the policy too (else never deleted)");
  cmd->add_option("--config", args->config,
                  "Take N for --retain from a Flink config.yaml (state.checkpoints.num-retained)");
  cmd->callback([args, &exit_code] { exit_code = run_prune(*args); });
}

}  // namespace ckpt::cli
