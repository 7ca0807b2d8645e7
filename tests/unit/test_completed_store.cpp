// The retained-checkpoint store deletes what a subsumed checkpoint held: for a checkpoint restored
// in CLAIM mode those paths come from a snapshot, which is input, not a command.
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>

#include "flink/builder.h"
#include "io/atomic_file.h"
#include "pipeline/completed_store.h"
#include "support/temp_dir.h"

using namespace ckpt;
namespace fs = std::filesystem;

TEST_CASE("completed store: a subsumed claimed checkpoint deletes shared files only inside its root") {
  testsupport::TempDir t;
  const fs::path job = t / "ck/0123456789abcdef0123456789abcdef";
  fs::create_directories(job / "chk-1");
  fs::create_directories(job / "shared");
  fs::create_directories(t / "elsewhere");
  io::write_file_atomically(job / "chk-1/_metadata", "x");
  io::write_file_atomically(job / "shared/mine", "s");
  io::write_file_atomically(t / "elsewhere/victim", "v");
  fs::create_directory_symlink(t / "elsewhere", job / "shared/link");

  auto md = std::make_shared<flink::Metadata>();
  md->version = 4;
  flink::Builder b(*md);
  std::vector<flink::NamedStream> shared = {
      b.named("1.sst", b.file("file:" + (job / "shared/mine").string(), 1)),
      b.named("2.sst", b.file("file:" + (t / "elsewhere/victim").string(), 1)),
      b.named("3.sst", b.file("file:" + (job / "shared/link/victim").string(), 1))};
  flink::OperatorState op;
  op.parallelism = op.max_parallelism = 1;
  flink::SubtaskState s;
  s.managed_keyed = b.incremental(1, "backend", {0, 1}, 3, b.inline_bytes("meta", "m"), std::move(shared), {}, "h");
  op.subtasks.push_back(std::move(s));
  md->operators.push_back(std::move(op));

  pipeline::CompletedCheckpointStore store(1);
  pipeline::CompletedSnapshot claimed;
  claimed.id = 1;
  claimed.dir = job / "chk-1";
  claimed.metadata = md;
  claimed.owned = true;  // CLAIM mode
  store.add(claimed);
  pipeline::CompletedSnapshot next;
  next.id = 2;
  next.owned = false;
  store.add(next);  // subsumes the claimed one

  CHECK_FALSE(fs::exists(job / "chk-1"));
  CHECK_FALSE(fs::exists(job / "shared/mine"));  // inside the root: released
  CHECK(fs::exists(t / "elsewhere/victim"));     // outside, directly or through a symlink: kept
}
