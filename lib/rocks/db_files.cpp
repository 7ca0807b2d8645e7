#include "rocks/db_files.h"

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "flink/operator_id.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "io/mutf8.h"
#include "snapshot/file_refs.h"
#include "util/saturating.h"

namespace fs = std::filesystem;

namespace ckpt::rocks {

bool is_sst(std::string_view name) { return name.size() > 4 && name.ends_with(".sst"); }

bool plain_local_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::string subtask_label(const flink::OperatorState& op, int32_t subtask) {
  std::string uid = io::mutf8_to_utf8(op.uid);
  return fmt::format("operator {}{} subtask {}", flink::to_hex(op.id), uid.empty() ? "" : " (uid " + uid + ")",
                     subtask);
}

namespace {

// Fills `f` from a file-backed handle's resolved reference; returns a problem or "".
std::string resolve_file(const snapshot::FileRef& ref, const fs::path& snapshot_dir, const io::ReadScope& scope,
                         DbFile& f) {
  f.original = ref.path;
  if (ref.resolved.kind == snapshot::ResolvedPath::Kind::kRemoteUnmapped) {
    return fmt::format("{}: {}: remote file; mirror it locally and pass --map PREFIX=DIR", f.name, ref.path);
  }
  if (ref.form == snapshot::PathForm::kRelative && !snapshot::is_within(ref.resolved.local, snapshot_dir)) {
    return fmt::format("{}: {}: relative handle resolves outside the snapshot directory", f.name, ref.path);
  }
  f.path = ref.resolved.local;
  uint64_t actual = 0;
  try {
    actual = io::regular_file_size(scope, f.path);
  } catch (const io::OutsideScopeError& e) {
    throw io::OutsideScopeError(fmt::format("{}: {}", f.name, e.what()));
  } catch (const io::IoError& e) {
    return fmt::format("{}: {}", f.name, e.what());
  }
  if (ref.form == snapshot::PathForm::kSegment) {
    f.source = FileSource::kSegment;
    if (ref.size < 0 || ref.segment_start < 0 || static_cast<uint64_t>(ref.segment_start) > actual ||
        static_cast<uint64_t>(ref.size) > actual - static_cast<uint64_t>(ref.segment_start)) {
      return fmt::format("{}: {}: segment [{}, +{}) lies outside the file's {} bytes", f.name, f.path.string(),
                         ref.segment_start, ref.size, actual);
    }
    f.offset = static_cast<uint64_t>(ref.segment_start);
    f.size = static_cast<uint64_t>(ref.size);
    return {};
  }
  if (ref.size >= 0 && static_cast<uint64_t>(ref.size) != actual) {
    return fmt::format("{}: {}: has {} bytes, the handle records {}", f.name, f.path.string(), actual, ref.size);
  }
  f.size = actual;
  return {};
}

}  // namespace

std::vector<DbFiles> db_files_of(const flink::Metadata& md, const fs::path& snapshot_dir,
                                 const std::vector<snapshot::PathMapping>& mappings, const io::ReadScope& scope,
                                 bool materialized) {
  const std::vector<snapshot::FileRef> refs = snapshot::file_refs(md, snapshot_dir, mappings);
  std::unordered_map<const flink::StreamHandle*, const snapshot::FileRef*> by_handle;
  for (const auto& r : refs) by_handle.emplace(r.ref.handle, &r);
  const fs::path dir = fs::absolute(snapshot_dir).lexically_normal();

  std::vector<DbFiles> out;
  auto add = [&](std::size_t oi, int32_t subtask, const flink::IncrementalHandle* inc, std::string where) {
    DbFiles db;
    db.operator_index = static_cast<int>(oi);
    db.subtask = subtask;
    db.handle = inc;
    db.where = std::move(where);
    db.scope = scope;
    std::set<std::string> names;
    bool has_current = false;
    for (const auto* list : {&inc->shared, &inc->private_files}) {
      for (const flink::NamedStream& ns : *list) {
        DbFile f;
        f.name = io::mutf8_to_utf8(ns.local_path);
        f.shared = list == &inc->shared;
        if (!plain_local_name(f.name)) {
          db.problems.push_back(fmt::format("local file name \"{}\" is not a plain file name", f.name));
          continue;
        }
        if (!names.insert(f.name).second) {
          db.problems.push_back(fmt::format("{}: listed twice in the handle", f.name));
          continue;
        }
        has_current = has_current || f.name == "CURRENT";
        const flink::StreamHandle& h = ns.handle;
        std::string problem;
        if (h.tag == flink::stream_tag::kByteStream) {
          f.source = FileSource::kInline;
          f.bytes = h.data;
          f.size = h.data.size();
          f.original = io::mutf8_to_utf8(h.name);
        } else if (h.tag == flink::stream_tag::kEmptySegment) {
          f.source = FileSource::kInline;  // file merging's empty chunk: an empty file
          f.original = "(empty segment)";
        } else if (auto it = by_handle.find(&h); it != by_handle.end()) {
          try {
            problem = resolve_file(*it->second, dir, scope, f);
          } catch (const io::OutsideScopeError& e) {
            db.outside.push_back(db.where + ": " + e.what());
            continue;
          }
        } else {
          problem = fmt::format("{}: stream handle tag {} holds no file bytes", f.name, h.tag);
        }
        if (!problem.empty()) {
          db.problems.push_back(std::move(problem));
          continue;
        }
        util::sat_accumulate(db.bytes, f.size);
        db.files.push_back(std::move(f));
      }
    }
    if (!has_current) db.problems.push_back("no CURRENT file in the handle: not a complete RocksDB database");
    out.push_back(std::move(db));
  };
  for (std::size_t oi = 0; oi < md.operators.size(); ++oi) {
    const flink::OperatorState& op = md.operators[oi];
    for (const flink::SubtaskState& s : op.subtasks) {
      if (s.finished) continue;
      if (const auto* inc = std::get_if<flink::IncrementalHandle>(&s.managed_keyed.body)) {
        add(oi, s.index, inc, subtask_label(op, s.index));
        continue;
      }
      const auto* cl = std::get_if<flink::ChangelogHandle>(&s.managed_keyed.body);
      if (!cl || !materialized) continue;
      for (const flink::KeyedHandle& m : cl->materialized) {
        if (const auto* inc = std::get_if<flink::IncrementalHandle>(&m.body)) {
          add(oi, s.index, inc, subtask_label(op, s.index) + " (changelog, materialized part)");
        }
      }
    }
  }
  return out;
}

DbFiles laid_out_at(const DbFiles& db, const fs::path& dir) {
  DbFiles out = db;
  out.scope = io::ReadScope();
  out.scope.allow(dir);
  for (DbFile& f : out.files) {
    f.source = FileSource::kFile;
    f.path = dir / f.name;
    f.offset = 0;
    f.bytes = {};
    f.original = f.path.string();
  }
  return out;
}

int nested_incremental_count(const flink::Metadata& md) {
  int n = 0;
  for (const auto& op : md.operators) {
    for (const auto& s : op.subtasks) {
      const auto* cl = std::get_if<flink::ChangelogHandle>(&s.managed_keyed.body);
      if (!cl) continue;
      for (const auto& m : cl->materialized) n += std::holds_alternative<flink::IncrementalHandle>(m.body) ? 1 : 0;
    }
  }
  return n;
}

}  // namespace ckpt::rocks
