#include "ops/pack.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <set>

#include "io/atomic_file.h"
#include "io/checksum.h"
#include "io/copy_or_link.h"
#include "io/decode_error.h"
#include "snapshot/layout.h"
#include "util/saturating.h"

namespace fs = std::filesystem;

namespace ckpt::ops {
namespace {

constexpr std::string_view kMagic = "CKPTPACK";
constexpr std::string_view kEndMagic{"CKPTEND\0", 8};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kMaxNote = 65536;
constexpr uint64_t kMaxFiles = 10'000'000;
constexpr std::size_t kMaxName = 255;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > kMaxName || n.front() == '.') return false;
  for (char c : n) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void sys_fail(const fs::path& p, const char* what) {
  throw PackError(p.string() + ": " + what + ": " + std::strerror(errno));
}

void write_all(int fd, const char* p, std::size_t n, const fs::path& path) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      sys_fail(path, "cannot write");
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Streams bytes through one zstd compression context into a file descriptor.
class ZstdWriter {
 public:
  ZstdWriter(int fd, fs::path path, const PackOptions& o) : fd_(fd), path_(std::move(path)), cctx_(ZSTD_createCCtx()) {
    if (!cctx_) throw PackError("cannot create a zstd compression context");
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, o.level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
    // Not an error when libzstd was built without threads: it compresses in this thread then.
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, threads);
    buf_.resize(ZSTD_CStreamOutSize());
  }
  ZstdWriter(const ZstdWriter&) = delete;
  ZstdWriter& operator=(const ZstdWriter&) = delete;
  ~ZstdWriter() { ZSTD_freeCCtx(cctx_); }

  void write(std::string_view in) { run(in, ZSTD_e_continue); }
  void finish() { run({}, ZSTD_e_end); }
  uint64_t written() const { return written_; }

 private:
  void run(std::string_view in, ZSTD_EndDirective mode) {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{buf_.data(), buf_.size(), 0};
      std::size_t r = ZSTD_compressStream2(cctx_, &ob, &ib, mode);
      if (ZSTD_isError(r)) throw PackError(path_.string() + ": zstd: " + ZSTD_getErrorName(r));
      write_all(fd_, buf_.data(), ob.pos, path_);
      written_ += ob.pos;
      if (mode == ZSTD_e_end ? r == 0 : ib.pos == ib.size) break;
    }
  }

  int fd_;
  fs::path path_;
  ZSTD_CCtx* cctx_;
  std::vector<char> buf_;
  uint64_t written_ = 0;
};

// Pulls decompressed bytes from an archive file; `offset()` is the position in the decompressed
// stream (for error messages).
class ZstdReader {
 public:
  explicit ZstdReader(const fs::path& path) : path_(path), dctx_(ZSTD_createDCtx()) {
    if (!dctx_) throw PackError("cannot create a zstd decompression context");
    // Bound the window (memory) a hostile archive can ask for: 128 MiB, zstd's default limit.
    ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, 27);
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      ZSTD_freeDCtx(dctx_);
      sys_fail(path, "cannot open");
    }
    in_.resize(ZSTD_DStreamInSize());
    out_.resize(ZSTD_DStreamOutSize());
  }
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;
  ~ZstdReader() {
    ::close(fd_);
    ZSTD_freeDCtx(dctx_);
  }

  uint64_t offset() const { return offset_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw PackError(fmt::format("{}: byte {}: {}", path_.string(), offset_, what));
  }

  // Hands exactly n bytes to sink, in pieces.
  template <typename Sink>
  void read(uint64_t n, Sink&& sink, const char* what) {
    while (n) {
      if (pos_ == end_ && !fill()) fail(fmt::format("archive ends inside {}", what));
      std::size_t k = static_cast<std::size_t>(std::min<uint64_t>(n, end_ - pos_));
      sink(std::string_view(out_.data() + pos_, k));
      pos_ += k;
      offset_ += k;
      n -= k;
    }
  }

  std::string read_string(std::size_t n, const char* what) {
    std::string s;
    s.reserve(n);
    read(
        n, [&](std::string_view p) { s.append(p); }, what);
    return s;
  }

  uint64_t read_le(int bytes, const char* what) {
    return get_le(read_string(static_cast<std::size_t>(bytes), what).data(), bytes);
  }

  void expect_end() {
    if (pos_ != end_ || fill()) fail("data after the end record");
  }

 private:
  bool fill() {
    for (;;) {
      if (ib_.pos == ib_.size) {
        if (!eof_) {
          ssize_t n = ::read(fd_, in_.data(), in_.size());
          if (n < 0) {
            if (errno == EINTR) continue;
            sys_fail(path_, "cannot read");
          }
          if (n == 0) eof_ = true;
          ib_ = ZSTD_inBuffer{in_.data(), static_cast<std::size_t>(n), 0};
        }
        if (eof_ && ib_.pos == ib_.size && !pending_) {
          if (last_ != 0) throw PackError(path_.string() + ": truncated: the zstd stream ends inside a frame");
          return false;
        }
      }
      ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
      std::size_t r = ZSTD_decompressStream(dctx_, &ob, &ib_);
      if (ZSTD_isError(r)) {
        throw PackError(fmt::format("{}: not a valid zstd stream near decompressed byte {}: {}", path_.string(),
                                    offset_, ZSTD_getErrorName(r)));
      }
      last_ = r;
      // A full output buffer may leave decoded bytes inside zstd: call again even without input.
      pending_ = ob.pos == ob.size;
      if (ob.pos) {
        pos_ = 0;
        end_ = ob.pos;
        return true;
      }
    }
  }

  fs::path path_;
  ZSTD_DCtx* dctx_;
  int fd_ = -1;
  std::vector<char> in_, out_;
  ZSTD_inBuffer ib_{nullptr, 0, 0};
  std::size_t pos_ = 0, end_ = 0;
  std::size_t last_ = 1;  // an empty file is a truncated stream
  bool eof_ = false, pending_ = false;
  uint64_t offset_ = 0;
};

fs::path temp_file_beside(const fs::path& target, int& fd) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  for (int i = 0; i < 16; ++i) {
    fs::path tmp = parent / fmt::format(".{}.{:016x}.tmp", target.filename().string(), rng());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return tmp;
    if (errno != EEXIST) sys_fail(target, "cannot create");  // users know the target, not the temp
  }
  throw PackError(target.string() + ": cannot create a temporary file beside it");
}

}  // namespace

PackStats pack_snapshot(const SelfContainedPlan& plan, const fs::path& out, bool replace, const PackOptions& options) {
  std::error_code ec;
  if (!replace && fs::exists(fs::symlink_status(out, ec))) {
    throw PackError(out.string() + ": already exists (use --force to replace it)");
  }
  for (const auto& f : plan.files) {
    if (fs::equivalent(f.source, out, ec)) throw PackError(out.string() + ": is one of the input files");
  }
  PackStats st;
  uint64_t total = plan.metadata.size();
  for (const auto& f : plan.files) util::sat_accumulate(total, f.length);
  int fd = -1;
  fs::path tmp = temp_file_beside(out, fd);
  try {
    ZstdWriter z(fd, out, options);  // errors name the archive, not its temp file
    std::string head(kMagic);
    put_le(head, kFormatVersion, 4);
    put_le(head, 0, 4);  // flags
    put_le(head, plan.files.size() + 1, 8);
    put_le(head, total, 8);
    std::string note = fmt::format("ckpt pack of {} (checkpoint {}, format version {})", plan.source_dir.string(),
                                   plan.md.checkpoint_id, plan.md.version);
    if (note.size() > kMaxNote) note.resize(kMaxNote);
    put_le(head, note.size(), 4);
    head += note;
    z.write(head);
    io::Xxh64 all;
    uint64_t done = 0;
    auto record = [&](const std::string& name, uint64_t size, const std::function<void(io::Xxh64&)>& body) {
      std::string rh;
      put_le(rh, name.size(), 2);
      rh += name;
      put_le(rh, size, 8);
      z.write(rh);
      io::Xxh64 h;
      body(h);
      std::string tail;
      uint64_t d = h.digest();
      put_le(tail, d, 8);
      z.write(tail);
      all.update(tail);
      ++st.files;
      util::sat_accumulate(st.bytes_in, size);
    };
    record(std::string(snapshot::kMetadataFileName), plan.metadata.size(), [&](io::Xxh64& h) {
      h.update(plan.metadata);
      z.write(plan.metadata);
    });
    for (const auto& f : plan.files) {
      // Read through the plan's scope again: the file read is checked when it is opened.
      if (f.whole && io::regular_file_size(plan.scope, f.source) != f.length) {
        throw PackError(f.source.string() + ": changed size while being packed");
      }
      record(f.name, f.length, [&](io::Xxh64& h) {
        io::read_range(plan.scope, f.source, f.offset, f.length, [&](std::string_view piece) {
          h.update(piece);
          z.write(piece);
          done += piece.size();
          if (options.progress) options.progress(done, total);
        });
      });
    }
    std::string end(kEndMagic);
    put_le(end, st.files, 8);
    put_le(end, all.digest(), 8);
    z.write(end);
    z.finish();
    st.bytes_out = z.written();
    if (::fsync(fd) != 0) sys_fail(out, "cannot fsync");
    ::close(fd);
    fd = -1;
    io::publish_file(tmp, out, replace);
  } catch (const io::IoError& e) {
    if (fd >= 0) ::close(fd);
    io::remove_quietly(tmp);
    throw PackError(e.what());
  } catch (...) {
    if (fd >= 0) ::close(fd);
    io::remove_quietly(tmp);
    throw;
  }
  return st;
}

UnpackStats unpack_archive(const fs::path& archive, const fs::path& out, bool replace, bool list_only,
                           const util::ProgressFn& progress) {
  std::error_code ec;
  if (!list_only && fs::exists(fs::symlink_status(out, ec))) {
    if (!replace) throw PackError(out.string() + ": already exists (use --force to replace it)");
    if (!fs::is_regular_file(fs::symlink_status(out / std::string(snapshot::kMetadataFileName), ec))) {
      throw PackError(out.string() +
                      ": exists and is not a snapshot directory (no _metadata); not replaced even with --force");
    }
  }
  ZstdReader z(archive);
  if (z.read_string(kMagic.size(), "the header") != kMagic) z.fail("not a ckpt pack archive (magic CKPTPACK missing)");
  uint64_t version = z.read_le(4, "the header");
  if (version != kFormatVersion) z.fail(fmt::format("pack format version {}, expected {}", version, kFormatVersion));
  uint64_t flags = z.read_le(4, "the header");
  if (flags != 0) z.fail(fmt::format("flags 0x{:x}, expected 0 (unknown features)", flags));
  uint64_t count = z.read_le(8, "the header");
  if (count == 0 || count > kMaxFiles) z.fail(fmt::format("file count {}, expected 1..{}", count, kMaxFiles));
  uint64_t total = z.read_le(8, "the header");
  uint64_t note_len = z.read_le(4, "the header");
  if (note_len > kMaxNote) z.fail(fmt::format("note of {} bytes, expected at most {}", note_len, kMaxNote));
  z.read(
      note_len, [](std::string_view) {}, "the header note");

  fs::path tmp;
  if (!list_only) {
    struct statvfs vfs {};
    fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    if (::statvfs(parent.c_str(), &vfs) == 0) {
      uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
      if (total > avail) {
        throw PackError(fmt::format("{}: the archive declares {} bytes, {} has {} bytes free", archive.string(), total,
                                    parent.string(), avail));
      }
    }
    try {
      tmp = io::make_temp_dir_beside(out);
    } catch (const io::IoError& e) {
      throw PackError(e.what());
    }
  }
  UnpackStats st;
  try {
    std::set<std::string> names;
    io::Xxh64 all;
    uint64_t left = total;
    uint64_t done = 0;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t name_len = z.read_le(2, "a file record");
      std::string name = z.read_string(static_cast<std::size_t>(name_len), "a file name");
      if (!valid_name(name)) z.fail(fmt::format("file name {:?} is not a plain file name", name));
      if (!names.insert(name).second) z.fail(fmt::format("file {} appears twice", name));
      uint64_t size = z.read_le(8, "a file record");
      if (size > left)
        z.fail(fmt::format("file {} of {} bytes exceeds the {} bytes the header declares", name, size, total));
      left -= size;
      int fd = -1;
      fs::path target;
      if (!list_only) {
        target = tmp / name;
        fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) sys_fail(target, "cannot create");
      }
      io::Xxh64 h;
      try {
        z.read(
            size,
            [&](std::string_view p) {
              h.update(p);
              if (fd >= 0) write_all(fd, p.data(), p.size(), target);
              done += p.size();
              if (progress) progress(done, total);
            },
            "file content");
        if (fd >= 0 && ::fsync(fd) != 0) sys_fail(target, "cannot fsync");
      } catch (...) {
        if (fd >= 0) ::close(fd);
        throw;
      }
      if (fd >= 0) ::close(fd);
      std::string digest = z.read_string(8, "a file checksum");
      uint64_t want = get_le(digest.data(), 8);
      if (h.digest() != want) {
        z.fail(fmt::format("file {}: checksum XXH64 {:016x}, the archive records {:016x}", name, h.digest(), want));
      }
      all.update(digest);
      st.entries.push_back({name, size, want});
      st.bytes += size;
    }
    if (left != 0) z.fail(fmt::format("files hold {} bytes, the header declares {}", total - left, total));
    if (z.read_string(kEndMagic.size(), "the end record") != kEndMagic) z.fail("end record missing");
    uint64_t n = z.read_le(8, "the end record");
    uint64_t d = z.read_le(8, "the end record");
    if (n != count) z.fail(fmt::format("end record counts {} files, the header {}", n, count));
    if (d != all.digest()) z.fail("end record checksum does not match the files' checksums");
    z.expect_end();
    if (!names.count(std::string(snapshot::kMetadataFileName))) z.fail("the archive holds no _metadata");
    if (!list_only) {
      io::fsync_directory(tmp);
      std::vector<std::string> problems = check_self_contained(tmp);
      if (!problems.empty()) {
        std::string msg = archive.string() + ": the unpacked snapshot is not self-contained:";
        for (const auto& p : problems) msg += "\n  - " + p;
        throw PackError(msg);
      }
      io::publish_directory(tmp, out, replace);
    }
  } catch (const io::IoError& e) {
    if (!tmp.empty()) io::remove_quietly(tmp);
    throw PackError(e.what());
  } catch (...) {
    if (!tmp.empty()) io::remove_quietly(tmp);
    throw;
  }
  return st;
}

}  // namespace ckpt::ops
