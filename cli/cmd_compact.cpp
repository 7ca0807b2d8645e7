// `ckpt compact`: flags, plan and run through ops/compact.h, rendering.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "codec/json.h"
#include "commands.h"
#include "console.h"
#include "conventions.h"
#include "export/rocks_json.h"
#include "io/decode_error.h"
#include "map_flags.h"
#include "ops/compact.h"
#include "ops/snapshot_input.h"
#include "output_flags.h"
#include "path_args.h"
#include "progress.h"
#include "render.h"
#include "storage_flags.h"

namespace ckpt::cli {
namespace {

struct CompactArgs {
  std::vector<std::string> defines;
  std::string input;
  std::string output;
  std::vector<std::string> maps, allow_outside;
  unsigned threads = 0;
  bool copy = false;
  bool force = false;
  bool dry_run = false;
  bool json = false;
  bool pretty = false;
};

std::string ratio(uint64_t after, uint64_t before) {
  return before ? fmt::format("{:.2f}", static_cast<double>(after) / static_cast<double>(before)) : "-";
}

std::string render(const CompactArgs& a, const ckpt::CompactReport& r) {
  std::string s;
  Table t({"OPERATOR", "SUBTASK", "FILES", "SST", "BYTES", "->FILES", "SST", "BYTES", "ENTRIES", "SECONDS"},
          {false, true, true, true, true, true, true, true, true, true});
  for (const auto& st : r.subtasks()) {
    int64_t entries = 0;
    for (const auto& cf : st.column_families()) entries += cf.entries();
    std::string op = st.operator_uid().empty() ? st.operator_id() : st.operator_uid();
    if (r.dry_run()) {
      t.row({op, std::to_string(st.subtask()), std::to_string(st.files_before()), std::to_string(st.sst_before()),
             human_bytes(st.bytes_before()), "", "", "", "", ""});
    } else {
      t.row({op, std::to_string(st.subtask()), std::to_string(st.files_before()), std::to_string(st.sst_before()),
             human_bytes(st.bytes_before()), std::to_string(st.files_after()), std::to_string(st.sst_after()),
             human_bytes(st.bytes_after()), std::to_string(entries), fmt::format("{:.2f}", st.seconds())});
    }
  }
  s += t.str();
  if (r.dry_run()) {
    s += fmt::format("would compact {} RocksDB subtasks ({} files, {}) and carry over {} other files ({}) into {}\n",
                     r.subtasks_size(), r.files_before(), human_bytes(r.bytes_before()), r.carried_files(),
                     human_bytes(r.carried_bytes()), a.output);
  } else {
    s += fmt::format("RocksDB files: {} ({}) -> {} ({}); files x{}, bytes x{}\n", r.files_before(),
                     human_bytes(r.bytes_before()), r.files_after(), human_bytes(r.bytes_after()),
                     ratio(static_cast<uint64_t>(r.files_after()), static_cast<uint64_t>(r.files_before())),
                     ratio(static_cast<uint64_t>(r.bytes_after()), static_cast<uint64_t>(r.bytes_before())));
    s += fmt::format(
        "carried over unchanged: {} files ({}); wrote {} ({} files and a {} _metadata; {} linked, {} copied)\n",
        r.carried_files(), human_bytes(r.carried_bytes()), a.output, r.files_after() + r.carried_files(),
        human_bytes(r.metadata_bytes()), r.linked(), r.copied());
    s +=
        fmt::format("verified: every column family of the {} compacted databases holds the same {} entries as before\n",
                    r.subtasks_size(), r.entries());
  }
  if (!console::quiet())
    for (const auto& n : r.notes()) s += "note: " + n + "\n";
  return s;
}

int run_compact(CompactArgs& a) {
  std::string bad;
  auto maps = parse_map_flags(a.maps, bad);
  if (!maps) return fail("compact", "--map " + bad + ": expected PREFIX=DIR");
  auto storage_config = parse_storage_config(a.defines, bad);
  if (!storage_config) return fail("compact", "-D " + bad + ": expected KEY=VALUE");
  std::unique_ptr<ops::StagedSnapshot> staged;  // an s3:// input, copied here for the command's run
  if (auto e = localise_input(a.input, *maps, *storage_config, staged)) return fail("compact", *e);
  std::unique_ptr<ops::PublishedOutput> remote_out;  // OUT in an object store: built here, then uploaded
  if (auto e = localise_output(a.output, *storage_config, a.force, remote_out)) return fail("compact", *e);
  return naming_uris(staged.get(), remote_out.get(), [&]() -> int {
    auto allowed = parse_allow_outside(a.allow_outside);
    if (!allowed) return fail("compact", "--allow-outside: expected a directory, got an empty value");
    ops::SnapshotInput in = ops::load_snapshot_input(a.input, ops::InputForm::kFlink);
    if (!in.location) return fail("compact", a.input + ": needs a Flink snapshot on disk");
    ops::CompactPlan plan = ops::plan_compact(in.md, *in.location, *maps, *allowed);
    auto write = [&](const std::filesystem::path& out) -> std::optional<ops::CompactResult> {
      ops::check_compact_output(plan, out, a.force && !remote_out);
      if (a.dry_run) return std::nullopt;
      ops::CompactRunOptions opt;
      opt.replace = a.force && !remote_out;
      opt.copy = a.copy;
      opt.threads = a.threads;
      Progress progress("compact");
      if (progress.enabled()) {
        opt.progress = [&](const std::string& line) {
          progress.status(name_uris(line, staged.get(), remote_out.get()));
        };
      }
      ops::CompactResult r = ops::run_compact(plan, out, opt);
      progress.clear();
      return r;
    };
    std::optional<ops::CompactResult> result = write(where_to_write(a.output, remote_out));
    if (result && remote_out) remote_out->publish();
    ckpt::CompactReport report = rocks_json::compact_message(a.input, a.output, plan, result ? &*result : nullptr);
    // Object-store input and output named by their URIs, not the private directories.
    auto display = [&](std::string_view text) { return name_uris(text, staged.get(), remote_out.get()); };
    emit_displayed(stdout, display, [&](std::FILE* out) {
      if (a.json) {
        json::write_json(report, a.pretty, out);
        std::fputc('\n', out);
      } else {
        std::fputs(render(a, report).c_str(), out);
      }
    });
    return kExitOk;
  });
}

}  // namespace

void register_compact(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CompactArgs>();
  CLI::App* cmd = app.add_subcommand("compact", "Fully compact the RocksDB state of a snapshot into a new savepoint");
  long_description(
      cmd,
      "Rebuild every RocksDB subtask (incremental checkpoint or native savepoint handles) from its files, compact\n"
      "it fully (every column family, bottommost level forced), check that it holds the same entries, and write a\n"
      "new self-contained native savepoint directory OUT with the compacted files; all other state is carried over\n"
      "unchanged. The input is never modified; OUT appears complete or not at all. Exit 0 ok, 1 a compacted\n"
      "database differs from its original (nothing written), 2 usage error or unreadable input.");
  cmd->add_option("snapshot", args->input, "Snapshot directory or _metadata file")->required();
  cmd->add_option("-o,--output", args->output, "Directory to create, or an s3:// prefix to fill")->required();
  add_map_option(*cmd, args->maps);
  add_storage_config_option(*cmd, args->defines);
  add_allow_outside_option(*cmd, args->allow_outside);
  cmd->add_option("--threads", args->threads, "Subtasks compacted at once (default: one per core)");
  cmd->add_flag("--copy", args->copy,
                "Copy files instead of hard-linking them (the output shares no inode with the input)");
  cmd->add_flag("--force", args->force,
                "Replace OUT if it is a snapshot directory (an s3:// prefix: overwrite the objects written)");
  add_dry_run_flag(*cmd, args->dry_run, "write");
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->callback([args, &exit_code] { exit_code = run_compact(*args); });
}

}  // namespace ckpt::cli
