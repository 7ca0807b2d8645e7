// `ckpt convert` to one file (or standard output): every decision of the command, made before
// anything is written. The CLI parses flags into a ConvertRequest, calls plan_convert and writes
// ConvertPlan::bytes where it says (atomically, io/atomic_file.h), or only prints it with --dry-run.
//
// Order of the steps, each on the private copy of the model in `in`:
//  1. --format-version (ops::change_version; refused when a field would be lost);
//  2. --relocate (ops::relocate);
//  3. for a Flink `_metadata` written into another directory, the §11.3 anchoring of relative
//     handles (ops::anchor_relative), unless keep_relative;
//  4. serialization: Flink's writer, or the proto / JSON export of the model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/convert.h"
#include "ops/snapshot_input.h"

namespace ckpt::ops {

enum class OutputForm { kFlink, kJson, kProto };

// "flink", "json", "proto"; nullopt for anything else.
std::optional<OutputForm> parse_output_form(std::string_view name);
// "auto", "checkpoint", "savepoint", "null"; nullopt for anything else.
std::optional<PropertiesChoice> parse_properties_choice(std::string_view name);

struct ConvertRequest {
  OutputForm to = OutputForm::kFlink;
  int32_t version = 0;  // 0: keep the input's format version
  PropertiesChoice properties = PropertiesChoice::kFromDirectory;
  std::vector<Relocation> relocations;
  std::filesystem::path output;  // empty: standard output
  bool keep_relative = false;
  bool pretty = false;  // JSON
};

struct ConvertPlan {
  std::filesystem::path target;    // the file to write (OUT, or OUT/_metadata for a directory); empty: stdout
  std::string bytes;               // what is written
  int32_t version = 0;             // the format version of the written model
  std::vector<std::string> notes;  // what was derived, relocated or re-anchored
};

// Step 1 alone (also the first step of --self-contained): the notes of the version change.
// Throws ConvertError when a field would be lost.
std::vector<std::string> apply_format_version(SnapshotInput& in, int32_t version, PropertiesChoice choice);

// Steps 1-4. Throws ConvertError (a conversion that cannot be done without loss), codec::CodecError
// (the model cannot be exported), io::IoError (the target is the input file: inputs are never
// modified).
ConvertPlan plan_convert(SnapshotInput& in, const ConvertRequest& request);

}  // namespace ckpt::ops
