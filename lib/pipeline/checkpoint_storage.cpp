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
#include "storage/open_store.h"

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

std::shared_ptr<storage::ObjectStore> open_snapshot_store(const std::string& dir,
                                                          const std::map<std::string, std::string>& settings,
                                                          std::string& key) {
  if (!storage::parse_object_uri(dir)) return nullptr;
  storage::OpenedStore opened = storage::open_store(dir, settings);
  key = opened.key;
  while (key.ends_with('/')) key.pop_back();
  return std::shared_ptr<storage::ObjectStore>(std::move(opened.store));
}

namespace {

std::string child_key(const std::string& key, std::string_view name) {
  return key.empty() ? std::string(name) : key + "/" + std::string(name);
}

}  // namespace

CheckpointStorage::CheckpointStorage(const PipelineConfig& config, std::string job_id)
    : config_(config), job_id_(std::move(job_id)) {
  if (config_.checkpoints_dir.empty()) return;
  std::string root_key;
  store_ = open_snapshot_store(config_.checkpoints_dir, config_.storage_settings, root_key);
  if (store_) {
    job_key_ = child_key(root_key, job_id_);
    job_dir_ = store_->uri(job_key_);
  } else {
    job_dir_ = fs::path(config_.checkpoints_dir) / job_id_;
  }
}

void CheckpointStorage::initialize() {
  if (job_dir_.empty()) return;
  if (store_) {
    // Nothing to create; one listing checks the bucket and the credentials before the job
    // starts, so that a typo is one line now rather than a failed checkpoint later.
    try {
      store_->list(job_key_ + "/", [](std::span<const storage::ObjectInfo>) {});
    } catch (const util::Error& e) {
      throw io::IoError(fmt::format("{}: cannot use the checkpoint directory: {}", job_dir_.string(), e.what()));
    }
    return;
  }
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
  const std::string name = fmt::format("{}{}", snapshot::kCheckpointDirPrefix, checkpoint_id);
  if (store_) {
    loc.store = store_;
    loc.key = child_key(job_key_, name);
    loc.dir = store_->uri(loc.key);
  } else if (!job_dir_.empty()) {
    loc.dir = job_dir_ / name;
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
  std::string base_key;
  try {
    loc.store = open_snapshot_store(base.string(), config_.storage_settings, base_key);
  } catch (const util::Error& e) {
    throw CheckpointFailure(e.what());
  }
  if (loc.store) {
    // No directory to create: a name nothing is stored under yet (Flink's 10 attempts).
    for (int attempt = 0; attempt < 10; ++attempt) {
      loc.key = child_key(base_key,
                          fmt::format("{}{}-{}", snapshot::kSavepointDirPrefix, job_id_.substr(0, 6), random_hex(12)));
      bool taken = false;
      try {
        loc.store->list(loc.key + "/", [&](std::span<const storage::ObjectInfo> page) { taken |= !page.empty(); });
      } catch (const util::Error& e) {
        throw CheckpointFailure(e.what());
      }
      if (!taken) {
        loc.dir = loc.store->uri(loc.key);
        return loc;
      }
    }
    throw CheckpointFailure(fmt::format("{}: cannot find a fresh savepoint name", base.string()));
  }
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
  if (loc.store) {
    try {
      std::vector<std::string> keys;
      for (const auto& o : storage::list_all(*loc.store, loc.key + "/")) keys.push_back(o.key);
      (void)loc.store->remove(keys);  // best effort: what stays is gc's to find
    } catch (const std::exception&) {
    }
    return;
  }
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
    out.name = loc.dir.empty() ? uuid : absolute_file_name(loc, uuid);
    out.data.assign(bytes);
    return out;
  }
  out.kind = PersistedStream::Kind::kFile;
  out.name = uuid;
  if (loc.store) {
    try {
      loc.store->write_atomic(child_key(loc.key, uuid), bytes, /*overwrite=*/false);
    } catch (const util::Error& e) {
      throw CheckpointFailure(e.what());
    }
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
    if (loc.store) {
      const std::string file = source.string(), key = child_key(loc.key, out.name);
      loc.store->upload(std::span(&file, 1), std::span(&key, 1));
      return out;
    }
    // The backend's own local files, not a snapshot's paths.
    io::link_or_copy(io::ReadScope::unconfined(), source, loc.dir / out.name,
                     /*prefer_link=*/false);  // fsyncs the copy
    return out;
  } catch (const util::Error& e) {
    throw CheckpointFailure(e.what());
  }
}

void write_metadata_file(const SnapshotLocation& loc, std::string_view bytes) {
  if (loc.dir.empty()) return;
  try {
    if (loc.store) {
      loc.store->write_atomic(child_key(loc.key, snapshot::kMetadataFileName), bytes, /*overwrite=*/false);
    } else {
      io::write_file_atomically(loc.dir / snapshot::kMetadataFileName, bytes, /*overwrite=*/false);
    }
  } catch (const util::Error& e) {
    throw CheckpointFailure(e.what());
  }
}

SnapshotLocation shared_location(const SnapshotLocation& loc) {
  SnapshotLocation out = loc;
  if (loc.store) {
    std::string_view parent(loc.key);
    std::size_t slash = parent.rfind('/');
    parent = slash == std::string_view::npos ? std::string_view() : parent.substr(0, slash);
    out.key = child_key(std::string(parent), snapshot::kSharedDirName);
    out.dir = loc.store->uri(out.key);
  } else {
    out.dir = loc.dir.parent_path() / snapshot::kSharedDirName;
  }
  return out;
}

std::string absolute_file_name(const SnapshotLocation& loc, std::string_view name) {
  if (loc.store) return loc.store->uri(child_key(loc.key, name));
  return fmt::format("file:{}/{}", fs::absolute(loc.dir).string(), name);
}

}  // namespace ckpt::pipeline
