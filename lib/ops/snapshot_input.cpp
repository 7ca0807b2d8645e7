#include "ops/snapshot_input.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "checkpoint.pb.h"
#include "codec/json.h"
#include "codec/proto_codec.h"
#include "flink/metadata_reader.h"
#include "io/decode_error.h"
#include "io/file_bytes.h"
#include "ops/snapshot_source.h"

namespace ckpt::ops {
namespace {

bool looks_like_json(std::string_view b) {
  for (char c : b) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

std::string_view input_form_name(InputForm f) {
  switch (f) {
    case InputForm::kAuto:
      return "auto";
    case InputForm::kFlink:
      return "flink";
    case InputForm::kJson:
      return "json";
    case InputForm::kProto:
      return "proto";
  }
  return "?";
}

std::optional<InputForm> parse_input_form(std::string_view name) {
  for (InputForm f : {InputForm::kAuto, InputForm::kFlink, InputForm::kJson, InputForm::kProto}) {
    if (name == input_form_name(f)) return f;
  }
  return std::nullopt;
}

namespace {

SnapshotInput load_from_store(const std::string& uri, InputForm form,
                              const std::map<std::string, std::string>& config) {
  if (form != InputForm::kAuto && form != InputForm::kFlink) {
    throw InputError(uri + ": exports are read from local files; an object store holds Flink snapshots");
  }
  SnapshotSource source(uri, config);
  snapshot::Discovery d;
  try {
    d = source.discover();
  } catch (const util::Error& e) {
    throw InputError(e.what());
  }
  if (d.snapshots.size() != 1 || !d.single) {
    if (d.snapshots.empty() && !d.incomplete.empty()) {
      throw InputError(uri + ": incomplete checkpoint: no _metadata (the checkpoint never completed)");
    }
    throw InputError(uri + ": names " + std::to_string(d.snapshots.size()) +
                     " snapshots, expected one snapshot prefix or _metadata object");
  }
  SnapshotInput in;
  in.label = uri;
  in.location = d.snapshots.front();
  try {
    in.md = source.read(*in.location);
  } catch (const flink::MetadataError& e) {
    throw InputError(e.what());
  }
  in.form = InputForm::kFlink;
  return in;
}

}  // namespace

SnapshotInput load_snapshot_input(const std::filesystem::path& path, InputForm form,
                                  const std::map<std::string, std::string>& config) {
  if (is_object_store_path(path.native())) return load_from_store(path.native(), form, config);
  SnapshotInput in;
  in.label = path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(path.string() + ": cannot access: " + std::strerror(errno));

  if (S_ISDIR(st.st_mode)) {
    if (form != InputForm::kAuto && form != InputForm::kFlink) {
      throw InputError(path.string() + ": is a directory, expected a " + std::string(input_form_name(form)) + " file");
    }
    snapshot::Discovery d;
    try {
      d = snapshot::discover(path);
    } catch (const io::IoError& e) {
      throw InputError(e.what());
    }
    if (d.snapshots.size() != 1 || !d.single) {
      if (d.snapshots.empty() && !d.incomplete.empty() && d.incomplete.front() == path) {
        throw InputError(path.string() + ": incomplete checkpoint: no _metadata (the checkpoint never completed)");
      }
      throw InputError(path.string() + ": names " + std::to_string(d.snapshots.size()) +
                       " snapshots, expected one snapshot directory or _metadata file");
    }
    in.location = d.snapshots.front();
    try {
      in.md = flink::read_metadata_file(in.location->metadata);
    } catch (const flink::MetadataError& e) {
      throw InputError(e.what());
    }
    in.form = InputForm::kFlink;
    return in;
  }

  std::string bytes;
  try {
    bytes = io::read_file_bytes(path);
  } catch (const io::IoError& e) {
    throw InputError(e.what());
  }
  if (form == InputForm::kAuto) {
    if (flink::starts_with_metadata_magic(bytes)) form = InputForm::kFlink;
    else if (looks_like_json(bytes)) form = InputForm::kJson;
    else
      throw InputError(path.string() +
                       ": byte 0: neither a Flink _metadata file (magic 0x4960672D) nor ckpt JSON ('{'); "
                       "for a binary protobuf export pass --from proto");
  }
  in.form = form;
  try {
    if (form == InputForm::kFlink) {
      in.location = snapshot::locate(path);
      in.md = flink::parse_metadata(std::move(bytes), path.string());
      return in;
    }
    ckpt::Metadata pb;
    if (form == InputForm::kJson) {
      json::from_json(bytes, pb);
    } else if (!pb.ParseFromString(bytes)) {
      throw InputError(path.string() + ": not a binary ckpt.Metadata protobuf message");
    }
    in.md = codec::from_proto(pb);
  } catch (const flink::MetadataError& e) {
    throw InputError(e.what());
  } catch (const json::JsonError& e) {
    throw InputError(path.string() + ": " + e.what());
  } catch (const codec::CodecError& e) {
    throw InputError(path.string() + ": " + e.what());
  }
  return in;
}

}  // namespace ckpt::ops
