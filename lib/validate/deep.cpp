#include "validate/deep.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>

#include "flink/handles.h"
#include "flink/key_groups.h"
#include "flink/operator_id.h"
#include "io/mutf8.h"
#include "rocks/db_files.h"
#include "rocks/misc_files.h"
#include "rocks/sst_check.h"
#include "util/parallel.h"

namespace ckpt::validate {
namespace {

constexpr std::size_t kChunk = 1 << 20;
constexpr uint64_t kMaxMiscBytes = uint64_t{256} << 20;  // CURRENT / MANIFEST / OPTIONS read whole

enum class Kind { kSst, kCurrent, kManifest, kOptions, kData };

Kind kind_of(const DeepItem& item) {
  for (const snapshot::FileRef* u : item.uses) {
    if (u->ref.role != flink::Role::kShared && u->ref.role != flink::Role::kPrivate) continue;
    std::string_view name = u->ref.local_path;
    if (name.ends_with(".sst")) return Kind::kSst;
    switch (rocks::misc_kind(name)) {
      case rocks::MiscKind::kCurrent:
        return Kind::kCurrent;
      case rocks::MiscKind::kManifest:
        return Kind::kManifest;
      case rocks::MiscKind::kOptions:
        return Kind::kOptions;
      case rocks::MiscKind::kOther:
        break;
    }
  }
  return Kind::kData;
}

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(const std::filesystem::path& p) : fd_(::open(p.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The D01 / D02 problems of one SST report, each (rule id, message after the file's label).
std::vector<std::pair<std::string_view, std::string>> sst_problems(const rocks::SstReport& s) {
  std::vector<std::pair<std::string_view, std::string>> out;
  if (s.open_error) {
    out.emplace_back("D01", fmt::format("RocksDB cannot open it as an SST file: {}", *s.open_error));
    return out;
  }
  if (s.checksum_error) out.emplace_back("D01", *s.checksum_error);
  if (s.properties_error) out.emplace_back("D02", fmt::format("table properties: {}", *s.properties_error));
  if (s.iterator_error) out.emplace_back("D01", fmt::format("reading the first and last key: {}", *s.iterator_error));
  return out;
}

struct ItemResult {
  std::vector<Finding> findings;
  std::optional<rocks::SstReport> sst;
  std::string current;  // CURRENT's content, for the MANIFEST cross-check
  int64_t bytes = 0;
};

class Deep {
 public:
  Deep(const flink::Metadata& md, const std::vector<DeepItem>& items, const ProgressFn& progress)
      : md_(md), items_(items), progress_(progress) {
    for (const auto& it : items_) total_ += it.size;
  }

  int64_t run(unsigned threads, Findings& out) {
    std::vector<std::size_t> order(items_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return items_[a].size > items_[b].size; });
    results_.assign(items_.size(), {});
    util::parallel_for(order.size(), threads, [&](std::size_t k) { check_item(order[k]); });
    int64_t bytes = 0;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      out.append(std::move(results_[i].findings));
      bytes += results_[i].bytes;
    }
    check_rocks_handles(out);
    return bytes;
  }

 private:
  Finding make(std::string_view rule_id, Severity sev, const DeepItem& item, const snapshot::FileRef* use,
               std::string message) {
    Finding f;
    f.rule = std::string(rule(rule_id).id);
    f.severity = sev;
    f.file = item.path.string();
    if (use && use->ref.operator_index >= 0) {
      const auto& op = md_.operators[static_cast<std::size_t>(use->ref.operator_index)];
      f.where = operator_where(op, use->ref.subtask_index);
      f.operator_id = flink::to_hex(op.id);
      f.subtask = use->ref.subtask_index;
    }
    f.message = std::move(message);
    return f;
  }

  std::string label(const DeepItem& item) const {
    std::string s = item.path.string();
    for (const snapshot::FileRef* u : item.uses) {
      if (!u->ref.local_path.empty()) return fmt::format("{} [{}]", s, std::string(u->ref.local_path));
    }
    return s;
  }

  void advance(uint64_t n) {
    uint64_t done = done_.fetch_add(n) + n;
    if (!progress_) return;
    std::lock_guard<std::mutex> lock(progress_mutex_);
    progress_(done, total_);
  }

  void check_item(std::size_t i) {
    const DeepItem& item = items_[i];
    ItemResult& r = results_[i];
    const snapshot::FileRef* first = item.uses.empty() ? nullptr : item.uses.front();
    switch (kind_of(item)) {
      case Kind::kSst: {
        rocks::SstReport s = rocks::check_sst(item.path, item.size);
        for (auto& [rule_id, msg] : sst_problems(s)) {
          r.findings.push_back(make(rule_id, Severity::kError, item, first, fmt::format("{}: {}", label(item), msg)));
        }
        r.sst = std::move(s);
        r.bytes = static_cast<int64_t>(item.size);
        advance(item.size);
        return;
      }
      case Kind::kCurrent:
      case Kind::kManifest:
      case Kind::kOptions: {
        Kind k = kind_of(item);
        std::string bytes;
        if (!read_whole(item, first, r, bytes)) return;
        std::optional<std::string> problem = k == Kind::kCurrent    ? rocks::check_current(bytes)
                                             : k == Kind::kManifest ? rocks::check_manifest(bytes)
                                                                    : rocks::check_options(bytes);
        if (problem)
          r.findings.push_back(
              make("D04", Severity::kError, item, first, fmt::format("{}: {}", label(item), *problem)));
        if (k == Kind::kCurrent) r.current = std::move(bytes);
        return;
      }
      case Kind::kData:
        check_data(item, r);
        return;
    }
  }

  // Reads a small RocksDB file whole (D06 on failure).
  bool read_whole(const DeepItem& item, const snapshot::FileRef* use, ItemResult& r, std::string& bytes) {
    if (item.size > kMaxMiscBytes) {
      r.findings.push_back(
          make("D04", Severity::kError, item, use,
               fmt::format("{}: {} bytes, implausibly large for this kind of file", label(item), item.size)));
      advance(item.size);
      return false;
    }
    Fd fd(item.path);
    if (fd.get() < 0) {
      r.findings.push_back(
          make("D06", Severity::kError, item, use, fmt::format("{}: {}", label(item), std::strerror(errno))));
      advance(item.size);
      return false;
    }
    bytes.resize(item.size);
    std::size_t got = 0;
    while (got < bytes.size()) {
      ssize_t n = ::pread(fd.get(), bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        r.findings.push_back(make("D06", Severity::kError, item, use,
                                  fmt::format("{}: read failed at byte {}: {}", label(item), got,
                                              n < 0 ? std::strerror(errno) : "unexpected end of file")));
        advance(item.size);
        return false;
      }
      got += static_cast<std::size_t>(n);
    }
    r.bytes = static_cast<int64_t>(got);
    advance(item.size);
    return true;
  }

  // Full snapshots, operator state, channel state, RocksDB meta files, changelog files: read to
  // the end (D06) and check the offsets that point into them (D05, D07).
  void check_data(const DeepItem& item, ItemResult& r) {
    const snapshot::FileRef* first = item.uses.empty() ? nullptr : item.uses.front();
    Fd fd(item.path);
    if (fd.get() < 0) {
      r.findings.push_back(
          make("D06", Severity::kError, item, first, fmt::format("{}: {}", label(item), std::strerror(errno))));
      advance(item.size);
      return;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    std::string buf(std::min<uint64_t>(kChunk, std::max<uint64_t>(item.size, 1)), '\0');
    uint64_t pos = 0;
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        r.findings.push_back(
            make("D06", Severity::kError, item, first,
                 fmt::format("{}: read failed at byte {}: {}", label(item), pos, std::strerror(errno))));
        advance(item.size > pos ? item.size - pos : 0);
        return;
      }
      if (n == 0) break;
      pos += static_cast<uint64_t>(n);
      advance(static_cast<uint64_t>(n));
    }
    r.bytes = static_cast<int64_t>(pos);
    if (pos != item.size) {
      r.findings.push_back(make(
          "D06", Severity::kError, item, first,
          fmt::format("{}: {} bytes could be read of {} (file changed while reading?)", label(item), pos, item.size)));
      return;
    }
    for (const snapshot::FileRef* u : item.uses) check_offsets(item, *u, fd.get(), r);
  }

  std::optional<int32_t> pread_i32(int fd, uint64_t at) {
    unsigned char b[4];
    if (::pread(fd, b, 4, static_cast<off_t>(at)) != 4) return std::nullopt;
    return static_cast<int32_t>(static_cast<uint32_t>(b[0]) << 24 | static_cast<uint32_t>(b[1]) << 16 |
                                static_cast<uint32_t>(b[2]) << 8 | b[3]);
  }

  const flink::SubtaskState* subtask_of(const snapshot::FileRef& u) const {
    if (u.ref.operator_index < 0) return nullptr;
    const auto& op = md_.operators[static_cast<std::size_t>(u.ref.operator_index)];
    for (const auto& s : op.subtasks) {
      if (s.index == u.ref.subtask_index && !s.finished) return &s;
    }
    return nullptr;
  }

  void check_offsets(const DeepItem& item, const snapshot::FileRef& u, int fd, ItemResult& r) {
    const uint64_t size = item.size;
    const flink::StreamHandle* h = u.ref.handle;
    if (u.ref.role == flink::Role::kKeyGroups && u.ref.keyed) {
      const auto* kg = std::get_if<flink::KeyGroupsHandle>(&u.ref.keyed->body);
      if (!kg || &kg->delegate != h) return;
      for (std::size_t i = 0; i < kg->offsets.size(); ++i) {
        int64_t o = kg->offsets[i];
        if (o > 0 && static_cast<uint64_t>(o) >= size) {
          r.findings.push_back(
              make("D05", Severity::kError, item, &u,
                   fmt::format("{}: key group {} starts at byte {}, beyond the {}-byte file", label(item),
                               static_cast<int64_t>(kg->range.start) + static_cast<int64_t>(i), o, size)));
          return;
        }
      }
      return;
    }
    const flink::SubtaskState* s = subtask_of(u);
    if (!s) return;
    if (u.ref.role == flink::Role::kManagedOperator || u.ref.role == flink::Role::kRawOperator) {
      auto check = [&](const flink::OperatorHandle& oh) {
        if (oh.is_null() || &oh.delegate != h) return;
        for (const auto& e : oh.states) {
          for (std::size_t i = 0; i < e.offsets.size(); ++i) {
            int64_t o = e.offsets[i];
            if (o < 0 || static_cast<uint64_t>(o) >= size) {
              r.findings.push_back(
                  make("D05", Severity::kError, item, &u,
                       fmt::format("{}: element {} of state \"{}\" starts at byte {}, beyond the {}-byte file",
                                   label(item), i, io::mutf8_to_utf8(e.name), o, size)));
              return;
            }
          }
        }
      };
      check(s->managed_operator);
      check(s->raw_operator);
      for (const auto& oh : s->legacy_managed_chain) check(oh);
      for (const auto& oh : s->legacy_raw_chain) check(oh);
      return;
    }
    if (u.ref.role == flink::Role::kInputChannel || u.ref.role == flink::Role::kOutputChannel) {
      const auto& list = u.ref.role == flink::Role::kInputChannel ? s->input_channels : s->output_channels;
      for (const auto& c : list) {
        if (&c.delegate != h) continue;
        for (const auto& ch : c.channels) {
          for (std::size_t i = 0; i < ch.offsets.size(); ++i) {
            int64_t o = ch.offsets[i];
            std::optional<int32_t> len;
            if (o >= 0 && static_cast<uint64_t>(o) + 4 <= size) len = pread_i32(fd, static_cast<uint64_t>(o));
            if (!len || *len < 0 || static_cast<uint64_t>(o) + 4 + static_cast<uint64_t>(*len) > size) {
              r.findings.push_back(
                  make("D07", Severity::kError, item, &u,
                       fmt::format("{}: channel ({}, {}) buffer {} at byte {}: {}", label(item), ch.a, ch.b, i, o,
                                   len ? fmt::format("record of {} bytes does not fit the {}-byte file", *len, size)
                                       : fmt::format("no record header inside the {}-byte file", size))));
              return;
            }
          }
        }
      }
    }
  }

  // D03 (key-group prefixes of SST keys) and D04 (CURRENT names a MANIFEST of the same handle;
  // inline CURRENT / MANIFEST / OPTIONS), per RocksDB handle.
  void check_rocks_handles(Findings& out) {
    std::map<const flink::StreamHandle*, std::size_t> item_of;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      for (const snapshot::FileRef* u : items_[i].uses) item_of[u->ref.handle] = i;
    }
    std::map<const flink::KeyedHandle*, bool> seen;
    flink::visit_streams(md_, [&](const flink::StreamRef& ref) {
      if (!ref.keyed || seen[ref.keyed]) return;
      const auto* inc = std::get_if<flink::IncrementalHandle>(&ref.keyed->body);
      if (!inc) return;
      seen[ref.keyed] = true;
      check_rocks_handle(*inc, ref, item_of, out);
    });
  }

  void check_rocks_handle(const flink::IncrementalHandle& inc, const flink::StreamRef& ref,
                          const std::map<const flink::StreamHandle*, std::size_t>& item_of, Findings& out) {
    const auto& op = md_.operators[static_cast<std::size_t>(ref.operator_index)];
    const std::string where = operator_where(op, ref.subtask_index);
    auto add = [&](std::string_view rule_id, Severity sev, const std::string& file, std::string msg) {
      Finding& f = out.add(rule_id, sev, where, std::move(msg));
      f.operator_id = flink::to_hex(op.id);
      f.subtask = ref.subtask_index;
      f.file = file;
    };
    std::vector<const flink::NamedStream*> all;
    for (const auto& ns : inc.shared) all.push_back(&ns);
    for (const auto& ns : inc.private_files) all.push_back(&ns);

    // D01, D02 of SST files inlined in `_metadata` (files on disk were checked in parallel).
    std::map<const flink::NamedStream*, rocks::SstReport> inline_ssts;
    for (const auto* ns : all) {
      const std::string name = io::mutf8_to_utf8(ns->local_path);
      if (ns->handle.tag != flink::stream_tag::kByteStream || !rocks::is_sst(name)) continue;
      rocks::SstReport rep = rocks::check_sst_bytes(ns->handle.data);
      for (auto& [rule_id, msg] : sst_problems(rep)) {
        add(rule_id, Severity::kError, "", fmt::format("inline {}: {}", name, msg));
      }
      inline_ssts.emplace(ns, std::move(rep));
    }
    auto report_of = [&](const flink::NamedStream* ns) -> const rocks::SstReport* {
      if (auto in = inline_ssts.find(ns); in != inline_ssts.end()) return &in->second;
      auto it = item_of.find(&ns->handle);
      if (it == item_of.end() || !results_[it->second].sst) return nullptr;
      return &*results_[it->second].sst;
    };

    // D03.
    bool range_deletions = false;
    for (const auto* ns : all) {
      if (const rocks::SstReport* rep = report_of(ns)) range_deletions |= rep->range_deletions > 0;
    }
    const bool max_ok = op.max_parallelism >= 1 && op.max_parallelism <= flink::kMaxMaxParallelism;
    for (const auto* ns : all) {
      const rocks::SstReport* sst = report_of(ns);
      if (!max_ok || inc.range.empty() || !sst || !sst->has_keys) continue;
      const int prefix = flink::key_group_prefix_bytes(op.max_parallelism);
      auto it = item_of.find(&ns->handle);
      const std::string name = io::mutf8_to_utf8(ns->local_path);
      const std::string file = it != item_of.end() ? items_[it->second].path.string() : "inline " + name;
      for (const std::string* key : {&sst->first_key, &sst->last_key}) {
        const char* which = key == &sst->first_key ? "first" : "last";
        if (key->size() < static_cast<std::size_t>(prefix)) {
          add("D03", Severity::kError, file,
              fmt::format("{} [{}]: {} key has {} bytes, shorter than the {}-byte key-group prefix", file, name, which,
                          key->size(), prefix));
          break;
        }
        int64_t kg = static_cast<unsigned char>((*key)[0]);
        if (prefix == 2) kg = kg << 8 | static_cast<unsigned char>((*key)[1]);
        int64_t last = static_cast<int64_t>(inc.range.start) + inc.range.count - 1;
        if (kg < inc.range.start || kg > last) {
          // After a rescaled restore Flink clips an instance with range deletions: keys outside
          // the range may remain in old files until compaction, hidden by the tombstones.
          add("D03", range_deletions ? Severity::kWarning : Severity::kError, file,
              fmt::format("{} [{}]: {} key is in key group {}, outside the handle's key groups [{}, {}]{}", file, name,
                          which, kg, inc.range.start, last,
                          range_deletions ? " (the handle has range deletions: clipped after rescaling?)" : ""));
          break;
        }
      }
    }

    // D04: CURRENT names a MANIFEST of this handle; inline RocksDB files are sane too.
    std::vector<std::string> names;
    for (const auto* ns : all) names.push_back(io::mutf8_to_utf8(ns->local_path));
    for (const auto* ns : all) {
      const std::string name = io::mutf8_to_utf8(ns->local_path);
      rocks::MiscKind k = rocks::misc_kind(name);
      if (k == rocks::MiscKind::kOther) continue;
      std::optional<std::string_view> bytes;
      std::string file = io::mutf8_to_utf8(ns->handle.name);
      if (ns->handle.tag == flink::stream_tag::kByteStream) {
        bytes = ns->handle.data;
        std::optional<std::string> problem = k == rocks::MiscKind::kCurrent    ? rocks::check_current(*bytes)
                                             : k == rocks::MiscKind::kManifest ? rocks::check_manifest(*bytes)
                                                                               : rocks::check_options(*bytes);
        if (problem) add("D04", Severity::kError, "", fmt::format("inline {}: {}", name, *problem));
      } else if (auto it = item_of.find(&ns->handle); it != item_of.end() && k == rocks::MiscKind::kCurrent) {
        bytes = results_[it->second].current;
        file = items_[it->second].path.string();
      }
      if (k != rocks::MiscKind::kCurrent || !bytes) continue;
      std::string manifest;
      if (rocks::check_current(*bytes, &manifest)) continue;  // already reported
      if (std::find(names.begin(), names.end(), manifest) == names.end()) {
        add("D04", Severity::kError, file,
            fmt::format("CURRENT names {}, which is not among the handle's files", manifest));
      }
    }
  }

  const flink::Metadata& md_;
  const std::vector<DeepItem>& items_;
  const ProgressFn& progress_;
  std::vector<ItemResult> results_;
  uint64_t total_ = 0;
  std::atomic<uint64_t> done_{0};
  std::mutex progress_mutex_;
};

}  // namespace

int64_t check_deep(const flink::Metadata& md, const std::vector<DeepItem>& items, unsigned threads,
                   const ProgressFn& progress, Findings& out) {
  return Deep(md, items, progress).run(threads, out);
}

}  // namespace ckpt::validate
