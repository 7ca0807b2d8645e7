#include "pipeline/file_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/atomic_file.h"
#include "io/byte_reader.h"
#include "io/byte_writer.h"
#include "pipeline/state_format.h"
#include "util/error.h"

namespace ckpt::pipeline {
namespace fs = std::filesystem;

std::string serialize_committable(const Committable& c) {
  std::string out;
  write_java_string(out, c.dir);
  write_java_string(out, c.in_progress);
  write_java_string(out, c.final_name);
  io::ByteWriter(out).i64(c.checkpoint_id);
  return out;
}

Committable deserialize_committable(std::string_view bytes) {
  io::ByteReader r(bytes);
  Committable c;
  c.dir = read_java_string(r);
  c.in_progress = read_java_string(r);
  c.final_name = read_java_string(r);
  c.checkpoint_id = r.i64("committable checkpoint id");
  auto bad = [](const std::string& n) {
    return n.empty() || n.find('/') != std::string::npos || n == "." || n == "..";
  };
  if (bad(c.in_progress) || bad(c.final_name)) {
    throw io::DecodeError(0, "sink committable names a path outside the output directory");
  }
  if (c.dir.empty() || c.dir.front() != '/') throw io::DecodeError(0, "sink committable has no absolute directory");
  return c;
}

namespace {

std::string normal_dir(const fs::path& d) {
  std::error_code ec;
  fs::path a = fs::absolute(d, ec);
  std::string s = (ec ? d : a).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool is_part_pair(const Committable& c) {
  return c.final_name.starts_with("part-") && c.in_progress == "." + c.final_name + ".inprogress";
}

bool exists_nofollow(const fs::path& p, bool& regular) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return false;
  regular = S_ISREG(st.st_mode);
  return true;
}

enum class Action { kCommit, kNothing };

// What a restore does with `c` when its job writes to `output_dir` (normal_dir form).
Action restored_action(const Committable& c, const std::string& output_dir) {
  const fs::path from = fs::path(c.dir) / c.in_progress;
  if (!is_part_pair(c)) {
    throw util::Error(util::ErrorKind::kRefused,
                      fmt::format("sink committable {}: expected a pair .part-X.inprogress -> part-X, found -> {}; "
                                  "nothing committed",
                                  from.string(), c.final_name));
  }
  if (normal_dir(c.dir) == output_dir) return Action::kCommit;
  bool final_regular = false, unused = false;
  if (!exists_nofollow(from, unused) && exists_nofollow(fs::path(c.dir) / c.final_name, final_regular) &&
      final_regular) {
    return Action::kNothing;  // committed earlier, in the directory the snapshot's job wrote to
  }
  throw util::Error(util::ErrorKind::kRefused,
                    fmt::format("sink committable {}: lies outside the output directory {} (a restore renames "
                                "files only there); nothing committed",
                                from.string(), output_dir));
}

}  // namespace

void check_restored_committables(const std::vector<Committable>& restored, const fs::path& output_dir) {
  const std::string out = normal_dir(output_dir);
  for (const auto& c : restored) (void)restored_action(c, out);
}

FileSink::FileSink(fs::path dir, int32_t subtask, std::string uid)
    : dir_(std::move(dir)), subtask_(subtask), uid_(std::move(uid)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!ec) dir_ = fs::absolute(dir_, ec);
  if (ec)
    throw util::Error(util::ErrorKind::kIo,
                      fmt::format("{}: cannot create output directory: {}", dir_.string(), ec.message()));
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::write(std::string_view line) {
  buffer_.append(line);
  ++lines_;
  if (buffer_.size() >= (1 << 20)) flush_buffer();
}

void FileSink::flush_buffer() {
  if (buffer_.empty()) return;
  if (fd_ < 0) {
    std::string base = fmt::format("part-{}-{}-{}", uid_, subtask_, part_counter_++);
    current_final_ = base;
    current_in_progress_ = "." + base + ".inprogress";
    fs::path p = dir_ / current_in_progress_;
    fd_ = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw util::Error(util::ErrorKind::kIo, fmt::format("{}: open: {}", p.string(), std::strerror(errno)));
  }
  const char* data = buffer_.data();
  std::size_t n = buffer_.size();
  while (n > 0) {
    ssize_t w = ::write(fd_, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw util::Error(util::ErrorKind::kIo,
                        fmt::format("{}: write: {}", (dir_ / current_in_progress_).string(), std::strerror(errno)));
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  buffer_.clear();
}

std::vector<Committable> FileSink::prepare_commit(int64_t checkpoint_id) {
  flush_buffer();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    pending_.push_back({dir_.string(), current_in_progress_, current_final_, checkpoint_id});
  }
  return pending_;
}

void FileSink::make_durable(const Committable& c) {
  fs::path p = fs::path(c.dir) / c.in_progress;
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // Committed meanwhile (a restore committing what an earlier attempt recorded) is durable.
    if (errno == ENOENT && fs::exists(fs::path(c.dir) / c.final_name)) return;
    throw util::Error(util::ErrorKind::kIo,
                      fmt::format("{}: cannot open to fsync: {}", p.string(), std::strerror(errno)));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw util::Error(util::ErrorKind::kIo, fmt::format("{}: fsync: {}", p.string(), std::strerror(err)));
}

void FileSink::commit(const Committable& c) {
  fs::path from = fs::path(c.dir) / c.in_progress;
  fs::path to = fs::path(c.dir) / c.final_name;
  // Never over an existing file: a part name is used once, so an existing target is not ours.
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
  if (errno == ENOENT && fs::exists(fs::symlink_status(to))) return;  // committed before a failure: idempotent
  throw util::Error(util::ErrorKind::kIo,
                    fmt::format("{}: cannot commit to {}: {}", from.string(), to.string(), std::strerror(errno)));
}

void FileSink::commit_up_to(int64_t checkpoint_id) {
  std::vector<Committable> keep;
  bool any = false;
  for (const auto& c : pending_) {
    if (c.checkpoint_id <= checkpoint_id) {
      commit(c);
      any = true;
    } else {
      keep.push_back(c);
    }
  }
  pending_ = std::move(keep);
  if (any) io::fsync_directory(dir_);
}

void FileSink::commit_restored(const std::vector<Committable>& restored) {
  const std::string out = normal_dir(dir_);
  bool any = false;
  for (const auto& c : restored) {
    if (restored_action(c, out) != Action::kCommit) continue;
    // The output directory as this sink names it, whatever spelling the committable used.
    Committable here = c;
    here.dir = dir_.string();
    commit(here);
    any = true;
  }
  if (any) io::fsync_directory(dir_);
}

void FileSink::commit_all() {
  for (const Committable& c : prepare_commit(INT64_MAX)) make_durable(c);
  commit_up_to(INT64_MAX);
}

}  // namespace ckpt::pipeline
