// `ckpt materialize`: flags, one call into ops/materialize.h, rendering.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

#include "codec/json.h"
#include "commands.h"
#include "console.h"
#include "conventions.h"
#include "export/rocks_json.h"
#include "io/decode_error.h"
#include "map_flags.h"
#include "ops/materialize.h"
#include "ops/snapshot_input.h"
#include "output_flags.h"
#include "path_args.h"
#include "render.h"
#include "storage_flags.h"

namespace ckpt::cli {
namespace {

struct MaterializeArgs {
  std::vector<std::string> defines;
  std::string input;
  std::string uid;
  std::string operator_id;
  int subtask = -1;
  std::string output;
  std::vector<std::string> maps, allow_outside;
  bool copy = false;
  bool force = false;
  bool no_check = false;
  bool dry_run = false;
  bool json = false;
  bool pretty = false;
};

std::string render(const MaterializeArgs& a, const ops::MaterializePlan& p, const ops::MaterializeResult* r) {
  std::string s = fmt::format("{} {} into {}: {} files ({})", r ? "materialized" : "would materialize", p.db.where,
                              a.output, p.db.files.size(), human_bytes(static_cast<int64_t>(p.db.bytes)));
  if (r) {
    std::vector<std::string> how;
    for (auto [n, what] : {std::pair{r->placed.linked, "linked"},
                           {r->placed.copied, "copied"},
                           {r->placed.cut, "cut from file-merging segments"},
                           {r->placed.inlined, "written from _metadata"}}) {
      if (n) how.push_back(fmt::format("{} {}", n, what));
    }
    s += fmt::format(": {}", fmt::join(how, ", "));
  }
  s += "\n";
  Table t({"NAME", "SIZE", "LIST", "FROM"}, {false, true, false, false});
  for (std::size_t i = 0; i < p.db.files.size(); ++i) {
    const rocks::DbFile& f = p.db.files[i];
    std::string from = f.source == rocks::FileSource::kInline ? "inline in _metadata" : f.path.string();
    if (r && i < r->placed.how.size()) from = std::string(rocks::place_how_name(r->placed.how[i])) + " " + from;
    t.row({f.name, human_bytes(static_cast<int64_t>(f.size)), f.shared ? "shared" : "private", from});
  }
  s += t.str();
  if (r && !r->column_families.empty()) {
    s += fmt::format("column families: {}\n", fmt::join(r->column_families, ", "));
    // A state's column family (not "default", which holds no Flink state, nor a timer queue).
    std::string cf = r->column_families.back();
    for (const auto& c : r->column_families) {
      if (c != "default" && !c.starts_with("_timer_state/")) {
        cf = c;
        break;
      }
    }
    if (read_in_object_store(a.output)) {
      s += fmt::format(
          "read a local copy of it with: ldb --db=DIR --ignore_unknown_options --column_family={} scan --hex\n", cf);
    } else {
      s += fmt::format("read it with: ldb --db={} --ignore_unknown_options --column_family={} scan --hex\n", a.output,
                       cf);
    }
  }
  if (r) {
    if (!console::quiet())
      for (const auto& n : r->notes) s += "note: " + n + "\n";
  }
  return s;
}

int run_materialize(MaterializeArgs& a) {
  if (a.uid.empty() == a.operator_id.empty())
    return fail("materialize", "name the operator with exactly one of --uid NAME or --operator ID");
  std::string bad;
  auto maps = parse_map_flags(a.maps, bad);
  if (!maps) return fail("materialize", "--map " + bad + ": expected PREFIX=DIR");
  auto storage_config = parse_storage_config(a.defines, bad);
  if (!storage_config) return fail("materialize", "-D " + bad + ": expected KEY=VALUE");
  std::unique_ptr<ops::StagedSnapshot> staged;  // an s3:// input, copied here for the command's run
  if (auto e = localise_input(a.input, *maps, *storage_config, staged)) return fail("materialize", *e);
  std::unique_ptr<ops::PublishedOutput> remote_out;  // DIR in an object store: built here, then uploaded
  if (auto e = localise_output(a.output, *storage_config, a.force, remote_out)) return fail("materialize", *e);
  return naming_uris(staged.get(), remote_out.get(), [&]() -> int {
    auto allowed = parse_allow_outside(a.allow_outside);
    if (!allowed) return fail("materialize", "--allow-outside: expected a directory, got an empty value");
    ops::OperatorSelector sel;
    if (!a.uid.empty()) sel.uid = a.uid;
    else sel.operator_id = a.operator_id;
    ops::SnapshotInput in = ops::load_snapshot_input(a.input, ops::InputForm::kFlink);
    if (!in.location) return fail("materialize", a.input + ": needs a Flink snapshot on disk");
    ops::MaterializePlan plan = ops::plan_materialize(in.md, *in.location, sel, a.subtask, *maps, *allowed);
    auto write = [&](const std::filesystem::path& out) -> std::optional<ops::MaterializeResult> {
      ops::check_materialize_output(plan, out, a.force && !remote_out);
      if (a.dry_run) return std::nullopt;
      return ops::write_materialized(plan, out, a.force && !remote_out, a.copy, !a.no_check);
    };
    std::optional<ops::MaterializeResult> result = write(where_to_write(a.output, remote_out));
    if (result && remote_out) remote_out->publish();
    const ops::MaterializeResult* r = result ? &*result : nullptr;
    // Object-store input and output named by their URIs, not the private directories.
    auto display = [&](std::string_view text) { return name_uris(text, staged.get(), remote_out.get()); };
    emit_displayed(stdout, display, [&](std::FILE* out) {
      if (a.json) {
        json::write_json(rocks_json::materialize_message(a.input, a.output, plan, r), a.pretty, out);
        std::fputc('\n', out);
      } else {
        std::fputs(render(a, plan, r).c_str(), out);
      }
    });
    return kExitOk;
  });
}

}  // namespace

void register_materialize(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MaterializeArgs>();
  CLI::App* cmd = app.add_subcommand("materialize", "Lay out one subtask's RocksDB state as a database directory");
  long_description(
      cmd,
      "Write the RocksDB files of one subtask (an incremental checkpoint or native savepoint handle) into DIR\n"
      "under their original names (000012.sst, MANIFEST-000005, CURRENT, OPTIONS-000007), so that\n"
      "'ldb --db=DIR --ignore_unknown_options ...' and 'sst_dump --file=DIR' work on it. Table files are\n"
      "hard-linked (copied across file systems, or with --copy), the rest copied, inlined files written out.\n"
      "The snapshot is never modified; DIR appears complete or not at all. Exit 0 ok, 1 the files do not\n"
      "open as a database, 2 usage error, unreadable input, or state that is not a RocksDB database.");
  cmd->add_option("snapshot", args->input, "Snapshot directory or _metadata file")->required();
  cmd->add_option("dir", args->output,
                  "Directory to create (absent or empty; --force replaces an earlier database), or an s3:// prefix "
                  "to fill")
      ->required();
  cmd->add_option("--uid", args->uid, "The operator's uid");
  cmd->add_option("--operator", args->operator_id, "The operator's id (32 hex digits)");
  cmd->add_option("--subtask", args->subtask, "Subtask index")->required();
  add_map_option(*cmd, args->maps);
  add_storage_config_option(*cmd, args->defines);
  add_allow_outside_option(*cmd, args->allow_outside);
  cmd->add_flag("--copy", args->copy, "Copy table files instead of hard-linking them");
  cmd->add_flag("--force", args->force, "Replace DIR if it holds a RocksDB database (never other data)");
  cmd->add_flag("--no-check", args->no_check, "Do not open the result with RocksDB before publishing it");
  add_dry_run_flag(*cmd, args->dry_run, "write");
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->callback([args, &exit_code] { exit_code = run_materialize(*args); });
}

}  // namespace ckpt::cli
