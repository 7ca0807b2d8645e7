#include "inspect_root.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "codec/json.h"
#include "commands.h"
#include "console.h"
#include "ops/root_summary.h"
#include "ops/snapshot_source.h"
#include "ops/store_plan.h"
#include "render.h"
#include "root.pb.h"
#include "snapshot/layout.h"
#include "util/flink_units.h"

namespace ckpt::cli {
namespace {

// "2h", "7d" back from now, or "2026-12-01", "2026-12-01T10:00[:SS]" (UTC): unix seconds.
std::optional<int64_t> since_of(const std::string& text) {
  if (auto d = util::parse_duration_ns(text)) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return now - *d / 1000000000;
  }
  for (const char* format : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (end && *end == '\0') return static_cast<int64_t>(::timegm(&tm));
  }
  return std::nullopt;
}

// The job a listed snapshot belongs to: its job directory's name, or for a savepoint outside
// one the six hex digits of the job id in its name.
std::string job_of(const snapshot::Location& l) {
  if (!l.job_dir.empty()) return l.job_dir.filename().string();
  std::string name = l.directory.filename().string();
  if (snapshot::is_flink_savepoint_name(name)) return name.substr(snapshot::kSavepointDirPrefix.size(), 6);
  return name;
}

bool job_matches(const std::string& job, const std::string& want) {
  return job.starts_with(want) || (job.size() < want.size() && want.starts_with(job) && job.size() >= 6);
}

}  // namespace

void add_root_listing_options(CLI::App& cmd, RootListingArgs& a) {
  cmd.add_option("--job", a.job, "Root listing: only snapshots of this job id (or a prefix of it)");
  cmd.add_option("--kind", a.kind, "Root listing: only checkpoints or only savepoints")
      ->check(CLI::IsMember({"checkpoint", "savepoint"}));
  cmd.add_option("--since", a.since, "Root listing: only snapshots modified since (2h, 7d, or a UTC date 2026-12-01)");
  cmd.add_option("--limit", a.limit, "Root listing: at most N snapshots (after --sort)")->check(CLI::NonNegativeNumber);
  cmd.add_option("--sort", a.sort, "Root listing order: time (newest first), id (highest first) or size (largest)")
      ->check(CLI::IsMember({"time", "id", "size"}))
      ->capture_default_str();
  cmd.add_flag("--summary", a.summary,
               "Root: per job, the checkpoint count and the bytes that are shared, exclusive and orphaned");
  cmd.add_option("--who-uses", a.who_uses, "Root: which snapshots reference FILE");
}

bool root_options_given(const RootListingArgs& a) {
  return !a.job.empty() || !a.kind.empty() || !a.since.empty() || a.limit > 0 || a.sort != "time" || a.summary ||
         !a.who_uses.empty();
}

std::optional<std::string> filter_listing(const RootListingArgs& a, ops::SnapshotList& list) {
  std::optional<int64_t> since;
  if (!a.since.empty() && !(since = since_of(a.since))) {
    return "--since " + a.since + ": expected a duration (2h, 7d) or a UTC date (2026-12-01, 2026-12-01T10:00)";
  }
  auto keep = [&](const ops::ListedSnapshot& l) {
    if (!a.job.empty() && !job_matches(job_of(l.location), a.job)) return false;
    if (!l.result) return a.kind.empty() && !since;  // unreadable: shown unless a filter needs its facts
    if (!a.kind.empty() && ops::kind_name(l.result->summary().kind()) != a.kind) return false;
    if (since && l.result->modified_unix < *since) return false;
    return true;
  };
  std::erase_if(list.snapshots, [&](const ops::ListedSnapshot& l) { return !keep(l); });
  std::erase_if(list.incomplete, [&](const std::filesystem::path& p) {
    return a.kind == "savepoint" || since ||
           (!a.job.empty() && !job_matches(p.parent_path().filename().string(), a.job));
  });
  auto size = [](const ops::ListedSnapshot& l) { return l.result ? l.result->summary().bytes().total() : -1; };
  auto id = [](const ops::ListedSnapshot& l) { return l.result ? l.result->summary().checkpoint_id() : -1; };
  if (a.sort == "id") {
    std::stable_sort(list.snapshots.begin(), list.snapshots.end(), [&](auto& x, auto& y) { return id(x) > id(y); });
  } else if (a.sort == "size") {
    std::stable_sort(list.snapshots.begin(), list.snapshots.end(), [&](auto& x, auto& y) { return size(x) > size(y); });
  }  // time: list_snapshots' order
  if (a.limit > 0 && list.snapshots.size() > static_cast<std::size_t>(a.limit)) list.snapshots.resize(a.limit);
  return std::nullopt;
}

namespace {

// A root as the two whole-root answers read it: a local directory, or an object-store prefix
// (whose paths are virtual until `name` turns them into URIs).
struct ReadRoot {
  std::optional<ops::StoreRoot> store;
  std::filesystem::path base;  // the root's absolute (or virtual) path
  std::string name(const std::string& path) const { return store ? store->display(path) : path; }
};

ReadRoot read_root(const std::string& root, const std::map<std::string, std::string>& config) {
  ReadRoot r;
  if (ops::is_object_store_path(root)) {
    r.store.emplace(root, config);
    r.base = r.store->virtual_root();
  } else {
    r.base = snapshot::absolute_normal(root);
  }
  return r;
}

}  // namespace

int print_root_summary(const std::string& root, bool json, bool pretty,
                       const std::map<std::string, std::string>& config) {
  ReadRoot rr = read_root(root, config);
  ops::RootSummary s = rr.store ? ops::summarise_store_root(*rr.store, {}) : ops::summarise_root(root, {});
  for (auto& u : s.unreadable) u = rr.name(u);
  if (json) {
    RootSummaryReport r;
    r.set_root(root);
    auto fill = [&rr](JobBytes* b, const ops::JobSummary& j) {
      b->set_job_dir(j.job_dir.empty() ? std::string() : rr.name(j.job_dir.string()));
      b->set_checkpoints(j.checkpoints);
      b->set_savepoints(j.savepoints);
      b->set_incomplete(j.incomplete);
      b->set_files(j.files);
      b->set_total_bytes(j.total_bytes);
      b->set_shared_bytes(j.shared_bytes);
      b->set_exclusive_bytes(j.exclusive_bytes);
      b->set_orphaned_bytes(j.orphaned_bytes);
      b->set_other_bytes(j.other_bytes);
    };
    for (const auto& j : s.jobs) fill(r.add_jobs(), j);
    fill(r.mutable_total(), s.total);
    for (const auto& u : s.unreadable) r.add_unreadable(u);
    std::fputs((json::to_json(r, pretty) + "\n").c_str(), stdout);
  } else {
    Table t({"JOB", "CHECKPOINTS", "SAVEPOINTS", "INCOMPLETE", "TOTAL", "SHARED", "EXCLUSIVE", "ORPHANED"},
            {false, true, true, true, true, true, true, true});
    auto row = [&](const std::string& name, const ops::JobSummary& j) {
      t.row({name, std::to_string(j.checkpoints), std::to_string(j.savepoints), std::to_string(j.incomplete),
             human_bytes(static_cast<int64_t>(j.total_bytes)), human_bytes(static_cast<int64_t>(j.shared_bytes)),
             human_bytes(static_cast<int64_t>(j.exclusive_bytes)),
             human_bytes(static_cast<int64_t>(j.orphaned_bytes))});
    };
    for (const auto& j : s.jobs) row(j.job_dir.lexically_relative(rr.base).string(), j);
    row("total", s.total);
    std::fputs(t.str().c_str(), stdout);
    if (s.total.orphaned_bytes > 0) {
      std::printf("orphaned: referenced by no snapshot; 'ckpt gc --dry-run %s' lists what it would delete\n",
                  root.c_str());
    }
  }
  for (const auto& u : s.unreadable) {
    console::error("ckpt inspect", u + " (its files count as orphaned)");
  }
  return s.unreadable.empty() ? kExitOk : kExitUsage;
}

int print_who_uses(const std::string& root, const std::string& file, bool json, bool pretty,
                   const std::map<std::string, std::string>& config) {
  ReadRoot rr = read_root(root, config);
  // On an object store the file is named by its URI (any of the bucket's schemes).
  auto path = snapshot::local_path_of(file, rr.store ? rr.store->mappings() : std::vector<snapshot::PathMapping>{});
  if (!path) {
    return fail("inspect", "--who-uses " + file +
                               (rr.store ? ": expected an object of " + rr.store->uri() : ": not a local path"));
  }
  snapshot::ReferenceGraph graph =
      rr.store ? ops::store_reference_graph(*rr.store, {}) : snapshot::build_reference_graph({{root, false}}, {});
  std::vector<ops::FileUser> users = ops::who_uses(graph, *path);
  const std::string shown = rr.name(path->string());
  if (json) {
    FileUsersReport r;
    r.set_root(root);
    r.set_file(shown);
    for (const auto& u : users) {
      FileUser* f = r.add_users();
      f->set_snapshot(rr.name(u.snapshot.string()));
      f->set_checkpoint_id(u.checkpoint_id);
      f->set_savepoint(u.savepoint);
    }
    std::fputs((json::to_json(r, pretty) + "\n").c_str(), stdout);
  } else if (users.empty()) {
    std::printf("%s: no snapshot under %s references it\n", shown.c_str(), root.c_str());
  } else {
    Table t({"CHECKPOINT", "KIND", "SNAPSHOT"}, {true, false, false});
    for (const auto& u : users) {
      t.row({std::to_string(u.checkpoint_id), u.savepoint ? "savepoint" : "checkpoint", rr.name(u.snapshot.string())});
    }
    std::fputs(t.str().c_str(), stdout);
    std::printf("%zu snapshot%s reference %s\n", users.size(), users.size() == 1 ? "" : "s", shown.c_str());
  }
  int rc = kExitOk;
  for (const auto& s : graph.snapshots) {
    if (s.readable) continue;
    console::error("ckpt inspect",
                   rr.name(s.loc.metadata.string()) + ": " + s.error + " (whether it uses the file is unknown)");
    rc = kExitUsage;
  }
  return rc;
}

}  // namespace ckpt::cli
