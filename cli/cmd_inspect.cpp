// `ckpt inspect`: flags, one call into ops::inspect per snapshot, rendering.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "codec/json.h"
#include "commands.h"
#include "console.h"
#include "export/report_json.h"
#include "flink/checkpoint_properties.h"
#include "flink/metadata_reader.h"
#include "flink/operator_id.h"
#include "inspect_root.h"
#include "io/decode_error.h"
#include "map_flags.h"
#include "ops/inspect.h"
#include "ops/list_snapshots.h"
#include "ops/snapshot_input.h"
#include "ops/snapshot_source.h"
#include "ops/state_breakdown.h"
#include "output_flags.h"
#include "path_args.h"
#include "render.h"
#include "snapshot/discovery.h"
#include "storage_flags.h"

namespace ckpt::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool json = false;
  bool pretty = false;
  ops::InspectOptions options;
  std::string uid;
  std::string operator_id;
  std::vector<std::string> defines;
  std::vector<std::string> maps;
  RootListingArgs root;
  bool states = false;
};

std::string operator_label(const ckpt::OperatorSummary& o) {
  if (!o.uid().empty() && !o.name().empty() && o.uid() != o.name()) return fmt::format("{} ({})", o.uid(), o.name());
  if (!o.uid().empty()) return o.uid();
  return o.name().empty() ? "-" : o.name();
}

// report.proto's range: the last key group before the first one is an empty range (a range of
// no key groups at INT32_MIN, which the end clamps to, shows as that one key group).
std::string key_groups(const ckpt::SubtaskSummary& ss) {
  if (!ss.has_key_groups()) return "-";
  if (ss.key_group_end() < ss.key_group_start()) return "empty";
  return fmt::format("{}-{}", ss.key_group_start(), ss.key_group_end());
}

std::string render_summary(const ops::InspectResult& r) {
  const ckpt::SnapshotSummary& s = r.summary();
  std::string out;
  out += fmt::format("snapshot    {}\n", s.path());
  out += fmt::format("format      version {} (written by Flink {})\n", s.version(), s.flink_releases());
  out += fmt::format("checkpoint  {}\n", s.checkpoint_id());
  std::string kind(ops::kind_name(s.kind()));
  if (!s.format().empty()) kind += fmt::format(" ({})", s.format());
  if (!s.type().empty()) kind += fmt::format(", type \"{}\"", s.type());
  out += fmt::format("kind        {}\n", kind);
  if (r.properties) {
    if (!s.retention().empty()) out += fmt::format("retention   {}\n", s.retention());
    if (r.properties->forced) out += "forced      yes\n";
    if (r.properties->unclaimed) out += "unclaimed   yes (restored in NO_CLAIM mode)\n";
  } else if (s.trailer() == flink::describe(flink::TrailerState::kUnparsed)) {
    out += "properties  present but not understood (kept verbatim)\n";
  }
  if (!s.backend().empty()) out += fmt::format("backend     {}\n", s.backend());
  const ckpt::StateBytes& b = s.bytes();
  out += fmt::format("state       {} (keyed {}, operator {}, channel {}, coordinator {}); inline {}; {} files\n",
                     human_bytes(b.total()), human_bytes(b.keyed()), human_bytes(b.operator_()),
                     human_bytes(b.channel()), human_bytes(b.coordinator()), human_bytes(s.inline_bytes()), s.files());
  out += fmt::format("metadata    {}, modified {} UTC", human_bytes(s.metadata_bytes()), utc_time(r.modified_unix));
  if (s.master_states()) out += fmt::format(", {} master states", s.master_states());
  out += "\n\n";

  Table t({"OPERATOR", "UID / NAME", "PAR/MAX", "SUBTASKS", "KEYED", "OPERATOR", "CHANNEL", "COORD", "INLINE", "FILES"},
          {false, false, true, true, true, true, true, true, true, true});
  for (const auto& o : s.operators()) {
    std::string subtasks =
        o.fully_finished() ? "finished" : fmt::format("{}/{}", o.subtasks_with_state(), o.parallelism());
    if (o.finished_subtasks()) subtasks += fmt::format(" ({} fin)", o.finished_subtasks());
    t.row({o.id(), operator_label(o), fmt::format("{}/{}", o.parallelism(), o.max_parallelism()), subtasks,
           human_bytes(o.bytes().keyed()), human_bytes(o.bytes().operator_()), human_bytes(o.bytes().channel()),
           human_bytes(o.bytes().coordinator()), human_bytes(o.inline_bytes()), std::to_string(o.files())});
  }
  out += t.str();

  const ckpt::InspectReport& rep = *r.report;
  if (rep.subtasks_size() > 0) {
    out += "\n";
    Table st({"OPERATOR", "SUBTASK", "KEY GROUPS", "STATE", "INLINE", "HANDLES"},
             {false, true, false, true, true, false});
    for (const auto& ss : rep.subtasks()) {
      if (ss.finished()) {
        st.row({ss.operator_id(), std::to_string(ss.index()), "-", "-", "-", "finished"});
        continue;
      }
      std::string handles;
      for (const auto& h : ss.handles()) {
        if (!handles.empty()) handles += "; ";
        handles += fmt::format("{}: {} {}", h.slot(), h.kind(), human_bytes(h.bytes()));
      }
      st.row({ss.operator_id(), std::to_string(ss.index()), key_groups(ss), human_bytes(ss.bytes().total()),
              human_bytes(ss.inline_bytes()), handles.empty() ? "-" : handles});
    }
    out += st.str();
  }

  if (rep.files_size() > 0) {
    out += "\n";
    Table ft({"PATH", "SIZE", "OPERATOR", "SUBTASK", "ROLE", "SCOPE", "FORM"},
             {false, true, false, true, false, false, false});
    for (const auto& f : rep.files()) {
      std::string path = f.resolved().empty() ? f.path() : f.resolved();
      if (!f.local_name().empty()) path += fmt::format(" [{}]", f.local_name());
      ft.row({path, human_bytes(f.size()), f.operator_id(), f.subtask() < 0 ? "-" : std::to_string(f.subtask()),
              f.role(), f.shared() ? "shared" : "exclusive", f.form()});
    }
    out += ft.empty() ? "no files: all state is inline\n" : ft.str();
  }
  return out;
}

// One snapshot: the full summary (with --subtasks, --files, --uid, --operator) or its JSON report.
// Read one operator at a time unless --files needs the whole model: the JSON of a 30 MB
// `_metadata` then holds one operator's model, not all of them.
int inspect_one(const InspectArgs& a, ops::SnapshotSource& source, const snapshot::Location& loc) {
  ops::InspectOptions options = a.options;
  options.large_arena = a.json || options.subtasks || options.files;  // the table of a summary is small
  std::optional<flink::Metadata> md;
  std::optional<flink::OperatorStream> operators;
  if (options.files) {
    md = source.read(loc);
  } else {
    operators.emplace(source.stream(loc));
  }
  ops::InspectResult r = md ? ops::inspect(*md, loc, options) : ops::inspect(*operators, loc, options);
  if ((a.options.uid || a.options.operator_id) && r.summary().operators().empty()) {
    // As in text mode, with or without --json: nothing matched is a problem (exit 1), not a report.
    throw util::Error(
        util::ErrorKind::kProblems,
        "no operator matches " + (a.options.uid ? "uid " + *a.options.uid : "id " + *a.options.operator_id));
  }
  if (a.json) {
    if (md) {
      report_json::write_inspect_report(*md, r, a.pretty, stdout);
    } else {
      report_json::write_inspect_report(*operators, r, a.pretty, stdout);
    }
    return kExitOk;
  }
  std::fputs(render_summary(r).c_str(), stdout);
  return kExitOk;
}

std::string render_states(const ckpt::StatesReport& r) {
  Table t({"OPERATOR", "STATE", "KIND", "KEY", "NAMESPACE", "VALUE", "TTL", "ENTRIES", "BYTES", "SUBTASKS"},
          {false, false, false, false, false, false, false, true, true, true});
  for (const ckpt::StateRow& row : r.states()) {
    std::string op = !row.uid().empty()             ? row.uid()
                     : !row.operator_name().empty() ? row.operator_name()
                                                    : row.operator_id().substr(0, 8);
    std::string kind = ckpt::StateKind_Name(row.kind());
    t.row({op, row.state(), kind, row.key_type().empty() ? "-" : row.key_type(),
           row.namespace_type().empty() ? "-" : row.namespace_type(), row.value_type(), row.ttl() ? "yes" : "-",
           std::to_string(row.entries()), human_bytes(static_cast<int64_t>(row.bytes())),
           std::to_string(row.subtasks())});
  }
  std::string out = r.states().empty() ? "no state\n" : t.str();
  bool rocksdb = std::any_of(r.states().begin(), r.states().end(),
                             [](const ckpt::StateRow& row) { return row.source() == ckpt::ROCKSDB_PROPERTIES; });
  if (rocksdb) out += "RocksDB state: entries and bytes from the SST files' table properties (raw key + value bytes)\n";
  return out;
}

// --states: the state of one snapshot, by operator and state (local, or a local copy of an
// object-store snapshot).
int print_states(InspectArgs& a, const std::map<std::string, std::string>& config) {
  std::string bad;
  auto maps = parse_map_flags(a.maps, bad);
  if (!maps) return fail("inspect", "--map " + bad + ": expected PREFIX=DIR");
  std::unique_ptr<ops::StagedSnapshot> staged;
  if (auto e = localise_input(a.path, *maps, config, staged)) return fail("inspect", *e);
  return naming_uris(staged.get(), nullptr, [&]() -> int {
    ops::SnapshotInput in = ops::load_snapshot_input(a.path, ops::InputForm::kFlink);
    if (!in.location) return fail("inspect", a.path + ": --states needs a Flink snapshot");
    ops::OperatorFilter filter;
    filter.uid = a.uid;
    filter.operator_id = a.operator_id;
    ckpt::StatesReport r = ops::state_breakdown(in.md, *in.location, *maps, filter);
    r.set_snapshot(staged ? name_uris(in.location->directory.string(), staged.get(), nullptr)
                          : in.location->directory.string());
    for (auto& p : *r.mutable_problems()) p = name_uris(p, staged.get(), nullptr);
    if (a.json) {
      json::write_json(r, a.pretty, stdout);
      std::fputc('\n', stdout);
    } else {
      std::fputs(render_states(r).c_str(), stdout);
    }
    for (const std::string& p : r.problems()) console::error("ckpt inspect", p);
    return r.problems().empty() ? kExitOk : kExitProblems;
  });
}

int run_inspect(InspectArgs& a) {
  if (!read_in_object_store(a.path)) {
    if (auto e = localise_path_args({&a.path})) return fail("inspect", *e);
  }
  std::string bad;
  auto config = parse_storage_config(a.defines, bad);
  if (!config) return fail("inspect", "-D " + bad + ": expected KEY=VALUE");
  if (!a.uid.empty()) a.options.uid = a.uid;
  if (!a.operator_id.empty()) {
    auto id = flink::parse_operator_id(a.operator_id);
    if (!id) {
      return fail("inspect", "--operator " + a.operator_id + ": expected 32 hex characters");
    }
    a.options.operator_id = flink::to_hex(*id);
  }
  if (a.states) {
    if (a.root.summary || !a.root.who_uses.empty() || root_options_given(a.root)) {
      return fail("inspect", "--states describes one snapshot; it does not go with root options");
    }
    return print_states(a, *config);
  }
  if (a.root.summary || !a.root.who_uses.empty()) {
    if (a.root.summary && !a.root.who_uses.empty()) return fail("inspect", "--summary and --who-uses: give one");
    return a.root.summary ? print_root_summary(a.path, a.json, a.pretty, *config)
                          : print_who_uses(a.path, a.root.who_uses, a.json, a.pretty, *config);
  }
  ops::SnapshotSource source(a.path, *config);
  snapshot::Discovery d = source.discover();
  if (d.single && d.snapshots.empty()) {
    return fail("inspect", d.incomplete.front().string() +
                               ": incomplete checkpoint: no _metadata (the checkpoint never completed)");
  }
  if (d.single) {
    if (root_options_given(a.root)) {
      return fail(
          "inspect",
          a.path + ": --job, --kind, --since, --limit and --sort filter a root's listing; this is one snapshot");
    }
    return inspect_one(a, source, d.snapshots.front());
  }

  ops::SnapshotList list = ops::list_snapshots(d, &source);
  if (auto e = filter_listing(a.root, list)) return fail("inspect", *e);
  int rc = list.unreadable || !list.unsearched.empty() ? kExitUsage : kExitOk;
  for (const std::string& why : list.unsearched) {
    console::error("ckpt inspect", why + ": snapshots there are not listed");
  }
  if (a.json) {
    std::vector<const ops::InspectResult*> ok;
    std::vector<std::pair<std::string, std::string>> errors;
    for (const auto& l : list.snapshots) {
      if (l.result) ok.push_back(&*l.result);
      else errors.emplace_back(l.location.metadata.string(), l.error);
    }
    std::vector<std::string> incomplete;
    for (const auto& p : list.incomplete) incomplete.push_back(p.string());
    report_json::write_snapshot_list(ok, errors, incomplete, a.pretty, stdout);
    return rc;
  }
  Table t({"CHECKPOINT", "KIND", "VERSION", "MODIFIED (UTC)", "STATE", "OPERATORS", "PATH"},
          {true, false, true, false, true, true, false});
  for (const auto& l : list.snapshots) {
    if (!l.result) {
      t.row({"?", "unreadable", "?", "-", "-", "-", l.location.metadata.string()});
      continue;
    }
    const auto& s = l.result->summary();
    std::string kind = std::string(ops::kind_name(s.kind())) + (s.format().empty() ? "" : " (" + s.format() + ")");
    t.row({std::to_string(s.checkpoint_id()), kind, std::to_string(s.version()), utc_time(l.result->modified_unix),
           human_bytes(s.bytes().total()), std::to_string(s.operators_size()), s.directory()});
  }
  for (const auto& p : list.incomplete) t.row({"-", "incomplete (no _metadata)", "-", "-", "-", "-", p.string()});
  std::fputs(t.str().c_str(), stdout);
  std::fputs(fmt::format("{} snapshots, {} incomplete\n", list.snapshots.size(), list.incomplete.size()).c_str(),
             stdout);
  for (const auto& l : list.snapshots) {
    if (!l.result) console::error("ckpt inspect", l.error);
  }
  return rc;
}

}  // namespace

void register_inspect(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show what a checkpoint or savepoint holds");
  cmd->footer(
      "Show operators, uids, parallelism, key groups, state sizes and files of a Flink checkpoint or savepoint.\n"
      "PATH may be a _metadata file, a chk-N or savepoint directory, a job directory or a root holding many\n"
      "snapshots (listed newest first).");
  cmd->add_option("path", args->path, "_metadata file, snapshot directory, job directory or root")->required();
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->add_flag("--subtasks", args->options.subtasks, "Per subtask: key-group range, handles and sizes");
  cmd->add_flag("--files", args->options.files, "Every referenced file: size, owner, shared or exclusive, path form");
  cmd->add_option("--uid", args->uid, "Only the operator with this uid (matched by name or by its hashed id)");
  cmd->add_option("--operator", args->operator_id, "Only the operator with this id (32 hex characters)");
  cmd->add_flag("--states", args->states,
                "Per operator and state: kind, serializers, TTL, entries and bytes (RocksDB: from table properties)");
  add_map_option(*cmd, args->maps);
  add_root_listing_options(*cmd, args->root);
  add_storage_config_option(*cmd, args->defines);
  cmd->callback([args, &exit_code] { exit_code = run_inspect(*args); });
}

}  // namespace ckpt::cli
