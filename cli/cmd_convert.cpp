// `ckpt convert`: export (json, proto), Flink `_metadata` (with version change and relocation),
// and self-contained savepoint directories. Flags, calls into ops/convert.h, rendering.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "codec/proto_codec.h"
#include "commands.h"
#include "console.h"
#include "conventions.h"
#include "export/write_report_json.h"
#include "io/atomic_file.h"
#include "map_flags.h"
#include "ops/convert.h"
#include "ops/plan_convert.h"
#include "ops/published_output.h"
#include "ops/relocate_in_place.h"
#include "ops/snapshot_input.h"
#include "output_flags.h"
#include "path_args.h"
#include "progress.h"
#include "render.h"
#include "storage_flags.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace ckpt::cli {
namespace {

struct ConvertArgs {
  std::vector<std::string> defines;
  std::string input;
  std::string from = "auto";
  std::string to = "flink";
  int version = 0;
  std::string properties = "auto";
  std::vector<std::string> relocate;
  std::vector<std::string> maps, allow_outside;
  std::string output;
  std::string self_contained;
  bool copy = false;
  bool keep_relative = false;
  bool force = false;
  bool in_place = false;
  bool dry_run = false;
  bool json = false;
  bool pretty = false;
};

void print_notes(const std::vector<std::string>& notes, std::FILE* f) {
  for (const auto& n : notes) console::info_line(f, "note: " + n);
}

std::string render_plan(const ops::SelfContainedPlan& p, const std::string& out, bool dry_run) {
  std::string s = fmt::format("{} {} files ({}) and _metadata into {}\n", dry_run ? "would write" : "wrote",
                              p.files.size(), human_bytes(static_cast<int64_t>(p.total_bytes)), out);
  s += fmt::format("handles before: {} relative, {} absolute, {} segments; after: all relative\n", p.relative_before,
                   p.absolute_before, p.segments_before);
  if (dry_run) {
    Table t({"NAME", "SIZE", "SOURCE"}, {false, true, false});
    for (const auto& f : p.files) {
      std::string src = f.source.string();
      if (!f.whole) src += fmt::format(" [{}, +{}]", f.offset, f.length);
      t.row({f.name, human_bytes(static_cast<int64_t>(f.length)), src});
    }
    if (!t.empty()) s += t.str();
  }
  if (!console::quiet())
    for (const auto& n : p.notes) s += "note: " + n + "\n";
  return s;
}

// `remote`: OUT is an object-store prefix, written through it; `staged`: the input's local copy
// when it is in an object store (cli/path_args.h).
int run_self_contained(const ConvertArgs& a, ops::SnapshotInput& in, const std::vector<snapshot::PathMapping>& maps,
                       const std::vector<fs::path>& allowed, ops::PublishedOutput* remote,
                       const ops::StagedSnapshot* staged) {
  if (!in.location)
    return fail("convert", a.input + ": --self-contained needs a Flink snapshot on disk, not an export");
  if (!a.relocate.empty())
    return fail("convert", "--relocate and --self-contained exclude each other (use --map to find remote files)");
  if (!a.output.empty()) return fail("convert", "--self-contained OUT and -o exclude each other");
  ops::SelfContainOptions opt;
  opt.mappings = maps;
  opt.allow_outside = allowed;
  ops::SelfContainedPlan plan = ops::plan_self_contained(in.md, *in.location, opt);
  write_report_json::Outcome outcome;
  const fs::path dir = remote ? remote->local_dir() : fs::path(a.self_contained);
  ops::check_output_location(plan, dir);
  if (!a.dry_run) {
    Progress progress("convert --self-contained");
    outcome.written = ops::write_self_contained(plan, dir, a.force && !remote, a.copy, progress.fn());
    progress.clear();
    if (remote) remote->publish();
    outcome.dry_run = false;
  }
  // Object-store input and output named by their URIs, not the private directories.
  auto display = [&](std::string_view text) { return name_uris(text, staged, remote); };
  emit_displayed(stdout, display, [&](std::FILE* out) {
    if (a.json) {
      write_report_json::write_plan_report("convert", a.input, a.self_contained, plan, outcome, a.pretty, out);
    } else {
      // Applied, the plan and its confirmation are what --quiet leaves out.
      if (a.dry_run || !console::quiet()) std::fputs(render_plan(plan, a.self_contained, a.dry_run).c_str(), out);
      if (!a.dry_run) {
        console::info_line(
            out, fmt::format("{} linked, {} copied, {} segments cut; checked: every handle resolves inside {}",
                             outcome.written.linked, outcome.written.copied, outcome.written.cut, a.self_contained));
      }
    }
  });
  return kExitOk;
}

// --in-place: the references of every snapshot under the input rewritten, each `_metadata`
// replaced atomically (ops/relocate_in_place.h).
int run_in_place(const ConvertArgs& a, const std::vector<ops::Relocation>& relocs) {
  if (relocs.empty()) return fail("convert", "--in-place needs --relocate FROM=TO (it rewrites references only)");
  if (!a.output.empty() || !a.self_contained.empty() || a.to != "flink" || a.version != 0 || !a.maps.empty() ||
      !a.allow_outside.empty()) {
    return fail("convert",
                "--in-place rewrites the _metadata files where they are: -o, --self-contained, --to, "
                "--format-version, --map and --allow-outside do not apply");
  }
  const ops::InPlaceResult r = ops::relocate_in_place(a.input, relocs, a.dry_run);
  for (const auto& u : r.unsearched) console::error("ckpt convert", "not searched: " + u);
  for (const auto& item : r.snapshots) {
    if (!item.error.empty()) {
      console::error("ckpt convert", item.error);
      continue;
    }
    if (!item.handles && !item.directories) continue;
    std::string line =
        fmt::format("{} {}: {} handle paths, {} file-merging directories", a.dry_run ? "would rewrite" : "rewrote",
                    item.metadata.string(), item.handles, item.directories);
    if (a.dry_run) std::fprintf(stdout, "%s\n", line.c_str());
    else console::info_line(stdout, line);
  }
  std::string total = fmt::format("{} snapshots {}, {} without matching paths, {} failed", r.rewritten,
                                  a.dry_run ? "to rewrite" : "rewritten", r.unchanged, r.failed);
  if (a.dry_run) std::fprintf(stdout, "%s\n", total.c_str());
  else console::info_line(stdout, total);
  return r.failed || !r.unsearched.empty() ? kExitUsage : kExitOk;
}

int run_convert(ConvertArgs& a) {
  auto from = ops::parse_input_form(a.from);
  if (!from) return fail("convert", "--from " + a.from + ": expected auto, flink, json or proto");
  ops::ConvertRequest req;
  auto to = ops::parse_output_form(a.to);
  if (!to) return fail("convert", "--to " + a.to + ": expected json, proto or flink");
  req.to = *to;
  auto choice = ops::parse_properties_choice(a.properties);
  if (!choice)
    return fail("convert", "--properties " + a.properties + ": expected auto, checkpoint, savepoint or null");
  req.properties = *choice;
  req.version = a.version;
  req.keep_relative = a.keep_relative;
  req.pretty = a.pretty;
  for (const auto& r : a.relocate) {
    auto p = ops::parse_relocation(r);
    if (!p) return fail("convert", "--relocate " + r + ": expected FROM=TO");
    req.relocations.push_back(*p);
  }
  std::string bad;
  auto parsed = parse_map_flags(a.maps, bad);
  if (!parsed) return fail("convert", "--map " + bad + ": expected PREFIX=DIR");
  std::vector<snapshot::PathMapping> maps = *parsed;
  if (a.in_place && read_in_object_store(a.input, &maps)) {
    return fail("convert", a.input +
                               ": --in-place rewrites local files; an object store's snapshot cannot be rewritten "
                               "in place yet");
  }
  auto storage_config = parse_storage_config(a.defines, bad);
  if (!storage_config) return fail("convert", "-D " + bad + ": expected KEY=VALUE");
  std::unique_ptr<ops::StagedSnapshot> staged;  // an s3:// input, copied here for the command's run
  if (auto e = localise_input(a.input, maps, *storage_config, staged)) return fail("convert", *e);
  if (a.in_place) return run_in_place(a, req.relocations);
  // -o into an object store: an export (JSON, protobuf) is written here, then uploaded as one
  // object. A `_metadata` alone would name state files that are not beside it there.
  std::unique_ptr<ops::PublishedFile> remote_file;
  if (read_in_object_store(a.output)) {
    if (req.to == ops::OutputForm::kFlink) {
      return fail("convert", a.output +
                                 ": -o writes a _metadata alone, whose state files would not be beside it in the "
                                 "store; use --self-contained " +
                                 a.output + " (the snapshot with its files, relative handles only)");
    }
    if (!a.dry_run) remote_file = std::make_unique<ops::PublishedFile>(a.output, *storage_config, a.force);
  }
  std::unique_ptr<ops::PublishedOutput> remote_out;  // --self-contained into an object store
  if (auto e = localise_output(a.self_contained, *storage_config, a.force, remote_out)) return fail("convert", *e);
  return naming_uris(staged.get(), remote_out.get(), [&]() -> int {
    if (!read_in_object_store(a.output)) {
      if (auto e = localise_path_args({&a.output})) return fail("convert", *e);
    }
    auto allowed = parse_allow_outside(a.allow_outside);
    if (!allowed) return fail("convert", "--allow-outside: expected a directory, got an empty value");
    if (!a.self_contained.empty() && req.to != ops::OutputForm::kFlink) {
      return fail("convert", "--self-contained writes a Flink snapshot directory; --to " + a.to + " does not apply");
    }
    if (a.self_contained.empty() && !a.maps.empty()) return fail("convert", "--map applies to --self-contained only");
    if (a.self_contained.empty() && !allowed->empty()) {
      return fail("convert", "--allow-outside applies to --self-contained only");
    }
    const bool to_stdout = a.output.empty() || a.output == "-";
    if (a.self_contained.empty() && to_stdout && req.to != ops::OutputForm::kJson && !a.dry_run &&
        ::isatty(STDOUT_FILENO)) {
      return fail("convert", "-o OUT is needed for --to " + a.to + " (binary output is not written to a terminal)");
    }
    if (!to_stdout) req.output = remote_file ? remote_file->local_file().string() : a.output;

    ops::SnapshotInput in = ops::load_snapshot_input(a.input, *from);
    try {
      if (!a.self_contained.empty()) {
        print_notes(ops::apply_format_version(in, req.version, req.properties), stderr);
        return run_self_contained(a, in, maps, *allowed, remote_out.get(), staged.get());
      }
      ops::ConvertPlan plan = ops::plan_convert(in, req);
      const std::string where = plan.target.empty()              ? "stdout"
                                : read_in_object_store(a.output) ? a.output
                                                                 : plan.target.string();
      if (a.dry_run) {
        std::fprintf(stdout, "would write %s (%zu bytes, --to %s, format version %d)\n", where.c_str(),
                     plan.bytes.size(), a.to.c_str(), plan.version);
        print_notes(plan.notes, stdout);
        return kExitOk;
      }
      if (plan.target.empty()) {
        if (std::fwrite(plan.bytes.data(), 1, plan.bytes.size(), stdout) != plan.bytes.size()) {
          return fail("convert", "cannot write to stdout");
        }
        print_notes(plan.notes, stderr);
      } else {
        io::write_file_atomically(plan.target, plan.bytes, a.force);
        if (remote_file) remote_file->publish();
        console::info_line(stdout, fmt::format("wrote {} ({} bytes, --to {}, format version {})", where,
                                               plan.bytes.size(), a.to, plan.version));
        print_notes(plan.notes, stdout);
      }
      return kExitOk;
    } catch (const codec::CodecError& e) {
      // Adds the input's name: the encoder knows only the field.
      throw util::Error(e.kind(), a.input + ": " + e.what());
    }
  });
}

}  // namespace

void register_convert(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Export, relocate, re-version or self-contain a snapshot");
  long_description(
      cmd,
      "Convert a snapshot: export it (--to json|proto), write it back as Flink _metadata (--to flink, also from\n"
      "a JSON or proto export), change its format version (--format-version, refused when a field would be\n"
      "lost), rewrite absolute paths (--relocate FROM=TO), or turn it into a relocatable savepoint-style\n"
      "directory (--self-contained OUT). Inputs are never modified; outputs are written atomically and never\n"
      "replaced without --force. Exit 0 ok, 1 conversion refused, 2 usage error or unreadable input.");
  cmd->add_option("input", args->input, "Snapshot directory, _metadata file, or JSON/proto export")->required();
  cmd->add_option("--from", args->from, "Input form: auto (default), flink, json, proto");
  cmd->add_option("--to", args->to, "Output form: flink (default), json, proto");
  cmd->add_option("--format-version", args->version, "Write this _metadata format version (2..7)");
  cmd->add_option("--properties", args->properties,
                  "Trailer when upgrading V2/V3 to V4+: auto (from the directory name), checkpoint, savepoint, null");
  cmd->add_option("--relocate", args->relocate,
                  "Rewrite absolute paths starting with FROM to start with TO (repeatable)");
  cmd->add_option("-o,--output", args->output, "Output file (a directory: OUT/_metadata); - or absent: stdout");
  cmd->add_option("--self-contained", args->self_contained,
                  "Write a self-contained savepoint-style directory OUT holding every referenced file (or fill an "
                  "s3:// prefix)");
  add_map_option(*cmd, args->maps);
  add_storage_config_option(*cmd, args->defines);
  add_allow_outside_option(*cmd, args->allow_outside);
  cmd->add_flag(
      "--keep-relative", args->keep_relative,
      "--to flink: keep relative handles even when their files are not beside the output (you will put them there)");
  cmd->add_flag("--copy", args->copy, "--self-contained: copy files instead of hard-linking them");
  cmd->add_flag("--force", args->force, "Replace an existing output");
  cmd->add_flag("--in-place", args->in_place,
                "With --relocate: rewrite the _metadata of every snapshot under INPUT where it is (each replaced "
                "atomically, modification time kept); the repair of a moved checkpoint directory");
  add_dry_run_flag(*cmd, args->dry_run, "write");
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->callback([args, &exit_code] { exit_code = run_convert(*args); });
}

}  // namespace ckpt::cli
