#include "validate/metadata_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "flink/handles.h"
#include "flink/key_groups.h"
#include "flink/operator_id.h"
#include "io/mutf8.h"
#include "util/saturating.h"

namespace ckpt::validate {

using flink::KeyGroupRange;

std::string_view structural_rule_of(std::string_view m) {
  auto has = [&](std::string_view s) { return m.find(s) != std::string_view::npos; };
  // Order matters: the trailer has its own magic numbers and strings, and a string that is not
  // modified UTF-8 may sit in any slot.
  if (has("checkpoint properties trailer")) return "S08";
  if (has("modified UTF-8")) return "S07";
  if (has("master state")) return "S03";
  if (has("magic number") || has("format version")) return "S01";
  if (has("distribution mode")) return "S06";
  if (has("fully finished")) return "S09";
  if (has(" tag ") || has("channel handle type") || has("coordinator state has")) return "S05";
  if (has("bytes remain") || has("truncated")) return "S04";
  if (has("checkpoint id is") || has("master state count") || has("operator count")) return "S02";
  return "S04";
}

namespace {

std::string range_str(const KeyGroupRange& r) {
  if (r.empty()) return "[] (empty)";
  return fmt::format("[{}, {}]", r.start, static_cast<int64_t>(r.start) + r.count - 1);
}

// Recorded size of a stream, -1 when unknown. Flink records -1 for an unknown file size; tools
// that rewrite snapshots (bravo) record 0. F23/F24 check the real size, D05 offsets against it.
int64_t known_size(const flink::StreamHandle& h) {
  if (flink::is_file_backed(h) && h.size <= 0) return -1;
  if (h.tag == flink::stream_tag::kKeyGroups) return h.key_groups ? known_size(h.key_groups->delegate) : -1;
  return flink::stream_size(h);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

class Checker {
 public:
  Checker(const flink::Metadata& md, const snapshot::Location& loc, Findings& out) : md_(md), loc_(loc), out_(out) {}

  void run() {
    if (md_.version == 1) {
      out_.add("S01", Severity::kWarning, "",
               "format version 1 (Flink 1.2): only Flink 1.3-1.8 can restore it, current releases refuse it");
    } else if (md_.version == 7) {
      out_.add("S01", Severity::kWarning, "",
               "format version 7 is the unreleased regional-checkpoint layout: no released Flink restores it");
    }
    if (md_.version >= 4 && md_.trailer_state == flink::TrailerState::kUnparsed) {
      out_.add("S08", Severity::kWarning, "",
               "the checkpoint properties trailer is a Java serialization stream ckpt does not understand");
    }
    if (!md_.trailing.empty()) {
      out_.add("S12", Severity::kWarning, "",
               fmt::format("{} bytes follow the {}, expected end of file (Flink ignores them and restores the "
                           "snapshot; ckpt keeps them when it rewrites the file)",
                           md_.trailing.size(), md_.version >= 4 ? "checkpoint properties trailer" : "last operator"));
    }
    check_streams();
    for (const auto& op : md_.operators) check_operator(op);
    check_location();
  }

 private:
  // S10, S11 on every leaf stream handle.
  void check_streams() {
    flink::visit_streams(md_, [&](const flink::StreamRef& r) {
      const flink::StreamHandle& h = *r.handle;
      const auto& op = md_.operators[static_cast<std::size_t>(r.operator_index)];
      if (h.tag == flink::stream_tag::kSegment) {
        if (h.scope != 0 && h.scope != 1) {
          out_.add("S10", operator_where(op, r.subtask_index),
                   fmt::format("segment scope is {}, expected 0 or 1", h.scope));
        }
        if (h.start < 0 || h.size < 0) {
          out_.add("S10", operator_where(op, r.subtask_index),
                   fmt::format("segment of {} has start {} and size {}, expected both >= 0", io::mutf8_to_utf8(h.name),
                               h.start, h.size));
        }
      } else if ((h.tag == flink::stream_tag::kFile || h.tag == flink::stream_tag::kRelativeFile) && h.size < -1) {
        out_.add("S11", operator_where(op, r.subtask_index),
                 fmt::format("state size of {} is {}, expected >= 0 or -1", io::mutf8_to_utf8(h.name), h.size));
      }
    });
  }

  void check_operator(const flink::OperatorState& op) {
    const std::string where = operator_where(op);
    bool par_ok =
        op.parallelism >= 1 && op.max_parallelism >= op.parallelism && op.max_parallelism <= flink::kMaxMaxParallelism;
    if (!par_ok) {
      out_.add("K12", where,
               fmt::format("parallelism {} and max parallelism {}, expected 1 <= parallelism <= max parallelism <= {}",
                           op.parallelism, op.max_parallelism, flink::kMaxMaxParallelism));
    }
    // K20, K21.
    std::string id_hex = flink::to_hex(op.id);
    if (!op.uid.empty()) {
      std::string uid = io::mutf8_to_utf8(op.uid);
      if (flink::operator_id_from_uid(uid) != op.id) {
        out_.add("K20", where,
                 fmt::format("id {} is not the hash of uid \"{}\" ({}): set by setUidHash or rewritten by the "
                             "State Processor API",
                             id_hex, uid, flink::to_hex(flink::operator_id_from_uid(uid))));
      }
    }
    if (op.coordinator.tag == flink::stream_tag::kByteStream && op.coordinator.name != id_hex) {
      out_.add("K21", where,
               fmt::format("coordinator state is named \"{}\", expected the operator id {}",
                           io::mutf8_to_utf8(op.coordinator.name), id_hex));
    }
    if (op.fully_finished()) return;

    // K13.
    std::set<int32_t> seen;
    for (const auto& s : op.subtasks) {
      if (s.index < 0 || s.index >= op.parallelism) {
        out_.add("K13", operator_where(op, s.index),
                 fmt::format("subtask index {} is outside [0, {})", s.index, op.parallelism));
      } else if (!seen.insert(s.index).second) {
        out_.add("K13", operator_where(op, s.index), fmt::format("subtask index {} appears twice", s.index));
      }
    }

    for (const auto& s : op.subtasks) {
      if (s.finished) continue;
      std::string sw = operator_where(op, s.index);
      check_keyed(op, s.managed_keyed, sw);
      check_keyed(op, s.raw_keyed, sw);
      for (const auto& h : s.legacy_managed_chain) check_operator_handle(h, sw);
      check_operator_handle(s.managed_operator, sw);
      for (const auto& h : s.legacy_raw_chain) check_operator_handle(h, sw);
      check_operator_handle(s.raw_operator, sw);
      for (const auto& c : s.input_channels) check_channel(c, sw);
      for (const auto& c : s.output_channels) check_channel(c, sw);
    }
    if (par_ok) {
      check_coverage(op, false);
      check_coverage(op, true);
    }
  }

  // K14: ranges of the managed (or raw) keyed handles of one operator.
  void check_coverage(const flink::OperatorState& op, bool raw) {
    const char* slot = raw ? "raw keyed" : "managed keyed";
    struct Span {
      int64_t first, last;
      int32_t subtask;
    };
    std::vector<Span> spans;
    std::set<int32_t> with_state;
    for (const auto& s : op.subtasks) {
      if (s.finished) continue;
      const flink::KeyedHandle& k = raw ? s.raw_keyed : s.managed_keyed;
      if (k.is_null()) continue;
      KeyGroupRange r = flink::keyed_range(k);
      std::string sw = operator_where(op, s.index);
      if (s.index >= 0 && s.index < op.parallelism) with_state.insert(s.index);
      if (r.empty()) {
        // K19 reports empty RocksDB ranges; an empty key-grouped handle simply owns nothing.
        continue;
      }
      int64_t first = r.start, last = static_cast<int64_t>(r.start) + r.count - 1;
      if (first < 0 || last >= op.max_parallelism) {
        out_.add("K14", sw,
                 fmt::format("{} key groups {} lie outside [0, {})", slot, range_str(r), op.max_parallelism));
        continue;
      }
      if (s.index >= 0 && s.index < op.parallelism) {
        KeyGroupRange want = flink::range_of_subtask(op.max_parallelism, op.parallelism, s.index);
        if (want.start != r.start || want.count != r.count) {
          out_.add("K14", Severity::kWarning, sw,
                   fmt::format("{} key groups {} differ from rangeOfSubtask({}, {}, {}) = {}", slot, range_str(r),
                               op.max_parallelism, op.parallelism, s.index, range_str(want)));
        }
      }
      spans.push_back({first, last, s.index});
    }
    if (spans.empty()) return;
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.first < b.first; });
    for (std::size_t i = 1; i < spans.size(); ++i) {
      if (spans[i].first <= spans[i - 1].last) {
        out_.add(
            "K14", operator_where(op),
            fmt::format("{} key groups of subtasks {} [{}, {}] and {} [{}, {}] overlap", slot, spans[i - 1].subtask,
                        spans[i - 1].first, spans[i - 1].last, spans[i].subtask, spans[i].first, spans[i].last));
      }
    }
    // Gaps only matter when every subtask has keyed state: otherwise the missing subtasks simply
    // had no keys.
    if (static_cast<int32_t>(with_state.size()) != op.parallelism) return;
    int64_t next = 0;
    for (const auto& sp : spans) {
      if (sp.first > next) {
        out_.add("K14", operator_where(op),
                 fmt::format("{} key groups [{}, {}] belong to no subtask", slot, next, sp.first - 1));
      }
      next = std::max(next, sp.last + 1);
    }
    if (next < op.max_parallelism) {
      out_.add("K14", operator_where(op),
               fmt::format("{} key groups [{}, {}] belong to no subtask", slot, next, op.max_parallelism - 1));
    }
  }

  void check_key_groups(const flink::KeyGroupsHandle& kg, const std::string& where) {
    int64_t size = known_size(kg.delegate);
    int64_t n = kg.range.empty() ? 0 : kg.range.count;
    if (static_cast<int64_t>(kg.offsets.size()) != n) {
      out_.add("K16", where, fmt::format("{} key-group offsets for {} key groups", kg.offsets.size(), n));
      return;
    }
    int64_t prev = -1;
    int64_t prev_kg = -1;
    for (std::size_t i = 0; i < kg.offsets.size(); ++i) {
      int64_t o = kg.offsets[i];
      int64_t group = static_cast<int64_t>(kg.range.start) + static_cast<int64_t>(i);
      if (o == -1 || o == 0) continue;
      if (o < 0 || (size >= 0 && o >= size)) {
        out_.add(
            "K16", where,
            fmt::format("offset of key group {} is {}, expected -1, 0 or inside the {}-byte stream", group, o, size));
        return;
      }
      if (o < prev) {
        out_.add("K16", where,
                 fmt::format("offset of key group {} is {}, before key group {}'s offset {}", group, o, prev_kg, prev));
        return;
      }
      prev = o;
      prev_kg = group;
    }
  }

  void check_stream(const flink::StreamHandle& h, const std::string& where) {
    if (h.tag == flink::stream_tag::kKeyGroups && h.key_groups) {
      check_key_groups(*h.key_groups, where);
      check_stream(h.key_groups->delegate, where);
    }
  }

  void check_keyed(const flink::OperatorState& op, const flink::KeyedHandle& k, const std::string& where) {
    if (const auto* kg = std::get_if<flink::KeyGroupsHandle>(&k.body)) {
      check_key_groups(*kg, where);
      check_stream(kg->delegate, where);
    } else if (const auto* inc = std::get_if<flink::IncrementalHandle>(&k.body)) {
      check_incremental(k, *inc, where);
    } else if (const auto* cl = std::get_if<flink::ChangelogHandle>(&k.body)) {
      auto nested = [&](const flink::KeyedHandle& m) {
        KeyGroupRange r = flink::keyed_range(m);
        if (!m.is_null() && !r.empty() &&
            (cl->range.empty() || r.start < cl->range.start ||
             static_cast<int64_t>(r.start) + r.count > static_cast<int64_t>(cl->range.start) + cl->range.count)) {
          out_.add("K15", where,
                   fmt::format("nested handle (tag {}) key groups {} lie outside the changelog handle's {}", m.tag,
                               range_str(r), range_str(cl->range)));
        }
        check_keyed(op, m, where);
      };
      for (const auto& m : cl->materialized) nested(m);
      for (const auto& m : cl->non_materialized) nested(m);
    } else if (const auto* cf = std::get_if<flink::ChangelogFilesHandle>(&k.body)) {
      for (const auto& os : cf->handles) {
        int64_t size = known_size(os.handle);
        if (os.offset < 0 || (size >= 0 && os.offset > size)) {
          out_.add("K16", where, fmt::format("changelog offset {} lies outside its {}-byte stream", os.offset, size));
        }
        check_stream(os.handle, where);
      }
    }
  }

  void check_incremental(const flink::KeyedHandle& k, const flink::IncrementalHandle& inc, const std::string& where) {
    if (inc.range.empty()) {
      out_.add("K19", where,
               fmt::format("RocksDB handle (tag {}) has {} key groups, expected >= 1", k.tag, inc.range.count));
    }
    std::string backend = io::mutf8_to_utf8(inc.backend_id);
    if (!is_uuid(backend)) {
      out_.add("K19", Severity::kWarning, where,
               fmt::format("backend identifier \"{}\" is not a UUID (written before FLINK-6964?)", backend));
    }
    if (inc.checkpoint_id > md_.checkpoint_id) {
      out_.add("K19", where,
               fmt::format("RocksDB handle was made by checkpoint {}, after this checkpoint {}", inc.checkpoint_id,
                           md_.checkpoint_id));
    }
    bool sizes_known = known_size(inc.meta) >= 0;
    int64_t total = flink::stream_size(inc.meta);
    std::map<std::string, int> names;
    std::map<std::string, int> paths;
    auto note = [&](const flink::NamedStream& ns, bool shared) {
      int64_t sz = known_size(ns.handle);
      if (sz < 0) sizes_known = false;
      total = util::sat_add(total, flink::stream_size(ns.handle));
      std::string name = io::mutf8_to_utf8(ns.local_path);
      if (++names[name] == 2) {
        out_.add("K19", where, fmt::format("RocksDB file name \"{}\" appears twice in one handle", name));
      }
      if (flink::is_file_backed(ns.handle)) {
        std::string p = io::mutf8_to_utf8(ns.handle.name);
        if (ns.handle.tag == flink::stream_tag::kSegment) p += fmt::format("@{}", ns.handle.start);
        if (++paths[p] == 2) {
          out_.add("K19", where, fmt::format("file {} backs two RocksDB files of one handle", p));
        }
      }
      if (shared && !name.ends_with(".sst")) {
        out_.add("K19", Severity::kWarning, where,
                 fmt::format("shared list holds \"{}\", expected only *.sst files", name));
      }
    };
    for (const auto& ns : inc.shared) note(ns, true);
    for (const auto& ns : inc.private_files) note(ns, false);
    if (k.tag == flink::keyed_tag::kIncrementalV2 && sizes_known && inc.checkpointed_size > total) {
      out_.add(
          "K19", Severity::kWarning, where,
          fmt::format("checkpointed size {} exceeds the {} bytes of the handle's files", inc.checkpointed_size, total));
    }
  }

  void check_operator_handle(const flink::OperatorHandle& h, const std::string& where) {
    if (h.is_null()) return;
    int64_t size = known_size(h.delegate);
    for (const auto& e : h.states) {
      std::string name = io::mutf8_to_utf8(e.name);
      if (e.mode == static_cast<int8_t>(flink::DistributionMode::kBroadcast) && e.offsets.size() != 1) {
        out_.add("S06", where,
                 fmt::format("broadcast state \"{}\" has {} offsets, expected exactly 1", name, e.offsets.size()));
      }
      int64_t prev = 0;
      for (std::size_t i = 0; i < e.offsets.size(); ++i) {
        int64_t o = e.offsets[i];
        if (o < 0 || (size >= 0 && o >= size)) {
          out_.add(
              "K17", where,
              fmt::format("offset {} of state \"{}\" is {}, expected inside the {}-byte stream", i, name, o, size));
          break;
        }
        if (o < prev) {
          out_.add("K17", where,
                   fmt::format("offset {} of state \"{}\" is {}, before the previous offset {}", i, name, o, prev));
          break;
        }
        prev = o;
      }
    }
    check_stream(h.delegate, where);
  }

  void check_channel(const flink::ChannelHandle& c, const std::string& where) {
    const char* side = c.input() ? "input channel" : "output channel";
    if (c.has_subtask_index && c.subtask_index < 0) {
      out_.add("K18", where, fmt::format("{} state has subtask index {}, expected >= 0", side, c.subtask_index));
    }
    int64_t size = known_size(c.delegate);
    if (size < 0) return;
    if (c.merged() && c.state_size > size) {
      out_.add("K18", where,
               fmt::format("merged {} state claims {} bytes of a {}-byte stream", side, c.state_size, size));
    }
    for (const auto& ch : c.channels) {
      if (ch.state_size < 0 || ch.state_size > size) {
        out_.add("K18", where,
                 fmt::format("{} ({}, {}) claims {} bytes of a {}-byte stream", side, ch.a, ch.b, ch.state_size, size));
      }
      for (std::size_t i = 0; i < ch.offsets.size(); ++i) {
        int64_t o = ch.offsets[i];
        if (o < 0 || o > size - 4) {
          out_.add("K18", where,
                   fmt::format("{} ({}, {}) offset {} is {}: a record header does not fit the {}-byte stream", side,
                               ch.a, ch.b, i, o, size));
          break;
        }
      }
    }
  }

  // K22.
  void check_location() {
    if (md_.trailer_state != flink::TrailerState::kParsed) return;
    bool savepoint = md_.properties.kind == flink::CheckpointProperties::Kind::kSavepoint;
    if (loc_.dir_kind == snapshot::DirKind::kSavepoint && !savepoint) {
      out_.add("K22", "", fmt::format("a savepoint directory holds a \"{}\"", md_.properties.type_name));
    } else if (loc_.dir_kind == snapshot::DirKind::kCheckpoint) {
      if (savepoint) {
        out_.add("K22", "", fmt::format("a chk-N directory holds a \"{}\"", md_.properties.type_name));
      } else if (loc_.checkpoint_number && *loc_.checkpoint_number != md_.checkpoint_id) {
        out_.add("K22", "",
                 fmt::format("directory chk-{} holds checkpoint {}", *loc_.checkpoint_number, md_.checkpoint_id));
      }
    }
  }

  const flink::Metadata& md_;
  const snapshot::Location& loc_;
  Findings& out_;
};

}  // namespace

void check_metadata(const flink::Metadata& md, const snapshot::Location& loc, Findings& out) {
  Checker(md, loc, out).run();
}

}  // namespace ckpt::validate
