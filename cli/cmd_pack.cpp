// `ckpt pack` and `ckpt unpack`: one zstd archive of a snapshot in self-contained form
// (formats/pack-format.md). Flags, calls into ops/pack.h, rendering.
#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "console.h"
#include "conventions.h"
#include "export/write_report_json.h"
#include "io/decode_error.h"
#include "map_flags.h"
#include "ops/convert.h"
#include "ops/pack.h"
#include "ops/published_output.h"
#include "ops/snapshot_input.h"
#include "output_flags.h"
#include "path_args.h"
#include "progress.h"
#include "render.h"
#include "storage_flags.h"

namespace ckpt::cli {
namespace {

struct PackArgs {
  std::vector<std::string> defines;
  std::string input, output;
  std::vector<std::string> maps, allow_outside;
  int level = 3;
  int threads = 0;
  bool force = false, dry_run = false, json = false, pretty = false, list = false;
};

int run_pack(PackArgs& a) {
  if (a.level < 1 || a.level > 19) return fail("pack", fmt::format("--level {}: expected 1..19", a.level), kExitUsage);
  std::string bad;
  auto parsed = parse_map_flags(a.maps, bad);
  if (!parsed) return fail("pack", "--map " + bad + ": expected PREFIX=DIR", kExitUsage);
  std::vector<snapshot::PathMapping> maps = *parsed;
  auto storage_config = parse_storage_config(a.defines, bad);
  if (!storage_config) return fail("pack", "-D " + bad + ": expected KEY=VALUE");
  std::unique_ptr<ops::StagedSnapshot> staged;  // an s3:// input, copied here for the command's run
  if (auto e = localise_input(a.input, maps, *storage_config, staged)) return fail("pack", *e);
  // OUT in an object store: the archive is written here, then uploaded as one object.
  std::unique_ptr<ops::PublishedFile> remote_out;
  if (read_in_object_store(a.output) && !a.dry_run) {
    remote_out = std::make_unique<ops::PublishedFile>(a.output, *storage_config, a.force);
  }
  return naming_uris(staged.get(), nullptr, [&]() -> int {
    if (!read_in_object_store(a.output)) {
      if (auto e = localise_path_args({&a.output})) return fail("pack", *e, kExitUsage);
    }
    auto allowed = parse_allow_outside(a.allow_outside);
    if (!allowed) return fail("pack", "--allow-outside: expected a directory, got an empty value", kExitUsage);
    ops::SnapshotInput in = ops::load_snapshot_input(a.input, ops::InputForm::kFlink);
    ops::SelfContainOptions opt;
    opt.mappings = maps;
    opt.allow_outside = *allowed;
    ops::SelfContainedPlan plan = ops::plan_self_contained(in.md, *in.location, opt);
    write_report_json::Outcome outcome;
    if (!a.dry_run) {
      ops::PackOptions po;
      po.level = a.level;
      po.threads = a.threads;
      Progress progress("pack");
      po.progress = progress.fn();
      ops::PackStats st;
      try {
        st = ops::pack_snapshot(plan, remote_out ? remote_out->local_file().string() : a.output, a.force, po);
        if (remote_out) remote_out->publish();
      } catch (const util::Error& e) {
        if (!remote_out) throw;
        throw util::Error(e.kind(), remote_out->name_uri(e.what()));
      }
      progress.clear();
      outcome.dry_run = false;
      outcome.archive_bytes = st.bytes_out;
    }
    // An object-store input named by its URI, not the private copy.
    auto display = [&](std::string_view text) { return name_uris(text, staged.get(), nullptr); };
    emit_displayed(stdout, display, [&](std::FILE* out) {
      if (a.json) {
        write_report_json::write_plan_report("pack", a.input, a.output, plan, outcome, a.pretty, out);
        return;
      }
      uint64_t payload = plan.total_bytes + plan.metadata.size();
      if (a.dry_run) {
        std::fprintf(out, "would pack %zu files (%s) into %s\n", plan.files.size() + 1,
                     human_bytes(static_cast<int64_t>(payload)).c_str(), a.output.c_str());
        Table t({"NAME", "SIZE", "SOURCE"}, {false, true, false});
        for (const auto& f : plan.files)
          t.row({f.name, human_bytes(static_cast<int64_t>(f.length)), f.source.string()});
        if (!t.empty()) std::fputs(t.str().c_str(), out);
      } else {
        console::info_line(
            out, fmt::format("packed {} files ({}) into {} ({}, {:.1f}%)", plan.files.size() + 1,
                             human_bytes(static_cast<int64_t>(payload)), a.output,
                             human_bytes(static_cast<int64_t>(outcome.archive_bytes)),
                             payload ? 100.0 * static_cast<double>(outcome.archive_bytes) / static_cast<double>(payload)
                                     : 0.0));
      }
      for (const auto& n : plan.notes) console::info_line(out, "note: " + n);
    });
    return kExitOk;
  });
}

int run_unpack(PackArgs& a) {
  std::string bad;
  auto storage_config = parse_storage_config(a.defines, bad);
  if (!storage_config) return fail("unpack", "-D " + bad + ": expected KEY=VALUE");
  // OUT in an object store: extracted and verified here first, then uploaded with `_metadata` last.
  std::unique_ptr<ops::PublishedOutput> remote_out;
  if (a.list) {
    if (auto e = localise_path_args({&a.output})) return fail("unpack", *e, kExitUsage);
  } else if (auto e = localise_output(a.output, *storage_config, a.force, remote_out)) {
    return fail("unpack", *e, kExitUsage);
  }
  if (auto e = localise_path_args({&a.input})) return fail("unpack", *e, kExitUsage);
  if (a.output.empty() && !a.list) return fail("unpack", "OUT is required (or --list)", kExitUsage);
  Progress progress(a.list ? "unpack --list" : "unpack");
  ops::UnpackStats st =
      ops::unpack_archive(a.input, where_to_write(a.output, remote_out), a.force, a.list, progress.fn());
  progress.clear();
  if (remote_out) remote_out->publish();
  if (a.json) {
    write_report_json::write_unpack_report(a.input, a.output, st, a.list, a.pretty, stdout);
    return kExitOk;
  }
  if (a.list) {
    Table t({"NAME", "SIZE", "XXH64"}, {false, true, false});
    for (const auto& e : st.entries)
      t.row({e.name, human_bytes(static_cast<int64_t>(e.size)), fmt::format("{:016x}", e.xxh64)});
    std::fputs(t.str().c_str(), stdout);
    console::info_line(stdout, fmt::format("{} files ({}), all checksums verified", st.entries.size(),
                                           human_bytes(static_cast<int64_t>(st.bytes))));
  } else {
    console::info_line(
        stdout, fmt::format("unpacked {} files ({}) into {}; checksums verified, every handle resolves inside it",
                            st.entries.size(), human_bytes(static_cast<int64_t>(st.bytes)), a.output));
  }
  return kExitOk;
}

}  // namespace

void register_pack(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PackArgs>();
  CLI::App* cmd = app.add_subcommand("pack", "Pack a snapshot and all its files into one zstd archive");
  long_description(
      cmd,
      "Write one zstd-compressed archive holding the snapshot in self-contained form (every referenced file,\n"
      "handles rewritten to relative ones, as 'ckpt convert --self-contained') with a checksum per file, for\n"
      "moving between clusters or attaching to a bug report. Format: formats/pack-format.md.");
  cmd->add_option("snapshot", args->input, "Snapshot directory or _metadata file")->required();
  cmd->add_option("out", args->output, "Archive to write, e.g. chk-42.ckpt.zst (or an s3:// object)")->required();
  cmd->add_option("--level", args->level, "zstd compression level 1..19 (default 3)");
  cmd->add_option("--threads", args->threads, "zstd worker threads (default: one per core)");
  add_map_option(*cmd, args->maps);
  add_storage_config_option(*cmd, args->defines);
  add_allow_outside_option(*cmd, args->allow_outside);
  cmd->add_flag("--force", args->force, "Replace an existing archive");
  add_dry_run_flag(*cmd, args->dry_run, "write");
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->callback([args, &exit_code] { exit_code = run_pack(*args); });

  auto uargs = std::make_shared<PackArgs>();
  CLI::App* ucmd = app.add_subcommand("unpack", "Verify and extract a ckpt pack archive");
  long_description(
      ucmd,
      "Extract an archive written by 'ckpt pack' into a new directory OUT, verifying every checksum; the\n"
      "result is a self-contained savepoint-style directory. Hostile archives are refused: only plain file\n"
      "names, bounded sizes; nothing appears under OUT unless everything verified.");
  ucmd->add_option("archive", uargs->input, "Archive written by ckpt pack")->required();
  ucmd->add_option("out", uargs->output, "Directory to create, or an s3:// prefix to fill");
  ucmd->add_flag("--list", uargs->list, "Verify the archive and list its files; extract nothing");
  ucmd->add_flag("--force", uargs->force, "Replace an existing snapshot directory OUT");
  add_storage_config_option(*ucmd, uargs->defines);
  add_json_flags(*ucmd, uargs->json, uargs->pretty);
  ucmd->callback([uargs, &exit_code] { exit_code = run_unpack(*uargs); });
}

}  // namespace ckpt::cli
