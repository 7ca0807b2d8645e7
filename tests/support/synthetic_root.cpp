#include "synthetic_root.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <deque>
#include <fstream>
#include <stdexcept>

#include "flink/builder.h"
#include "flink/checkpoint_properties.h"
#include "flink/key_groups.h"
#include "flink/metadata_writer.h"
#include "flink/operator_id.h"
#include "io/atomic_file.h"

namespace fs = std::filesystem;

namespace ckpt::testsupport {

void set_mtime(const fs::path& p, int64_t unix_seconds) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(unix_seconds);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    throw std::runtime_error("utimensat " + p.string());
  }
}

std::string random_job_id(std::mt19937_64& rng) { return fmt::format("{:016x}{:016x}", rng(), rng()); }

flink::Metadata history_metadata(const fs::path& job_dir, const HistoryCheckpoint& c) {
  flink::Metadata md;
  md.version = 4;
  md.checkpoint_id = c.id;
  flink::Builder b(md);
  const int n = std::max(1, c.subtasks);
  const int32_t max_p = flink::default_max_parallelism(n);
  flink::OperatorState op;
  op.id = flink::operator_id_from_uid("synthetic-operator");
  op.parallelism = n;
  op.max_parallelism = max_p;
  std::vector<std::vector<flink::NamedStream>> sh(n), pr(n);
  for (size_t i = 0; i < c.shared.size(); ++i) {
    fs::path p = job_dir / "shared" / c.shared[i];
    sh[i % n].push_back(b.named(fmt::format("{:06}.sst", i), b.file("file:" + p.string(), 0)));
  }
  for (size_t i = 0; i < c.absolute.size(); ++i) {
    sh[i % n].push_back(b.named(fmt::format("{:06}.sst", 100000 + i), b.file("file:" + c.absolute[i].string(), 0)));
  }
  for (size_t i = 0; i < c.exclusive.size(); ++i) {
    pr[i % n].push_back(b.named(fmt::format("MANIFEST-{:06}", i), b.relative_file(c.exclusive[i], 0)));
  }
  for (int s = 0; s < n; ++s) {
    flink::SubtaskState st;
    st.index = s;
    std::string backend = fmt::format("backend-{}", s);
    st.managed_keyed = b.incremental(c.id, backend, flink::range_of_subtask(max_p, n, s), 0,
                                     b.inline_bytes(fmt::format("meta-{}-{}", c.id, s), "meta"), std::move(sh[s]),
                                     std::move(pr[s]), fmt::format("handle-{}-{}", c.id, s));
    op.subtasks.push_back(std::move(st));
  }
  md.operators.push_back(std::move(op));
  md.properties = c.savepoint ? flink::savepoint_properties(flink::CheckpointProperties::Format::kNative)
                              : flink::checkpoint_properties(flink::Retention::kRetainOnCancellation);
  md.trailer = md.intern(flink::encode_properties_trailer(md.properties));
  md.trailer_state = flink::TrailerState::kParsed;
  return md;
}

namespace {

void create_file(const fs::path& p, int bytes, int64_t mtime_s) {
  if (fs::exists(fs::symlink_status(p))) return;
  fs::create_directories(p.parent_path());
  {
    std::ofstream f(p, std::ios::binary);
    if (bytes > 0) f << std::string(static_cast<size_t>(bytes), 'x');
    if (!f) throw std::runtime_error("cannot write " + p.string());
  }
  set_mtime(p, mtime_s);
}

}  // namespace

fs::path write_history_checkpoint(const fs::path& job_dir, const HistoryCheckpoint& c, int file_bytes, fs::path dir) {
  if (dir.empty()) dir = job_dir / fmt::format("chk-{}", c.id);
  fs::create_directories(dir);
  fs::create_directories(job_dir / "shared");
  fs::create_directories(job_dir / "taskowned");
  for (const auto& s : c.shared) create_file(job_dir / "shared" / s, file_bytes, c.mtime_s);
  for (const auto& e : c.exclusive) create_file(dir / e, file_bytes, c.mtime_s);
  for (const auto& a : c.absolute) create_file(a, file_bytes, c.mtime_s);
  flink::Metadata md = history_metadata(job_dir, c);
  fs::path mdp = dir / "_metadata";
  io::write_file_atomically(mdp, flink::write_metadata(md));
  set_mtime(mdp, c.mtime_s);
  set_mtime(dir, c.mtime_s);
  return dir;
}

SyntheticJob make_incremental_job(const fs::path& root, const IncrementalJobSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  SyntheticJob job;
  job.job_dir = root / random_job_id(rng);
  std::vector<std::deque<std::string>> windows(spec.subtasks);
  for (int i = 0; i < spec.checkpoints; ++i) {
    HistoryCheckpoint c;
    c.id = i + 1;
    c.mtime_s = spec.first_mtime_s + i * spec.interval_s;
    c.subtasks = spec.subtasks;
    for (int s = 0; s < spec.subtasks; ++s) {
      auto& w = windows[s];
      bool upload = i == 0 || (spec.new_every > 0 && (i + s) % spec.new_every == 0);
      while (static_cast<int>(w.size()) < spec.window) {
        w.push_back(flink::random_uuid(rng));
        ++job.shared_files;
      }
      if (upload && i > 0) {
        w.pop_front();
        w.push_back(flink::random_uuid(rng));
        ++job.shared_files;
      }
    }
    // Round-robin over subtasks in history_metadata: interleave so subtask s gets window s.
    for (int k = 0; k < spec.window; ++k) {
      for (int s = 0; s < spec.subtasks; ++s) c.shared.push_back(windows[s][k]);
    }
    for (int k = 0; k < spec.exclusive * spec.subtasks; ++k) c.exclusive.push_back(flink::random_uuid(rng));
    write_history_checkpoint(job.job_dir, c, spec.file_bytes);
    job.checkpoints.push_back(std::move(c));
  }
  return job;
}

}  // namespace ckpt::testsupport
