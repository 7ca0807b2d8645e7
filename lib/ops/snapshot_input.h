// Loading the one snapshot a command operates on (`ckpt diff`, `ckpt convert`, `ckpt pack`), from
// any form ckpt reads: a Flink `_metadata` file or snapshot directory, or ckpt's own JSON or
// binary protobuf export of one (`ckpt convert --to json|proto`).
//
// Contract: a path naming zero or several snapshots, an unreadable file and a file of the wrong
// form are InputError with one line naming the file (and the byte offset / field where the
// reader gave one). Exports carry no directory: `location` is unset for them, so relative
// handles cannot be resolved.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "flink/model.h"
#include "snapshot/discovery.h"
#include "util/error.h"

namespace ckpt::ops {

enum class InputForm { kAuto, kFlink, kJson, kProto };

class InputError : public util::Error {
 public:
  explicit InputError(const std::string& message) : util::Error(util::ErrorKind::kInput, message) {}
};

struct SnapshotInput {
  flink::Metadata md;
  InputForm form = InputForm::kFlink;          // what was read (never kAuto)
  std::optional<snapshot::Location> location;  // Flink input only
  std::string label;                           // the path as the user gave it
};

// kAuto: Flink when the file starts with the `_metadata` magic (or `path` is a directory), JSON
// when the first non-blank byte is '{'; binary protobuf must be asked for with kProto.
// An object-store URI (s3://...) names a Flink snapshot read through the store; `config` holds
// its Flink keys (storage/s3_settings.h).
SnapshotInput load_snapshot_input(const std::filesystem::path& path, InputForm form = InputForm::kAuto,
                                  const std::map<std::string, std::string>& config = {});

// "flink", "json", "proto" ("auto" for kAuto). parse_input_form: nullopt for anything else.
std::string_view input_form_name(InputForm f);
std::optional<InputForm> parse_input_form(std::string_view name);

}  // namespace ckpt::ops
