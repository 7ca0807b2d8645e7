#include "pipeline/checkpoint_storage.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "flink/builder.h"
#include "io/atomic_file.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "snapshot/layout.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 r{std::random_device{}() ^ (static_cast<uint64_t>(::getpid()) << 32) ^
                                 reinterpret_cast<uintptr_t>(&r)};
  return r;
}

void write_all(int fd, const char* p, std::size_t n, const fs::path& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw CheckpointFailure(fmt::format("{}: write: {}", path.string(), std::strerror(errno)));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

std::string human(int64_t bytes) {
  if (bytes >= (1 << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  if (bytes >= (1 << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / (1 << 10));
  return fmt::format("{} bytes", bytes);
}

}  // namespace

std::string random_hex(int chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < chars; ++i) out.push_back(kHex[rng()() & 15]);
  return out;
}

CheckpointStorage::CheckpointStorage(const PipelineConfig& config, std::string job_id)
    : config_(config), job_id_(std::move(job_id)) {
  if (!config_.checkpoints_dir.empty()) job_dir_ = fs::path(config_.checkpoints_dir) / job_id_;
}

void CheckpointStorage::initialize() {
  if (job_dir_.empty()) return;
  std::error_code ec;
  fs::create_directories(job_dir_ / snapshot::kSharedDirName, ec);
  if (!ec) fs::create_directories(job_dir_ / snapshot::kTaskOwnedDirName, ec);
  if (ec) throw io::IoError(fmt::format("{}: cannot create checkpoint directory: {}", job_dir_.string(), ec.message()));
  if (!lock_) lock_ = snapshot::JobLock::acquire(job_dir_, config_.timeout_ms * 1000000);
}

SnapshotLocation CheckpointStorage::checkpoint_location(int64_t checkpoint_id) const {
  SnapshotLocation loc;
  loc.inline_only = config_.storage == StorageKind::kJobManager;
  loc.memory_threshold = config_.memory_threshold;
  loc.max_inline_size = config_.jobmanager_max_state_size;
  loc.write_buffer_size = std::max(config_.write_buffer_size, config_.memory_threshold);
  if (!job_dir_.empty()) {
    loc.dir = job_dir_ / fmt::format("{}{}", snapshot::kCheckpointDirPrefix, checkpoint_id);
    std::error_code ec;
    fs::create_directories(loc.dir, ec);
    if (ec) throw CheckpointFailure(fmt::format("{}: cannot create: {}", loc.dir.string(), ec.message()));
  }
  return loc;
}

SnapshotLocation CheckpointStorage::savepoint_location(const fs::path& target) const {
  fs::path base = target.empty() ? fs::path(config_.savepoints_dir) : target;
  if (base.empty()) {
    throw CheckpointFailure("no savepoint directory: give one or set state.savepoints.dir");
  }
  SnapshotLocation loc;
  loc.savepoint = true;
  loc.memory_threshold = config_.memory_threshold;
  loc.write_buffer_size = std::max(config_.write_buffer_size, config_.memory_threshold);
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) throw CheckpointFailure(fmt::format("{}: cannot create: {}", base.string(), ec.message()));
  // Flink makes up to 10 attempts to create a fresh directory.
  for (int attempt = 0; attempt < 10; ++attempt) {
    fs::path dir = base / fmt::format("{}{}-{}", snapshot::kSavepointDirPrefix, job_id_.substr(0, 6), random_hex(12));
    if (fs::create_directory(dir, ec) && !ec) {
      loc.dir = fs::absolute(dir);
      return loc;
    }
  }
  throw CheckpointFailure(fmt::format("{}: cannot create a savepoint directory", base.string()));
}

void CheckpointStorage::discard(const SnapshotLocation& loc) {
  if (loc.dir.empty()) return;
  std::error_code ec;
  fs::remove_all(loc.dir, ec);
}

PersistedStream persist(const SnapshotLocation& loc, std::string_view bytes, std::string_view what) {
  PersistedStream out;
  out.size = static_cast<int64_t>(bytes.size());
  if (bytes.empty()) return out;
  std::string uuid = flink::random_uuid(rng());
  if (loc.inline_only) {
    if (out.size > loc.max_inline_size) {
      throw CheckpointFailure(fmt::format(
          "{}: state is {} but jobmanager checkpoint storage allows at most {} per state "
          "(state.checkpoint-storage: jobmanager; use filesystem storage or raise ckpt.jobmanager.max-state-size)",
          what, human(out.size), human(loc.max_inline_size)));
    }
    out.kind = PersistedStream::Kind::kInline;
    out.name = uuid;
    out.data.assign(bytes);
    return out;
  }
  if (out.size <= loc.memory_threshold || loc.dir.empty()) {
    out.kind = PersistedStream::Kind::kInline;
    out.name = loc.dir.empty() ? uuid : fmt::format("file:{}/{}", fs::absolute(loc.dir).string(), uuid);
    out.data.assign(bytes);
    return out;
  }
  fs::path path = loc.dir / uuid;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw CheckpointFailure(fmt::format("{}: open: {}", path.string(), std::strerror(errno)));
  try {
    auto chunk = static_cast<std::size_t>(std::max<int64_t>(loc.write_buffer_size, 4096));
    for (std::size_t off = 0; off < bytes.size(); off += chunk) {
      write_all(fd, bytes.data() + off, std::min(chunk, bytes.size() - off), path);
    }
    if (::fsync(fd) != 0) throw CheckpointFailure(fmt::format("{}: fsync: {}", path.string(), std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  out.kind = PersistedStream::Kind::kFile;
  out.name = uuid;
  return out;
}

PersistedStream persist_file(const SnapshotLocation& loc, const fs::path& source, std::string_view what) {
  try {
    uint64_t size = io::regular_file_size(source);
    if (loc.inline_only || loc.dir.empty() || static_cast<int64_t>(size) <= loc.memory_threshold) {
      return persist(loc, io::read_file_bytes(source), what);
    }
    PersistedStream out;
    out.kind = PersistedStream::Kind::kFile;
    out.name = flink::random_uuid(rng());
    out.size = static_cast<int64_t>(size);
    // The backend's own local files, not a snapshot's paths.
    io::link_or_copy(io::ReadScope::unconfined(), source, loc.dir / out.name,
                     /*prefer_link=*/false);  // fsyncs the copy
    return out;
  } catch (const io::IoError& e) {
    throw CheckpointFailure(e.what());
  }
}

void write_metadata_file(const SnapshotLocation& loc, std::string_view bytes) {
  if (loc.dir.empty()) return;
  try {
    io::write_file_atomically(loc.dir / snapshot::kMetadataFileName, bytes, /*overwrite=*/false);
  } catch (const io::IoError& e) {
    throw CheckpointFailure(e.what());
  }
}

}  // namespace ckpt::pipeline
