#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "io/atomic_file.h"
#include "io/confined_open.h"
#include "io/copy_or_link.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;
using testsupport::TempDir;

namespace {

// root/job/shared/f (a file), root/job/link -> ../outside (a directory symlink), root/job/flink
// -> shared/f (a file symlink), outside/secret beside root.
struct Tree {
  TempDir t;
  fs::path root = t / "root", outside = t / "outside";
  Tree() {
    fs::create_directories(root / "job/shared");
    fs::create_directories(outside);
    io::write_file_atomically(root / "job/shared/f", "state");
    io::write_file_atomically(outside / "secret", "secret");
    fs::create_directory_symlink("../../outside", root / "job/link");
    fs::create_symlink("shared/f", root / "job/flink");
  }
};

int open_with(const fs::path& dir, const std::string& rel, io::BeneathMethod m) {
  io::UniqueFd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(d.get() >= 0);
  int fd = io::open_beneath(d.get(), rel, O_RDONLY, m);
  if (fd >= 0) ::close(fd);
  return fd >= 0 ? 0 : fd;
}

}  // namespace

TEST_CASE("open_beneath: openat2 and the O_NOFOLLOW walk agree") {
  Tree tr;
  for (auto m : {io::BeneathMethod::kAuto, io::BeneathMethod::kOpenat2, io::BeneathMethod::kWalk}) {
    CAPTURE(static_cast<int>(m));
    if (m == io::BeneathMethod::kOpenat2 && open_with(tr.root, "job/shared/f", m) == -ENOSYS) continue;
    CHECK(open_with(tr.root, "job/shared/f", m) == 0);
    CHECK(open_with(tr.root, "job/link/secret", m) == -ELOOP);           // symlink in a middle component
    CHECK(open_with(tr.root, "job/flink", m) == -ELOOP);                 // symlink as the last component
    CHECK(open_with(tr.root, "job/../../outside/secret", m) == -EXDEV);  // ".." out of the directory
    CHECK(open_with(tr.root, "/etc/passwd", m) == -EXDEV);               // absolute
    CHECK(open_with(tr.root, "job/missing", m) == -ENOENT);
  }
  // O_PATH of a final symlink would yield the link itself: refused as well.
  io::UniqueFd d(::open(tr.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  CHECK(io::open_beneath(d.get(), "job/flink", O_PATH, io::BeneathMethod::kWalk) == -ELOOP);
  CHECK(io::open_beneath(d.get(), "job/flink", O_PATH) == -ELOOP);
}

TEST_CASE("ReadScope: inside the allowed directories, through no symlink") {
  Tree tr;
  io::ReadScope s;
  s.allow(tr.root);
  io::ConfinedFile f = s.open(tr.root / "job/shared/f");
  CHECK(f.size == 5);
  CHECK(s.open(tr.root / "job/./shared/../shared/f").size == 5);  // lexically normalised first
  CHECK_THROWS_AS(s.open(tr.outside / "secret"), io::OutsideScopeError);
  CHECK_THROWS_AS(s.open(tr.root / "job/../../outside/secret"), io::OutsideScopeError);
  CHECK_THROWS_WITH_AS(s.open(tr.root / "job/link/secret"), doctest::Contains("job/link is a symbolic link"),
                       io::OutsideScopeError);
  CHECK_THROWS_AS(s.open(tr.root / "job/flink"), io::OutsideScopeError);
  CHECK_THROWS_WITH_AS(s.open(tr.root / "job/shared"), doctest::Contains("not a regular file"), io::IoError);
  CHECK_THROWS_WITH_AS(s.open(tr.root), doctest::Contains("resolves outside"), io::OutsideScopeError);
  CHECK(s.refusal(tr.root / "job/shared/f").empty());
  CHECK(s.refusal(tr.root / "job/missing").empty());  // other rules report missing files
  CHECK(s.refusal(tr.root / "job/link/secret").find("symbolic link") != std::string::npos);
  CHECK(s.refusal(tr.outside / "secret").find("--allow-outside") != std::string::npos);

  // --allow-outside names the other directory.
  s.allow(tr.outside);
  CHECK(s.open(tr.outside / "secret").size == 6);
  // Still not through the symlink: the file is reached by its own name only.
  CHECK_THROWS_AS(s.open(tr.root / "job/link/secret"), io::OutsideScopeError);

  // Unconfined (ckpt's own files): anywhere, but a final symlink is still not followed.
  io::ReadScope any = io::ReadScope::unconfined();
  CHECK(any.open(tr.outside / "secret").size == 6);
  CHECK_THROWS_AS(any.open(tr.root / "job/flink"), io::IoError);
}

TEST_CASE("copy_or_link reads through the scope: the file opened is the file linked or copied") {
  Tree tr;
  io::ReadScope s;
  s.allow(tr.root);
  CHECK_THROWS_AS(io::link_or_copy(s, tr.outside / "secret", tr.t / "x", true), io::OutsideScopeError);
  CHECK_THROWS_AS(io::copy_range(s, tr.root / "job/link/secret", 0, 1, tr.t / "y"), io::OutsideScopeError);
  CHECK_FALSE(fs::exists(tr.t / "x"));
  CHECK_FALSE(fs::exists(tr.t / "y"));
  CHECK(io::link_or_copy(s, tr.root / "job/shared/f", tr.t / "l", true) == io::PlaceMethod::kLink);
  CHECK(fs::equivalent(tr.t / "l", tr.root / "job/shared/f"));
  CHECK(io::link_or_copy(s, tr.root / "job/shared/f", tr.t / "c", false) == io::PlaceMethod::kCopy);
  CHECK(fs::file_size(tr.t / "c") == 5);
  // A range past the end names both numbers, even when offset + length does not fit.
  CHECK_THROWS_WITH_AS(io::copy_range(s, tr.root / "job/shared/f", 1, UINT64_MAX, tr.t / "z"),
                       doctest::Contains("1 + 18446744073709551615"), io::IoError);
}

TEST_CASE("ReadScope::unlink deletes inside the scope only, through no symlink") {
  Tree tr;
  io::ReadScope s;
  s.allow(tr.root);
  CHECK(s.unlink(tr.outside / "secret").find("lies outside") != std::string::npos);
  CHECK(s.unlink(tr.root / "job/link/secret").find("symbolic link") != std::string::npos);
  CHECK(fs::exists(tr.outside / "secret"));
  CHECK(s.unlink(tr.root / "job/flink").empty());  // the symlink itself, not its target
  CHECK(fs::exists(tr.root / "job/shared/f"));
  CHECK_FALSE(fs::exists(fs::symlink_status(tr.root / "job/flink")));
  CHECK(s.unlink(tr.root / "job/shared/f").empty());
  CHECK_FALSE(fs::exists(tr.root / "job/shared/f"));
  CHECK(s.unlink(tr.root / "job/shared/f").empty());  // already absent
  CHECK(s.unlink(tr.root / "job/gone/f").empty());
}
