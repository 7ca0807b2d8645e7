// Command-line path arguments are read as Flink reads paths (snapshot::local_of_user_path): a
// `file:` URI is its local path, and a file system ckpt cannot reach (s3://, hdfs://, ...) is a
// usage error, before anything is read or created.
#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ops/published_output.h"
#include "ops/staged_snapshot.h"
#include "snapshot/paths.h"
#include "util/error.h"

namespace ckpt::cli {

// Replaces each non-empty argument by its local path. nullopt when every one is local; else the
// one error line for the first that is not. `maps`: the command's --map flags (nullptr when it
// has none); a remote argument under a mapped prefix is then read from the mapping's directory,
// and the error line says how a --map would reach an unmapped one.
std::optional<std::string> localise_path_args(std::initializer_list<std::string*> args,
                                              const std::vector<snapshot::PathMapping>* maps = nullptr);
// True when `path` is an object-store URI (s3://, s3a://, s3p://, gs://) that no `--map` mapping
// covers: the command reads it through the store (storage/), and it is left as it is.
bool read_in_object_store(const std::string& path, const std::vector<snapshot::PathMapping>* maps = nullptr);

// The input snapshot of a command that reads a snapshot's files as local files (pack, convert,
// materialize, compact): an object-store URI no --map covers is staged in a private temporary
// copy (`staged`, removed when it goes), `input` becomes the copy and `maps` gains its bucket;
// anything else is localised as localise_path_args does. Staging errors are thrown
// (util::Error, naming the object).
std::optional<std::string> localise_input(std::string& input, std::vector<snapshot::PathMapping>& maps,
                                          const std::map<std::string, std::string>& config,
                                          std::unique_ptr<ops::StagedSnapshot>& staged);

// The output directory of a command that writes a snapshot or database directory (unpack,
// convert --self-contained, compact, materialize): an object-store URI no --map covers is written
// through `remote` (ops::PublishedOutput: a private local directory, uploaded by publish();
// `output` stays the URI, for the messages); anything else is localised as localise_path_args
// does. A non-empty prefix without `replace`, a bad URI or missing credentials are thrown
// (util::Error, kUsage). The directory to write is where_to_write(output, remote).
std::optional<std::string> localise_output(std::string& output, const std::map<std::string, std::string>& config,
                                           bool replace, std::unique_ptr<ops::PublishedOutput>& remote);
inline std::filesystem::path where_to_write(const std::string& output,
                                            const std::unique_ptr<ops::PublishedOutput>& remote) {
  return remote ? remote->local_dir() : std::filesystem::path(output);
}

// `text` naming a staged input and a published output by their URIs instead of the private
// directories that stand for them (either may be null).
std::string name_uris(std::string_view text, const ops::StagedSnapshot* staged, const ops::PublishedOutput* remote);

// Runs `body`; a util::Error it throws is rethrown (same kind) with name_uris applied, so that no
// error line names a private directory.
template <class Body>
int naming_uris(const ops::StagedSnapshot* staged, const ops::PublishedOutput* remote, Body&& body) {
  try {
    return body();
  } catch (const util::Error& e) {
    if (!staged && !remote) throw;
    throw util::Error(e.kind(), name_uris(e.what(), staged, remote));
  }
}

std::optional<std::string> localise_path_args(std::vector<std::string>& args,
                                              const std::vector<snapshot::PathMapping>* maps = nullptr);

}  // namespace ckpt::cli
