#include "ops/convert.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <unordered_set>

#include "flink/builder.h"
#include "flink/checkpoint_properties.h"
#include "flink/handles.h"
#include "flink/metadata_reader.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/atomic_file.h"
#include "io/checksum.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "io/mutf8.h"
#include "snapshot/layout.h"
#include "snapshot/read_scope.h"
#include "util/saturating.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

// The model is ours (a private copy), so the const handles visit_streams reports may be edited:
// visit_streams stays the one enumeration of handles.
flink::StreamHandle& edit(const flink::StreamRef& r) { return const_cast<flink::StreamHandle&>(*r.handle); }

// Calls fn(OperatorHandle&) for every operator state handle of a subtask (tag 17 carries
// directories that visit_streams, which reports streams, does not).
template <typename Fn>
void for_each_operator_handle(flink::Metadata& md, Fn&& fn) {
  for (auto& op : md.operators) {
    for (auto& s : op.subtasks) {
      for (auto& h : s.legacy_managed_chain) fn(h);
      for (auto& h : s.legacy_raw_chain) fn(h);
      fn(s.managed_operator);
      fn(s.raw_operator);
    }
  }
}

bool has_scheme(std::string_view p) {
  auto colon = p.find(':');
  auto slash = p.find('/');
  return colon != std::string_view::npos && colon > 0 && (slash == std::string_view::npos || colon < slash);
}

// For "file:/x", "file:///x", "file://localhost/x": the scheme part and the path part "/x".
bool split_local_uri(std::string_view p, std::string_view& scheme, std::string_view& local) {
  for (std::string_view pre : {"file://localhost/", "file:///", "file:/"}) {
    if (p.starts_with(pre)) {
      scheme = p.substr(0, pre.size() - 1);
      local = p.substr(pre.size() - 1);
      return true;
    }
  }
  return false;
}

bool prefix_matches(std::string_view p, std::string_view prefix) {
  return p.starts_with(prefix) && (p.size() == prefix.size() || p[prefix.size()] == '/' || prefix.back() == '/');
}

std::string utf8(flink::Bytes b) { return io::mutf8_to_utf8(b); }

std::string join_reasons(const std::string& head, const std::vector<std::string>& reasons) {
  if (reasons.size() == 1) return head + ": " + reasons.front();
  std::string out = head + ":";
  for (const auto& r : reasons) out += "\n  - " + r;
  return out;
}

std::string op_label(const flink::OperatorState& op, std::size_t i) {
  std::string uid = utf8(op.uid);
  return fmt::format("operator {} ({}{})", i, flink::to_hex(op.id), uid.empty() ? "" : ", uid " + uid);
}

}  // namespace

// ---- relocation ------------------------------------------------------------------------------

std::optional<Relocation> parse_relocation(std::string_view spec) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  Relocation r{std::string(spec.substr(0, eq)), std::string(spec.substr(eq + 1))};
  for (std::string* s : {&r.from, &r.to}) {
    while (s->size() > 1 && s->back() == '/' && !s->ends_with("//")) s->pop_back();
  }
  if (r.from.empty() || r.to.empty()) return std::nullopt;
  return r;
}

std::optional<std::string> relocate_path(std::string_view p, const std::vector<Relocation>& relocations) {
  const Relocation* best = nullptr;
  std::string result;
  for (const auto& r : relocations) {
    if (best && r.from.size() <= best->from.size()) continue;
    if (prefix_matches(p, r.from)) {
      best = &r;
      result = r.to + std::string(p.substr(r.from.size()));
      continue;
    }
    std::string_view scheme, local;
    if (r.from.starts_with('/') && split_local_uri(p, scheme, local) && prefix_matches(local, r.from)) {
      best = &r;
      result = (has_scheme(r.to) ? r.to : std::string(scheme) + r.to) + std::string(local.substr(r.from.size()));
    }
  }
  if (!best) return std::nullopt;
  return result;
}

RelocateStats relocate(flink::Metadata& md, const std::vector<Relocation>& relocations) {
  RelocateStats st;
  if (relocations.empty()) return st;
  std::unordered_set<const flink::StreamHandle*> seen;
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    if (r.handle->tag != flink::stream_tag::kFile && r.handle->tag != flink::stream_tag::kSegment) return;
    if (!seen.insert(r.handle).second) return;
    flink::StreamHandle& h = edit(r);
    if (auto np = relocate_path(utf8(h.name), relocations)) {
      h.name = md.intern(io::utf8_to_mutf8(*np));
      ++st.handles;
    } else {
      ++st.untouched;
    }
  });
  for_each_operator_handle(md, [&](flink::OperatorHandle& h) {
    if (h.tag != flink::operator_tag::kFileMerging) return;
    for (flink::Bytes* dir : {&h.task_owned_dir, &h.shared_dir}) {
      if (dir->empty()) continue;
      if (auto np = relocate_path(utf8(*dir), relocations)) {
        *dir = md.intern(io::utf8_to_mutf8(*np));
        ++st.directories;
      }
    }
  });
  return st;
}

AnchorStats anchor_relative(flink::Metadata& md, const fs::path& source_dir, const fs::path& output_dir,
                            const std::vector<Relocation>& relocations) {
  AnchorStats st;
  const fs::path src = fs::absolute(source_dir).lexically_normal();
  const fs::path dst = fs::absolute(output_dir).lexically_normal();
  std::unordered_set<const flink::StreamHandle*> seen;
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    if (r.handle->tag != flink::stream_tag::kRelativeFile || !seen.insert(r.handle).second) return;
    flink::StreamHandle& h = edit(r);
    std::string rel = utf8(h.name);
    std::string uri = "file:" + (src / rel).lexically_normal().string();
    if (auto np = relocate_path(uri, relocations)) uri = *np;
    snapshot::ResolvedPath now = snapshot::resolve_absolute(uri, {});
    if (now.kind == snapshot::ResolvedPath::Kind::kLocal && now.local == (dst / rel).lexically_normal()) {
      ++st.kept_relative;
      return;
    }
    h.tag = flink::stream_tag::kFile;
    h.name = md.intern(io::utf8_to_mutf8(uri));
    ++st.made_absolute;
  });
  return st;
}

// ---- format version --------------------------------------------------------------------------

flink::CheckpointProperties savepoint_properties_for(const flink::Metadata& md) {
  bool canonical = true;
  for (const auto& op : md.operators) {
    for (const auto& s : op.subtasks) {
      for (const flink::KeyedHandle* k : {&s.managed_keyed, &s.raw_keyed}) {
        if (!k->is_null() && k->tag != flink::keyed_tag::kSavepointKeyGroups) canonical = false;
      }
    }
  }
  return flink::savepoint_properties(canonical ? flink::CheckpointProperties::Format::kCanonical
                                               : flink::CheckpointProperties::Format::kNative);
}

VersionChange change_version(flink::Metadata& md, int32_t to, PropertiesChoice choice,
                             std::optional<snapshot::DirKind> dir_kind) {
  VersionChange vc;
  vc.from = md.version;
  vc.to = to;
  if (to == md.version) return vc;
  std::vector<std::string> loss;
  if (to < 2 || to > flink::kMaxReadableVersion) {
    throw ConvertError(
        fmt::format("format version {} cannot be written: expected 2..{}", to, flink::kMaxReadableVersion));
  }
  if (md.version == 1) {
    throw ConvertError(
        "version 1 (Flink 1.2) files keep their layout: their per-chain operator state has no "
        "exact equivalent in later versions");
  }
  for (std::size_t i = 0; i < md.operators.size(); ++i) {
    const auto& op = md.operators[i];
    if (to < 5 && (!op.name.empty() || !op.uid.empty())) {
      loss.push_back(fmt::format("{}: its name/uid exist only in version 5+ files", op_label(op, i)));
    }
    if (to == 2 && !op.coordinator.is_null()) {
      loss.push_back(fmt::format("{}: coordinator state exists only in version 3+ files", op_label(op, i)));
    }
    if (to == 2 && op.fully_finished()) {
      loss.push_back(fmt::format("{}: fully finished operators exist only in version 3+ files", op_label(op, i)));
    }
    if (md.version == 2 && op.legacy_chain_length != 1) {
      loss.push_back(fmt::format("{}: the version 2 chain length {} has no place in version {}", op_label(op, i),
                                 op.legacy_chain_length, to));
    }
    for (const auto& s : op.subtasks) {
      std::string where = fmt::format("{} subtask {}", op_label(op, i), s.index);
      if (md.version == 2 && s.legacy_duration != -1) {
        loss.push_back(
            fmt::format("{}: the version 2 duration {} has no place in version {}", where, s.legacy_duration, to));
      }
      if (md.version == 2 && !s.legacy_operator_states.empty()) {
        loss.push_back(fmt::format("{}: legacy (Checkpointed) operator state exists only in version 2 files", where));
      }
      if (to == 2 && s.finished) loss.push_back(where + ": finished subtask markers exist only in version 3+ files");
      if (to == 2 && (!s.input_channels.empty() || !s.output_channels.empty())) {
        loss.push_back(where + ": channel state exists only in version 3+ files");
      }
      if (to < 6) {
        for (const auto* list : {&s.input_channels, &s.output_channels}) {
          for (const auto& c : *list) {
            if (c.merged()) loss.push_back(where + ": merged channel handles exist only in version 6+ files");
          }
        }
      }
      if (to != 3) {
        for (const auto* list : {&s.input_channels, &s.output_channels}) {
          for (const auto& c : *list) {
            if (!c.has_subtask_index) {
              loss.push_back(where +
                             ": channel handles without a subtask index exist only in Flink 1.11 version 3 files");
            }
          }
        }
      }
      if (to < 7 && s.ref_marker != 0) {
        loss.push_back(fmt::format("{}: its reference to checkpoint {} exists only in version 7 files", where,
                                   s.ref_checkpoint_id));
      }
    }
  }
  if (to < 4 && md.version >= 4 && md.trailer_state != flink::TrailerState::kNull) {
    loss.push_back(fmt::format("the checkpoint properties ({}) exist only in version 4+ files",
                               md.trailer_state == flink::TrailerState::kParsed
                                   ? std::string(flink::describe(md.properties))
                                   : "a trailer ckpt does not understand"));
  }
  if (!loss.empty()) {
    std::sort(loss.begin(), loss.end());
    loss.erase(std::unique(loss.begin(), loss.end()), loss.end());
    throw ConvertError(
        join_reasons(fmt::format("refusing to convert version {} to {}: fields would be lost", md.version, to), loss));
  }

  if (to < 4 && md.version >= 4) {
    md.trailer = {};
    md.trailer_state = flink::TrailerState::kAbsent;
    md.properties = {};
    vc.notes.push_back("the null properties trailer is dropped (version 3 files have none)");
  } else if (to >= 4 && md.version < 4) {
    PropertiesChoice c = choice;
    if (c == PropertiesChoice::kFromDirectory) {
      if (dir_kind == snapshot::DirKind::kCheckpoint) c = PropertiesChoice::kCheckpoint;
      else if (dir_kind == snapshot::DirKind::kSavepoint) c = PropertiesChoice::kSavepoint;
      else
        throw ConvertError(fmt::format(
            "refusing to convert version {} to {}: version 4+ files record whether they are a checkpoint or a "
            "savepoint, version {} files do not, and the directory name does not tell; pass --properties "
            "checkpoint|savepoint|null",
            md.version, to, md.version));
    }
    if (c == PropertiesChoice::kNull) {
      md.trailer = md.intern(flink::encode_null_trailer());
      md.trailer_state = flink::TrailerState::kNull;
      md.properties = {};
      vc.notes.push_back("wrote a null properties trailer (as the State Processor API does)");
    } else {
      md.properties = c == PropertiesChoice::kCheckpoint
                          ? flink::checkpoint_properties(flink::Retention::kRetainOnCancellation)
                          : savepoint_properties_for(md);
      md.trailer = md.intern(flink::encode_properties_trailer(md.properties));
      md.trailer_state = flink::TrailerState::kParsed;
      vc.notes.push_back(fmt::format("version {} has no properties: wrote \"{}\"{} (synthesized, not read)", md.version,
                                     flink::describe(md.properties),
                                     c == PropertiesChoice::kCheckpoint ? ", retention RETAIN_ON_CANCELLATION" : ""));
    }
  }
  md.version = to;
  try {
    (void)flink::write_metadata(md);
  } catch (const flink::WriteError& e) {
    throw ConvertError(fmt::format("refusing to convert version {} to {}: {}", vc.from, to, e.what()));
  }
  return vc;
}

// ---- self-contained --------------------------------------------------------------------------

namespace {

bool plain_file_name(std::string_view n) {
  if (n.empty() || n.size() > 200 || n.front() == '.' || n == snapshot::kMetadataFileName) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

bool has_dotdot(std::string_view rel) {
  fs::path p{std::string(rel)};
  return p.is_absolute() || std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
}

}  // namespace

SelfContainedPlan plan_self_contained(const flink::Metadata& in, const snapshot::Location& loc,
                                      const SelfContainOptions& options) {
  SelfContainedPlan plan;
  plan.md = in;
  plan.source_dir = loc.directory;
  plan.scope = snapshot::read_scope(loc, options.mappings, options.allow_outside);
  flink::Metadata& md = plan.md;

  // Fresh names derive from the input, so the same snapshot always gives the same output (and
  // the same pack archive).
  std::mt19937_64 rng(io::xxh64(flink::write_metadata(in)) ^ io::xxh64(loc.directory.string()));

  std::vector<std::string> problems;
  std::vector<std::string> outside;  // sources outside plan.scope: refused before anything else
  std::map<std::tuple<std::string, uint64_t, uint64_t, bool>, std::size_t> by_source;  // -> files index
  std::set<std::string> names;
  std::unordered_set<const flink::StreamHandle*> seen;
  std::vector<snapshot::FileRef> refs = snapshot::file_refs(in, loc.directory, options.mappings);
  std::size_t ri = 0;
  int empty_segments = 0;

  // file_refs and this visit enumerate the same handles in the same order (both are
  // visit_streams), so refs[ri] describes the handle being rewritten.
  flink::visit_streams(md, [&](const flink::StreamRef& r) {
    flink::StreamHandle& h = edit(r);
    if (h.tag == flink::stream_tag::kEmptySegment) {
      if (!seen.insert(r.handle).second) return;
      h = flink::StreamHandle{};
      h.tag = flink::stream_tag::kByteStream;
      h.name = md.intern(flink::random_uuid(rng));
      ++empty_segments;
      return;
    }
    if (!flink::is_file_backed(h)) return;
    const snapshot::FileRef& f = refs.at(ri++);
    if (!seen.insert(r.handle).second) return;
    if (f.form == snapshot::PathForm::kRelative) ++plan.relative_before;
    else if (f.form == snapshot::PathForm::kSegment) ++plan.segments_before;
    else ++plan.absolute_before;

    if (f.form == snapshot::PathForm::kRelative && has_dotdot(f.path)) {
      problems.push_back(fmt::format("{}: relative handle escapes the snapshot directory", f.path));
      return;
    }
    if (f.resolved.kind == snapshot::ResolvedPath::Kind::kRemoteUnmapped) {
      problems.push_back(fmt::format("{}: remote file; mirror it locally and pass --map PREFIX=DIR", f.path));
      return;
    }
    const fs::path& src = f.resolved.local;
    uint64_t actual = 0;
    try {
      actual = io::regular_file_size(plan.scope, src);
    } catch (const io::OutsideScopeError& e) {
      outside.push_back(e.what());
      return;
    } catch (const io::IoError& e) {
      problems.push_back(e.what());
      return;
    }
    bool whole = f.form != snapshot::PathForm::kSegment;
    uint64_t offset = whole ? 0 : static_cast<uint64_t>(f.segment_start);
    uint64_t length = whole ? actual : static_cast<uint64_t>(f.size);
    if (whole && f.size >= 0 && static_cast<uint64_t>(f.size) != actual) {
      problems.push_back(fmt::format("{}: has {} bytes, the handle records {}", src.string(), actual, f.size));
      return;
    }
    if (!whole && (f.size < 0 || f.segment_start < 0 || offset > actual || length > actual - offset)) {
      problems.push_back(fmt::format("{}: segment [{}, +{}) lies outside the file's {} bytes", src.string(),
                                     f.segment_start, f.size, actual));
      return;
    }
    auto key = std::make_tuple(src.string(), offset, length, whole);
    auto it = by_source.find(key);
    if (it == by_source.end()) {
      PlannedFile pf;
      std::string base = src.filename().string();
      pf.name = whole && plain_file_name(base) && !names.count(base) ? base : flink::random_uuid(rng);
      while (names.count(pf.name)) pf.name = flink::random_uuid(rng);
      if (whole && pf.name != base) {
        plan.notes.push_back(
            fmt::format("{} is stored as {} (its name {})", src.string(), pf.name,
                        plain_file_name(base) ? "is taken by another file" : "is not a plain file name"));
      }
      names.insert(pf.name);
      pf.source = src;
      pf.offset = offset;
      pf.length = length;
      pf.whole = whole;
      pf.original = f.path;
      pf.form = f.form;
      util::sat_accumulate(plan.total_bytes, length);
      it = by_source.emplace(key, plan.files.size()).first;
      plan.files.push_back(std::move(pf));
    }
    PlannedFile& pf = plan.files[it->second];
    ++pf.handles;
    int64_t size = whole ? h.size : static_cast<int64_t>(length);
    h = flink::StreamHandle{};
    h.tag = flink::stream_tag::kRelativeFile;
    h.name = md.intern(pf.name);
    h.size = size;
  });
  if (!outside.empty()) throw io::outside_error(std::move(outside));
  if (!problems.empty()) {
    throw ConvertError(
        join_reasons(fmt::format("{}: cannot make the snapshot self-contained", loc.metadata.string()), problems));
  }

  int tag17 = 0;
  for_each_operator_handle(md, [&](flink::OperatorHandle& h) {
    if (h.tag != flink::operator_tag::kFileMerging) return;
    h.tag = flink::operator_tag::kStream;
    h.task_owned_dir = {};
    h.shared_dir = {};
    h.is_empty = 0;
    ++tag17;
  });
  if (plan.segments_before) {
    plan.notes.push_back(
        fmt::format("{} file-merging segments (tag 15) cut out into their own files", plan.segments_before));
  }
  if (empty_segments)
    plan.notes.push_back(fmt::format("{} empty segments (tag 16) became empty inline handles", empty_segments));
  if (tag17)
    plan.notes.push_back(fmt::format("{} file-merging operator handles (tag 17) became plain ones (tag 4)", tag17));

  if (md.version >= 4) {
    bool already = md.trailer_state == flink::TrailerState::kParsed &&
                   md.properties.kind == flink::CheckpointProperties::Kind::kSavepoint;
    if (!already) {
      std::string before = md.trailer_state == flink::TrailerState::kParsed
                               ? std::string(flink::describe(md.properties))
                               : std::string(flink::describe(md.trailer_state));
      md.properties = savepoint_properties_for(md);
      md.trailer = md.intern(flink::encode_properties_trailer(md.properties));
      md.trailer_state = flink::TrailerState::kParsed;
      plan.notes.push_back(fmt::format("properties: {} -> {}", before, flink::describe(md.properties)));
    }
  } else {
    plan.notes.push_back(
        fmt::format("version {} files record no properties: the directory is a savepoint by layout only", md.version));
  }
  try {
    plan.metadata = flink::write_metadata(md);
  } catch (const flink::WriteError& e) {
    throw ConvertError(loc.metadata.string() + ": cannot write the self-contained metadata: " + e.what());
  }
  return plan;
}

void check_output_location(const SelfContainedPlan& plan, const fs::path& out) {
  fs::path o = fs::absolute(out).lexically_normal();
  fs::path src = fs::absolute(plan.source_dir).lexically_normal();
  if (snapshot::is_within(o, src)) {
    throw io::IoError(out.string() + ": lies inside the input snapshot directory " + plan.source_dir.string() +
                      " (inputs are never modified)");
  }
  if (snapshot::is_within(src, o)) {
    throw io::IoError(out.string() + ": contains the input snapshot directory " + plan.source_dir.string());
  }
  for (const auto& f : plan.files) {
    if (snapshot::is_within(fs::absolute(f.source).lexically_normal(), o)) {
      throw io::IoError(out.string() + ": contains the input file " + f.source.string());
    }
  }
}

WriteStats write_self_contained(const SelfContainedPlan& plan, const fs::path& out, bool replace, bool copy,
                                const util::ProgressFn& progress) {
  check_output_location(plan, out);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out, ec))) {
    if (!replace) throw io::IoError(out.string() + ": already exists (use --force to replace it)");
    struct stat st {};
    if (::lstat((out / std::string(snapshot::kMetadataFileName)).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw io::IoError(out.string() +
                        ": exists and is not a snapshot directory (no _metadata); not replaced even with --force");
    }
  }
  WriteStats ws;
  uint64_t total = 0;
  for (const auto& f : plan.files) util::sat_accumulate(total, f.length);
  fs::path tmp = io::make_temp_dir_beside(out);
  try {
    for (const auto& f : plan.files) {
      fs::path target = tmp / f.name;
      if (f.whole) {
        if (io::link_or_copy(plan.scope, f.source, target, !copy) == io::PlaceMethod::kLink) ++ws.linked;
        else ++ws.copied;
      } else {
        io::copy_range(plan.scope, f.source, f.offset, f.length, target);
        ++ws.cut;
      }
      util::sat_accumulate(ws.bytes, f.length);
      if (progress) progress(ws.bytes, total);
    }
    io::write_file_atomically(tmp / std::string(snapshot::kMetadataFileName), plan.metadata, false);
    io::fsync_directory(tmp);
    std::vector<std::string> problems = check_self_contained(tmp);
    if (!problems.empty())
      throw ConvertError(join_reasons(out.string() + ": the written directory fails its check", problems));
    io::publish_directory(tmp, out, replace);
  } catch (...) {
    io::remove_quietly(tmp);
    throw;
  }
  return ws;
}

std::vector<std::string> check_self_contained(const fs::path& dir) {
  std::vector<std::string> problems;
  fs::path mdfile = dir / std::string(snapshot::kMetadataFileName);
  flink::Metadata md;
  try {
    md = flink::read_metadata_file(mdfile);
  } catch (const flink::MetadataError& e) {
    problems.push_back(e.what());
    return problems;
  }
  io::ReadScope inside;
  inside.allow(dir);
  inside.set_description("the directory " + dir.string());
  for (const auto& f : snapshot::file_refs(md, dir)) {
    if (f.form != snapshot::PathForm::kRelative) {
      problems.push_back(
          fmt::format("{}: absolute handle (tag {}), expected a relative one", f.path, f.ref.handle->tag));
      continue;
    }
    if (has_dotdot(f.path) || !snapshot::is_within(f.resolved.local, dir)) {
      problems.push_back(fmt::format("{}: resolves outside {}", f.path, dir.string()));
      continue;
    }
    try {
      uint64_t size = io::regular_file_size(inside, f.resolved.local);
      if (f.size >= 0 && static_cast<uint64_t>(f.size) != size) {
        problems.push_back(
            fmt::format("{}: has {} bytes, the handle records {}", f.resolved.local.string(), size, f.size));
      }
    } catch (const io::IoError& e) {
      problems.push_back(e.what());
    }
  }
  return problems;
}

}  // namespace ckpt::ops
