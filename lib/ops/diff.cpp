#include "ops/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "flink/checkpoint_properties.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/mutf8.h"
#include "ops/inspect.h"
#include "snapshot/file_refs.h"
#include "util/saturating.h"

namespace ckpt::ops {
namespace {

snapshot::Location location_of(const SnapshotInput& in) {
  if (in.location) return *in.location;
  snapshot::Location loc;  // an export: nothing on disk to resolve against
  loc.metadata = in.label;
  loc.directory = ".";
  return loc;
}

bool same(const ckpt::StateBytes& x, const ckpt::StateBytes& y) {
  return x.keyed() == y.keyed() && x.operator_() == y.operator_() && x.channel() == y.channel() &&
         x.coordinator() == y.coordinator();
}

void add_change(ckpt::DiffReport& out, std::string field, std::string x, std::string y) {
  ckpt::PropertyChange* p = out.add_properties();
  p->set_field(std::move(field));
  p->set_a(std::move(x));
  p->set_b(std::move(y));
}

void add_props(const flink::Metadata& a, const flink::Metadata& b, ckpt::DiffReport& out) {
  auto cmp = [&](std::string field, std::string x, std::string y) {
    if (x != y) add_change(out, std::move(field), std::move(x), std::move(y));
  };
  cmp("version", std::to_string(a.version), std::to_string(b.version));
  cmp("checkpoint id", std::to_string(a.checkpoint_id), std::to_string(b.checkpoint_id));
  cmp("trailer", std::string(flink::describe(a.trailer_state)), std::string(flink::describe(b.trailer_state)));
  if (a.trailing != b.trailing) {
    add_change(out, "trailing bytes", fmt::format("{} bytes", a.trailing.size()),
               fmt::format("{} bytes", b.trailing.size()));
  }
  bool pa = a.trailer_state == flink::TrailerState::kParsed, pb = b.trailer_state == flink::TrailerState::kParsed;
  if (pa && pb) {
    const auto &x = a.properties, &y = b.properties;
    cmp("kind", std::string(flink::describe(x)), std::string(flink::describe(y)));
    cmp("type", x.type_name, y.type_name);
    cmp("sharing strategy", x.sharing_strategy, y.sharing_strategy);
    auto flag = [&](const char* name, bool u, bool v) { cmp(name, u ? "true" : "false", v ? "true" : "false"); };
    flag("discard on cancellation", x.discard_cancelled, y.discard_cancelled);
    flag("discard on failure", x.discard_failed, y.discard_failed);
    flag("discard on finish", x.discard_finished, y.discard_finished);
    flag("discard when subsumed", x.discard_subsumed, y.discard_subsumed);
    flag("discard on suspension", x.discard_suspended, y.discard_suspended);
    flag("forced", x.forced, y.forced);
    flag("unclaimed", x.unclaimed, y.unclaimed);
  } else if (pa != pb) {
    cmp("kind", pa ? std::string(flink::describe(a.properties)) : "-",
        pb ? std::string(flink::describe(b.properties)) : "-");
  } else if (a.trailer_state == flink::TrailerState::kUnparsed && a.trailer != b.trailer) {
    add_change(out, "trailer bytes", fmt::format("{} bytes", a.trailer.size()),
               fmt::format("{} bytes", b.trailer.size()));
  }
  auto masters = [](const flink::Metadata& m) {
    std::string s;
    for (const auto& ms : m.masters) s += (s.empty() ? "" : ", ") + io::mutf8_to_utf8(ms.name);
    return s.empty() ? std::string("-") : s;
  };
  cmp("master states", masters(a), masters(b));
}

std::string file_key(const snapshot::FileRef& f) {
  if (f.form == snapshot::PathForm::kSegment) return fmt::format("{}@{}+{}", f.path, f.segment_start, f.size);
  return f.path;
}

// A file as one side names it (the first handle referring to it). Made into a DiffFile only when
// the report lists it: a side of a large snapshot holds ~10^5 of these.
struct SideFile {
  flink::StreamRef ref;
  int64_t size = 0;
};

void fill(const flink::Metadata& md, const std::string& key, const SideFile& f, int64_t size_a, int64_t size_b,
          ckpt::DiffFile& e) {
  e.set_path(key);
  e.set_size_a(size_a);
  e.set_size_b(size_b);
  e.set_operator_id(flink::to_hex(md.operators[static_cast<std::size_t>(f.ref.operator_index)].id));
  e.set_subtask(f.ref.subtask_index);
  e.set_role(std::string(flink::role_name(f.ref.role)));
  e.set_local_name(io::mutf8_to_utf8(f.ref.local_path));
}

// Every file, by file key.
std::map<std::string, SideFile> files_of(const flink::Metadata& md, const snapshot::Location& loc) {
  std::map<std::string, SideFile> out;
  for (const auto& f : snapshot::file_refs(md, loc.directory)) out.try_emplace(file_key(f), SideFile{f.ref, f.size});
  return out;
}

// (operator id, subtask) -> .sst files of its incremental handles, by file key.
using SstSets = std::map<std::pair<std::string, int32_t>, std::map<std::string, SideFile>>;

SstSets sst_of(const flink::Metadata& md, const snapshot::Location& loc) {
  SstSets out;
  for (const auto& f : snapshot::file_refs(md, loc.directory)) {
    if (f.ref.role != flink::Role::kShared && f.ref.role != flink::Role::kPrivate) continue;
    if (!io::mutf8_to_utf8(f.ref.local_path).ends_with(".sst")) continue;
    std::string id = flink::to_hex(md.operators[static_cast<std::size_t>(f.ref.operator_index)].id);
    out[{std::move(id), f.ref.subtask_index}].emplace(file_key(f), SideFile{f.ref, f.size});
  }
  return out;
}

// One operator of A or B and its subtasks' bytes, by subtask index.
struct Side {
  std::string id, uid, name;
  int32_t parallelism = 0, max_parallelism = 0;
  const ckpt::StateBytes* bytes = nullptr;
  std::map<int32_t, const ckpt::StateBytes*> subtasks;  // subtasks that have not finished
};

// The operators of an inspection of every operator with its subtasks, which come operator by
// operator, `subtask_entries` each.
std::vector<Side> sides_of(const InspectResult& res) {
  std::vector<Side> out;
  const auto& subtasks = res.report->subtasks();
  int next = 0;
  for (const auto& o : res.summary().operators()) {
    Side s{o.id(), o.uid(), o.name(), o.parallelism(), o.max_parallelism(), &o.bytes(), {}};
    for (int end = next + o.subtask_entries(); next < end && next < subtasks.size(); ++next) {
      const ckpt::SubtaskSummary& st = subtasks[next];
      if (!st.finished()) s.subtasks[st.index()] = &st.bytes();
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct Matched {
  std::string id;
  std::optional<Side> a, b;
};

bool equal_so_far(const ckpt::DiffReport& r) {
  const ckpt::FileDiff& f = r.files();
  return r.properties().empty() && r.operators().empty() && f.added_count() == 0 && f.dropped_count() == 0 &&
         f.resized().empty() && r.sst().empty();
}

}  // namespace

bool renamed(const ckpt::OperatorDiff& o) { return o.uid_a() != o.uid_b() || o.name_a() != o.name_b(); }

ckpt::DiffReport diff(const SnapshotInput& ia, const SnapshotInput& ib) {
  ckpt::DiffReport r;
  r.set_a(ia.label);
  r.set_b(ib.label);
  const snapshot::Location la = location_of(ia), lb = location_of(ib);
  add_props(ia.md, ib.md, r);

  InspectOptions io;
  io.subtasks = true;
  InspectResult sa = inspect(ia.md, la, io), sb = inspect(ib.md, lb, io);
  *r.mutable_total_a() = sa.summary().bytes();
  *r.mutable_total_b() = sb.summary().bytes();

  // Operators by id, in A's order then B's new ones.
  std::vector<Matched> ops;
  std::map<std::string, std::size_t> index;
  for (Side& a : sides_of(sa)) {
    index[a.id] = ops.size();
    ops.push_back({a.id, std::move(a), std::nullopt});
  }
  for (Side& b : sides_of(sb)) {
    if (auto it = index.find(b.id); it != index.end()) ops[it->second].b = std::move(b);
    else ops.push_back({b.id, std::nullopt, std::move(b)});
  }
  const ckpt::StateBytes none;
  for (const Matched& m : ops) {
    ckpt::OperatorDiff d;
    d.set_change(!m.b ? ckpt::OperatorDiff::REMOVED : !m.a ? ckpt::OperatorDiff::ADDED : ckpt::OperatorDiff::CHANGED);
    d.set_id(m.id);
    static const std::map<int32_t, const ckpt::StateBytes*> no_subtasks;
    if (m.a) {
      d.set_uid_a(m.a->uid);
      d.set_name_a(m.a->name);
      d.set_parallelism_a(m.a->parallelism);
      d.set_max_parallelism_a(m.a->max_parallelism);
      *d.mutable_bytes_a() = *m.a->bytes;
    }
    if (m.b) {
      d.set_uid_b(m.b->uid);
      d.set_name_b(m.b->name);
      d.set_parallelism_b(m.b->parallelism);
      d.set_max_parallelism_b(m.b->max_parallelism);
      *d.mutable_bytes_b() = *m.b->bytes;
    }
    d.mutable_bytes_a();
    d.mutable_bytes_b();
    const auto& ma = m.a ? m.a->subtasks : no_subtasks;
    const auto& mb = m.b ? m.b->subtasks : no_subtasks;
    std::set<int32_t> all;
    for (const auto& [k, v] : ma) all.insert(k);
    for (const auto& [k, v] : mb) all.insert(k);
    for (int32_t s : all) {
      auto x = ma.find(s), y = mb.find(s);
      const ckpt::StateBytes& bx = x != ma.end() ? *x->second : none;
      const ckpt::StateBytes& by = y != mb.end() ? *y->second : none;
      bool in_a = x != ma.end(), in_b = y != mb.end();
      if (in_a == in_b && same(bx, by)) continue;
      ckpt::SubtaskDiff* sd = d.add_subtasks();
      sd->set_index(s);
      sd->set_in_a(in_a);
      sd->set_in_b(in_b);
      *sd->mutable_bytes_a() = bx;
      *sd->mutable_bytes_b() = by;
    }
    bool rescaled = d.parallelism_a() != d.parallelism_b() || d.max_parallelism_a() != d.max_parallelism_b();
    if (m.a && m.b) {
      if (!rescaled && !renamed(d) && same(d.bytes_a(), d.bytes_b()) && d.subtasks().empty()) continue;  // unchanged
      d.set_rescaled(rescaled);
    }
    *r.add_operators() = std::move(d);
  }

  ckpt::FileDiff& files = *r.mutable_files();
  int64_t shared_bytes = 0, added_bytes = 0, dropped_bytes = 0;
  auto fa = files_of(ia.md, la), fb = files_of(ib.md, lb);
  for (const auto& [k, e] : fa) {
    auto it = fb.find(k);
    if (it == fb.end()) {
      files.set_dropped_count(files.dropped_count() + 1);
      util::sat_accumulate(dropped_bytes, std::max<int64_t>(e.size, 0));
      fill(ia.md, k, e, e.size, -1, *files.add_dropped());
      continue;
    }
    files.set_shared_count(files.shared_count() + 1);
    util::sat_accumulate(shared_bytes, std::max<int64_t>(it->second.size, 0));
    if (it->second.size != e.size) fill(ia.md, k, e, e.size, it->second.size, *files.add_resized());
  }
  for (const auto& [k, e] : fb) {
    if (fa.count(k)) continue;
    files.set_added_count(files.added_count() + 1);
    util::sat_accumulate(added_bytes, std::max<int64_t>(e.size, 0));
    fill(ib.md, k, e, -1, e.size, *files.add_added());
  }
  files.set_shared_bytes(shared_bytes);
  files.set_added_bytes(added_bytes);
  files.set_dropped_bytes(dropped_bytes);

  SstSets xa = sst_of(ia.md, la), xb = sst_of(ib.md, lb);
  std::set<std::pair<std::string, int32_t>> keys;
  for (const auto& [k, v] : xa) keys.insert(k);
  for (const auto& [k, v] : xb) keys.insert(k);
  for (const auto& k : keys) {
    ckpt::SstChange c;
    c.set_operator_id(k.first);
    c.set_subtask(k.second);
    const auto& sa_set = xa[k];
    const auto& sb_set = xb[k];
    for (const auto& [p, e] : sb_set) {
      if (sa_set.count(p)) c.set_kept(c.kept() + 1);
      else fill(ib.md, p, e, -1, e.size, *c.add_added());
    }
    for (const auto& [p, e] : sa_set) {
      if (!sb_set.count(p)) fill(ia.md, p, e, e.size, -1, *c.add_removed());
    }
    if (!c.added().empty() || !c.removed().empty()) *r.add_sst() = std::move(c);
  }

  if (equal_so_far(r)) {
    try {
      r.set_other(flink::write_metadata(ia.md) != flink::write_metadata(ib.md));
    } catch (const flink::WriteError&) {
      r.set_other(true);
    }
  }
  r.set_equal(equal_so_far(r) && !r.other());
  return r;
}

}  // namespace ckpt::ops
