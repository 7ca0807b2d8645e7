// `ckpt validate`: flags, one call into ops::validate_path, rendering.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "console.h"
#include "conventions.h"
#include "export/validate_json.h"
#include "flink/metadata_reader.h"
#include "io/decode_error.h"
#include "map_flags.h"
#include "ops/validate.h"
#include "output_flags.h"
#include "path_args.h"
#include "progress.h"
#include "render.h"
#include "storage_flags.h"
#include "util/error.h"
#include "validate/rules.h"

namespace ckpt::cli {
namespace {

struct ValidateArgs {
  std::string path;
  std::vector<std::string> defines;
  bool deep = false;
  bool strict = false;
  bool latest = false;
  bool json = false;
  bool pretty = false;
  bool list_rules = false;
  bool verbose = false;
  unsigned threads = 0;
  std::string expect;
  std::string expect_from;
  std::vector<std::string> maps, allow_outside;
};

std::string summary_line(const ops::SnapshotValidation& v) {
  std::string s =
      fmt::format("{}: {}", v.location.metadata.empty() ? v.location.directory.string() : v.location.metadata.string(),
                  ops::status_name(v.status));
  if (v.status == ops::SnapshotValidation::Status::kUnreadable) return s + ": " + v.error;
  s += fmt::format(" ({} errors, {} warnings, {} notes", v.errors, v.warnings, v.infos);
  if (v.status != ops::SnapshotValidation::Status::kIncomplete) {
    s += fmt::format("; {} of {} files checked", v.files.checked, v.files.referenced);
    if (v.files.not_checked) s += fmt::format(", {} remote not checked", v.files.not_checked);
    if (v.files.bytes_read) s += fmt::format(", {} read", human_bytes(v.files.bytes_read));
  }
  return s + ")";
}

std::string findings_table(const ops::SnapshotValidation& v) {
  Table t({"SEVERITY", "RULE", "WHERE", "MESSAGE"});
  for (const auto& f : v.findings) {
    t.row({std::string(validate::severity_name(f.severity)), f.rule, f.where.empty() ? "-" : f.where, f.message});
  }
  return t.empty() ? "" : console::paint_column(console::Stream::kOut, t.str(), "SEVERITY", [](std::string_view c) {
    static const console::Style error = console::Style::kBad, warning = console::Style::kWarning;
    return c == "error" ? &error : c == "warning" ? &warning : nullptr;
  });
}

int run_validate(ValidateArgs& a) {
  if (a.list_rules) {
    if (a.json) {
      validate_json::write_rule_list(a.pretty, stdout);
      std::fputc('\n', stdout);
      return kExitOk;
    }
    Table t({"RULE", "SEVERITY", "CHECKS"});
    for (const auto& r : validate::all_rules())
      t.row({std::string(r.id), std::string(validate::severity_name(r.severity)), std::string(r.title)});
    std::fputs(t.str().c_str(), stdout);
    return kExitOk;
  }
  if (a.path.empty()) {
    std::fputs("ckpt validate: a PATH is required (or --list-rules)\n", stderr);
    return kExitUsage;
  }
  if (!a.expect.empty() && !a.expect_from.empty()) {
    std::fputs("ckpt validate: --expect and --expect-from exclude each other\n", stderr);
    return kExitUsage;
  }

  ops::ValidateOptions opt;
  opt.files.deep = a.deep;
  opt.files.strict = a.strict;
  opt.files.threads = a.threads;
  std::string bad;
  auto maps = parse_map_flags(a.maps, bad);
  if (!maps) {
    return fail("validate", "--map " + bad + ": expected PREFIX=DIR");
  }
  if (!read_in_object_store(a.path, &*maps)) {
    if (auto e = localise_path_args({&a.path}, &*maps)) return fail("validate", *e);
  }
  if (auto e = localise_path_args({&a.expect, &a.expect_from}, &*maps)) return fail("validate", *e);
  auto config = parse_storage_config(a.defines, bad);
  if (!config) return fail("validate", "-D " + bad + ": expected KEY=VALUE");
  opt.storage_config = std::move(*config);
  opt.files.mappings = std::move(*maps);
  auto allowed = parse_allow_outside(a.allow_outside);
  if (!allowed) {
    return fail("validate", "--allow-outside: expected a directory, got an empty value");
  }
  opt.files.allow_outside = std::move(*allowed);
  std::string expect_source;
  try {
    if (!a.expect.empty()) {
      opt.expect = validate::load_expectation(a.expect);
      expect_source = a.expect;
    } else if (!a.expect_from.empty()) {
      snapshot::Discovery d = snapshot::discover(a.expect_from);
      if (!d.single || d.snapshots.size() != 1) {
        std::fprintf(
            stderr, "ckpt validate: --expect-from %s: expected one snapshot (a _metadata file or snapshot directory)\n",
            a.expect_from.c_str());
        return kExitUsage;
      }
      flink::Metadata other = flink::read_metadata_file(d.snapshots.front().metadata);
      opt.expect = validate::expectation_from(other, d.snapshots.front().metadata.string());
      expect_source = d.snapshots.front().metadata.string();
    }
  } catch (const validate::ExpectError& e) {
    // These three add the flag: the readers know only the file.
    throw util::Error(e.kind(), std::string("--expect ") + e.what());
  } catch (const flink::MetadataError& e) {
    throw util::Error(e.kind(), std::string("--expect-from: ") + e.what());
  } catch (const io::IoError& e) {
    throw util::Error(e.kind(), std::string("--expect-from: ") + e.what());
  }

  // The one reporter (progress.h): only on a terminal, not with -q; cleared when it goes out of scope,
  // also when validate_path throws, before main prints the error.
  Progress progress("validate");
  if (a.deep) opt.files.progress = progress.fn();

  ops::ValidationRun run;
  {
    run = ops::validate_path(a.path, opt, a.latest);
    progress.clear();
  }

  int rc = run.unreadable ? kExitUsage : (run.invalid ? kExitProblems : kExitOk);
  if (a.latest) rc = run.latest_valid ? kExitOk : (run.unreadable ? kExitUsage : kExitProblems);
  if (run.snapshots.empty()) {
    return fail("validate", a.path + ": no snapshots found", a.latest ? kExitProblems : kExitUsage);
  }

  if (a.json) {
    validate_json::ReportInfo info{a.path, a.deep, expect_source, a.latest};
    validate_json::write_validate_report(run, info, a.pretty, stdout);
    std::fputc('\n', stdout);
    return rc;
  }
  for (const auto& v : run.snapshots) {
    if (v.status == ops::SnapshotValidation::Status::kUnreadable) {
      console::error("ckpt validate", v.error);
    }
  }
  if (a.latest) {
    if (a.verbose) {
      for (const auto& v : run.snapshots) std::fprintf(stderr, "%s\n", summary_line(v).c_str());
    }
    if (!run.latest_valid) {
      console::error("ckpt validate",
                     fmt::format("no snapshot under {} passes ({} checked)", a.path, run.snapshots.size()));
      return rc;
    }
    std::fprintf(stdout, "%s\n", validate_json::restore_path(run.snapshots[*run.latest_valid]).c_str());
    return rc;
  }
  const bool single = run.snapshots.size() == 1;
  for (const auto& v : run.snapshots) {
    if (single || a.verbose) {
      std::string t = findings_table(v);
      std::fputs(t.c_str(), stdout);
    }
    std::string line = summary_line(v);
    if (!single && !a.verbose && v.errors > 0) {
      for (const auto& f : v.findings) {
        if (f.severity == validate::Severity::kError) {
          line += fmt::format(": first error {} {}", f.rule, f.message);
          break;
        }
      }
    }
    // The verdict, coloured: "PATH: valid (...)" green, anything else red.
    std::string verdict(ops::status_name(v.status));
    if (auto at = line.find(": " + verdict); at != std::string::npos) {
      auto style = v.status == ops::SnapshotValidation::Status::kValid ? console::Style::kGood : console::Style::kBad;
      line.replace(at + 2, verdict.size(), console::paint(console::Stream::kOut, style, verdict));
    }
    std::fprintf(stdout, "%s\n", line.c_str());
  }
  if (!single) {
    std::fprintf(stdout, "%zu snapshots: %d valid, %d invalid or incomplete, %d unreadable\n", run.snapshots.size(),
                 run.valid, run.invalid, run.unreadable);
  }
  return rc;
}

}  // namespace

void register_validate(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  CLI::App* cmd = app.add_subcommand("validate", "Check that Flink can restore a checkpoint or savepoint");
  long_description(
      cmd,
      "Check a Flink checkpoint or savepoint before restoring from it: the _metadata rules, the files it\n"
      "references, with --deep their contents (RocksDB block checksums, offsets), and with --expect whether\n"
      "the job's operators map onto it. PATH may be a _metadata file, a snapshot directory, a job directory or a\n"
      "root holding many snapshots (one summary line each, newest first).\n"
      "Exit codes: 0 valid, 1 problems found, 2 usage error or unreadable input.");
  cmd->add_option("path", args->path, "_metadata file, snapshot directory, job directory or root");
  cmd->add_flag("--deep", args->deep, "Also read every referenced file: SST checksums, RocksDB files, offsets");
  cmd->add_option("--expect", args->expect,
                  "YAML or JSON list of the job's operators (uid or id, parallelism, maxParallelism)");
  cmd->add_option("--expect-from", args->expect_from,
                  "Take the job's operators from another snapshot (e.g. of the new job version)");
  add_map_option(*cmd, args->maps);
  add_allow_outside_option(*cmd, args->allow_outside);
  add_storage_config_option(*cmd, args->defines);
  cmd->add_flag("--strict", args->strict, "Files on unmapped remote file systems are errors, not 'not checked'");
  cmd->add_flag("--latest", args->latest, "Print the newest snapshot under PATH that passes (exit 1 if none)");
  add_json_flags(*cmd, args->json, args->pretty);
  cmd->add_flag("-v,--verbose", args->verbose, "List findings of every snapshot, not only summary lines");
  cmd->add_option("--threads", args->threads, "Worker threads for --deep (default: one per core)");
  cmd->add_flag("--list-rules", args->list_rules, "Print the rule catalogue and exit");
  cmd->callback([args, &exit_code] { exit_code = run_validate(*args); });
}

}  // namespace ckpt::cli
