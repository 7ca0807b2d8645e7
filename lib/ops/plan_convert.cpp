#include "ops/plan_convert.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include "checkpoint.pb.h"
#include "codec/json.h"
#include "codec/proto_codec.h"
#include "flink/metadata_writer.h"
#include "io/decode_error.h"
#include "snapshot/layout.h"

namespace fs = std::filesystem;

namespace ckpt::ops {

std::optional<OutputForm> parse_output_form(std::string_view name) {
  if (name == "flink") return OutputForm::kFlink;
  if (name == "json") return OutputForm::kJson;
  if (name == "proto") return OutputForm::kProto;
  return std::nullopt;
}

std::optional<PropertiesChoice> parse_properties_choice(std::string_view name) {
  if (name == "auto") return PropertiesChoice::kFromDirectory;
  if (name == "checkpoint") return PropertiesChoice::kCheckpoint;
  if (name == "savepoint") return PropertiesChoice::kSavepoint;
  if (name == "null") return PropertiesChoice::kNull;
  return std::nullopt;
}

std::vector<std::string> apply_format_version(SnapshotInput& in, int32_t version, PropertiesChoice choice) {
  if (version == 0) return {};
  std::optional<snapshot::DirKind> kind;
  if (in.location) kind = in.location->dir_kind;
  return change_version(in.md, version, choice, kind).notes;
}

ConvertPlan plan_convert(SnapshotInput& in, const ConvertRequest& request) {
  ConvertPlan plan;
  plan.notes = apply_format_version(in, request.version, request.properties);
  RelocateStats rs = relocate(in.md, request.relocations);
  if (!request.relocations.empty()) {
    plan.notes.push_back(
        fmt::format("relocated {} absolute handle paths and {} file-merging directories; {} absolute "
                    "paths matched no --relocate",
                    rs.handles, rs.directories, rs.untouched));
  }
  if (!request.output.empty()) {
    plan.target = request.output;
    struct stat st {};
    if (::stat(plan.target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      plan.target /= std::string(snapshot::kMetadataFileName);
    }
    std::error_code ec;
    if (in.location && fs::equivalent(plan.target, in.location->metadata, ec)) {
      throw io::IoError(plan.target.string() + ": is the input file (inputs are never modified)");
    }
  }
  // A relative handle written into another directory would name another file: Flink resolves it
  // against the directory of its `_metadata`.
  if (request.to == OutputForm::kFlink && in.location && !plan.target.empty() && !request.keep_relative) {
    fs::path out_dir = plan.target.parent_path().empty() ? fs::path(".") : plan.target.parent_path();
    AnchorStats as = anchor_relative(in.md, in.location->directory, out_dir, request.relocations);
    if (as.made_absolute) {
      plan.notes.push_back(
          fmt::format("{} relative handles became absolute: their files are not beside {} (Flink resolves a "
                      "relative handle against the directory of its _metadata)",
                      as.made_absolute, plan.target.string()));
    }
  }
  if (request.to == OutputForm::kFlink) {
    try {
      plan.bytes = flink::write_metadata(in.md);
    } catch (const flink::WriteError& e) {
      throw ConvertError(std::string("cannot write the _metadata: ") + e.what());
    }
  } else {
    ckpt::Metadata pb;
    codec::to_proto(in.md, pb);
    if (request.to == OutputForm::kJson) plan.bytes = json::to_json(pb, request.pretty) + "\n";
    else if (!pb.SerializeToString(&plan.bytes)) throw ConvertError("cannot serialize the protobuf message");
  }
  plan.version = in.md.version;
  return plan;
}

}  // namespace ckpt::ops
