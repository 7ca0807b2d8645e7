#include "ops/diff.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "flink/checkpoint_properties.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/mutf8.h"
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

bool same(const StateBytes& x, const StateBytes& y) {
  return x.keyed == y.keyed && x.operator_state == y.operator_state && x.channel == y.channel &&
         x.coordinator == y.coordinator;
}

void add_props(const flink::Metadata& a, const flink::Metadata& b, std::vector<PropertyChange>& out) {
  auto cmp = [&](std::string field, std::string x, std::string y) {
    if (x != y) out.push_back({std::move(field), std::move(x), std::move(y)});
  };
  cmp("version", std::to_string(a.version), std::to_string(b.version));
  cmp("checkpoint id", std::to_string(a.checkpoint_id), std::to_string(b.checkpoint_id));
  cmp("trailer", std::string(flink::describe(a.trailer_state)), std::string(flink::describe(b.trailer_state)));
  if (a.trailing != b.trailing) {
    out.push_back(
        {"trailing bytes", fmt::format("{} bytes", a.trailing.size()), fmt::format("{} bytes", b.trailing.size())});
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
    out.push_back(
        {"trailer bytes", fmt::format("{} bytes", a.trailer.size()), fmt::format("{} bytes", b.trailer.size())});
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

struct FileInfo {
  FileEntry entry;
};

std::map<std::string, FileEntry> files_of(const flink::Metadata& md, const snapshot::Location& loc, bool side_b) {
  std::map<std::string, FileEntry> out;
  for (const auto& f : snapshot::file_refs(md, loc.directory)) {
    std::string key = file_key(f);
    auto [it, fresh] = out.try_emplace(key);
    if (!fresh) continue;
    FileEntry& e = it->second;
    e.path = key;
    (side_b ? e.size_b : e.size_a) = f.size;
    e.operator_id = flink::to_hex(md.operators[static_cast<std::size_t>(f.ref.operator_index)].id);
    e.subtask = f.ref.subtask_index;
    e.role = f.ref.role;
    e.local_name = io::mutf8_to_utf8(f.ref.local_path);
  }
  return out;
}

// (operator id, subtask) -> .sst files of its incremental handles, by file key.
using SstSets = std::map<std::pair<std::string, int32_t>, std::map<std::string, FileEntry>>;

SstSets sst_of(const flink::Metadata& md, const snapshot::Location& loc, bool side_b) {
  SstSets out;
  for (const auto& f : snapshot::file_refs(md, loc.directory)) {
    if (f.ref.role != flink::Role::kShared && f.ref.role != flink::Role::kPrivate) continue;
    std::string local = io::mutf8_to_utf8(f.ref.local_path);
    if (!local.ends_with(".sst")) continue;
    FileEntry e;
    e.path = file_key(f);
    (side_b ? e.size_b : e.size_a) = f.size;
    e.operator_id = flink::to_hex(md.operators[static_cast<std::size_t>(f.ref.operator_index)].id);
    e.subtask = f.ref.subtask_index;
    e.role = f.ref.role;
    e.local_name = local;
    out[{e.operator_id, e.subtask}].emplace(e.path, e);
  }
  return out;
}

}  // namespace

bool DiffResult::equal() const {
  if (!properties.empty() || added.count || dropped.count || !resized_files.empty() || !sst.empty() || other)
    return false;
  for (const auto& o : operators) {
    if (o.change != OperatorDiff::Change::kUnchanged) return false;
  }
  return true;
}

DiffResult diff(const SnapshotInput& ia, const SnapshotInput& ib) {
  DiffResult r;
  r.label_a = ia.label;
  r.label_b = ib.label;
  const snapshot::Location la = location_of(ia), lb = location_of(ib);
  add_props(ia.md, ib.md, r.properties);

  InspectOptions io;
  io.subtasks = true;
  InspectResult sa = inspect(ia.md, la, io), sb = inspect(ib.md, lb, io);
  r.total_a = sa.summary.bytes;
  r.total_b = sb.summary.bytes;

  // Operators by id, in A's order then B's new ones.
  std::map<std::string, std::size_t> index;
  auto subtask_bytes = [](const InspectResult& res, int op_index) {
    std::map<int32_t, StateBytes> m;
    for (const auto& s : res.subtasks) {
      if (s.operator_index == op_index && !s.finished) m[s.index] = s.bytes;
    }
    return m;
  };
  for (const auto& o : sa.summary.operators) {
    OperatorDiff d;
    d.change = OperatorDiff::Change::kRemoved;
    d.id = o.id;
    d.uid_a = o.uid;
    d.name_a = o.name;
    d.parallelism_a = o.parallelism;
    d.max_parallelism_a = o.max_parallelism;
    d.a = o.bytes;
    index[o.id] = r.operators.size();
    r.operators.push_back(std::move(d));
  }
  std::map<std::string, int> a_index, b_index;
  for (const auto& o : sa.summary.operators) a_index[o.id] = o.index;
  for (const auto& o : sb.summary.operators) {
    b_index[o.id] = o.index;
    auto it = index.find(o.id);
    OperatorDiff* d;
    if (it == index.end()) {
      r.operators.emplace_back();
      d = &r.operators.back();
      d->change = OperatorDiff::Change::kAdded;
      d->id = o.id;
    } else {
      d = &r.operators[it->second];
      d->change = OperatorDiff::Change::kUnchanged;
    }
    d->uid_b = o.uid;
    d->name_b = o.name;
    d->parallelism_b = o.parallelism;
    d->max_parallelism_b = o.max_parallelism;
    d->b = o.bytes;
  }
  for (auto& d : r.operators) {
    std::map<int32_t, StateBytes> ma, mb;
    if (a_index.count(d.id)) ma = subtask_bytes(sa, a_index[d.id]);
    if (b_index.count(d.id)) mb = subtask_bytes(sb, b_index[d.id]);
    std::set<int32_t> all;
    for (const auto& [k, v] : ma) all.insert(k);
    for (const auto& [k, v] : mb) all.insert(k);
    for (int32_t s : all) {
      SubtaskDiff sd;
      sd.index = s;
      sd.in_a = ma.count(s) > 0;
      sd.in_b = mb.count(s) > 0;
      if (sd.in_a) sd.a = ma[s];
      if (sd.in_b) sd.b = mb[s];
      if (sd.in_a != sd.in_b || !same(sd.a, sd.b)) d.subtasks.push_back(sd);
    }
    if (d.change == OperatorDiff::Change::kUnchanged &&
        (d.rescaled() || d.renamed() || !same(d.a, d.b) || !d.subtasks.empty())) {
      d.change = OperatorDiff::Change::kChanged;
    }
  }

  auto fa = files_of(ia.md, la, false), fb = files_of(ib.md, lb, true);
  for (auto& [k, e] : fa) {
    auto it = fb.find(k);
    if (it == fb.end()) {
      ++r.dropped.count;
      util::sat_accumulate(r.dropped.bytes, std::max<int64_t>(e.size_a, 0));
      r.dropped_files.push_back(e);
      continue;
    }
    ++r.shared.count;
    util::sat_accumulate(r.shared.bytes, std::max<int64_t>(it->second.size_b, 0));
    if (it->second.size_b != e.size_a) {
      FileEntry x = e;
      x.size_b = it->second.size_b;
      r.resized_files.push_back(x);
    }
  }
  for (auto& [k, e] : fb) {
    if (fa.count(k)) continue;
    ++r.added.count;
    util::sat_accumulate(r.added.bytes, std::max<int64_t>(e.size_b, 0));
    r.new_files.push_back(e);
  }

  SstSets xa = sst_of(ia.md, la, false), xb = sst_of(ib.md, lb, true);
  std::set<std::pair<std::string, int32_t>> keys;
  for (const auto& [k, v] : xa) keys.insert(k);
  for (const auto& [k, v] : xb) keys.insert(k);
  for (const auto& k : keys) {
    SstChange c;
    c.operator_id = k.first;
    c.subtask = k.second;
    const auto& sa_set = xa[k];
    const auto& sb_set = xb[k];
    for (const auto& [p, e] : sb_set) {
      if (sa_set.count(p)) ++c.kept;
      else c.added.push_back(e);
    }
    for (const auto& [p, e] : sa_set) {
      if (!sb_set.count(p)) c.removed.push_back(e);
    }
    if (!c.added.empty() || !c.removed.empty()) r.sst.push_back(std::move(c));
  }

  if (r.equal()) {
    try {
      r.other = flink::write_metadata(ia.md) != flink::write_metadata(ib.md);
    } catch (const flink::WriteError&) {
      r.other = true;
    }
  }
  return r;
}

}  // namespace ckpt::ops
