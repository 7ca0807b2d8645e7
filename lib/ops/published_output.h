// An output directory in an object store, for the commands that write a snapshot directory
// (unpack, convert --self-contained, compact) or a database directory (materialize): the command
// writes into a private local directory under TMPDIR, and publish() uploads it under the output
// prefix, every object but `_metadata` first and `_metadata` last, so that the snapshot exists for
// readers only once it is whole (as Flink's own checkpoints do). A prefix that already holds
// objects is refused unless `replace`. The local directory goes with the object.
//
// Only a self-contained snapshot is published: its `_metadata` has relative handles only, which
// keep their meaning under the prefix. A `_metadata` with an absolute handle (which would name
// the private directory or this host's files once uploaded) is refused before anything is
// uploaded (ops::check_self_contained). Its errors name the URI, never the private directory
// (name_uri spells the directory as the URI in other messages: cli/path_args.h).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "io/temp_dir.h"
#include "storage/open_store.h"

namespace ckpt::ops {

class PublishedOutput {
 public:
  // Throws util::Error: a malformed URI, missing credentials (kUsage), a non-empty prefix without
  // `replace` (kUsage), a failed listing (kIo).
  PublishedOutput(const std::string& uri, const std::map<std::string, std::string>& config, bool replace);
  ~PublishedOutput();
  PublishedOutput(const PublishedOutput&) = delete;
  PublishedOutput& operator=(const PublishedOutput&) = delete;

  // Where the command writes (absent until it does).
  const std::filesystem::path& local_dir() const { return local_; }
  const std::string& uri() const { return uri_; }
  // `text` with local_dir() replaced by the URI.
  std::string name_uri(std::string_view text) const;
  // Checks that a `_metadata` in local_dir() is self-contained (util::Error kRefused, naming the
  // URI, and nothing uploaded when not), then uploads local_dir() to the prefix; returns the
  // objects written.
  uint64_t publish();

 private:
  std::string uri_;
  storage::OpenedStore opened_;
  io::TempDir tmp_;  // the private directory the output is written to first
  std::filesystem::path local_;
};

// A one-file output in an object store (pack's archive, convert's JSON or protobuf export): the
// command writes a private local file under TMPDIR, and publish() uploads it as one object
// (multipart when large), which appears whole or not at all. An existing object is refused
// unless `replace`. The local file goes with the object.
class PublishedFile {
 public:
  // Throws util::Error: a malformed URI or one naming a bucket only, missing credentials, an
  // existing object without `replace` (kUsage); a failed request (kIo).
  PublishedFile(const std::string& uri, const std::map<std::string, std::string>& config, bool replace);
  ~PublishedFile();
  PublishedFile(const PublishedFile&) = delete;
  PublishedFile& operator=(const PublishedFile&) = delete;

  // Where the command writes (absent until it does).
  const std::filesystem::path& local_file() const { return local_; }
  const std::string& uri() const { return uri_; }
  // `text` with local_file() replaced by the URI.
  std::string name_uri(std::string_view text) const;
  void publish();

 private:
  std::string uri_;
  storage::OpenedStore opened_;
  io::TempDir tmp_;  // the private directory the output is written to first
  std::filesystem::path local_;
};

}  // namespace ckpt::ops
