// The V4+ `_metadata` trailer: a Java Object Serialization stream holding one
// `CheckpointProperties` object or null (spec §10).
//
// Reading goes through the generic parser of the Java serialization grammar (io/java_serialization.h),
// because the trailer is not length-prefixed: only the grammar tells where the object ends (bytes
// after it are not part of the trailer: Flink ignores them, see properties_stream_length). This
// file maps the parsed tree to CheckpointProperties.
//
// Writing never goes through a generic serializer: Flink's output for these classes is fixed, so
// the encoder emits the exact templates of spec §10.2. That makes "parsed" a strong promise:
// kParsed is returned only when encode_properties_trailer(out) reproduces the trailer byte for
// byte, so an editor may change the properties and re-encode without changing the format.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "flink/model.h"

namespace ckpt::flink {

// Classifies a trailer (the bytes from the stream magic to the end of the file):
//  * kNull     exactly `AC ED 00 05 70` (State Processor API output).
//  * kParsed   one CheckpointProperties object of a known shape; every field of `out` is set.
//  * kUnparsed a complete, well-formed stream of one object that is something else or of a shape
//              ckpt does not know (e.g. a future Flink changed a serialVersionUID); `*detail`
//              says why. The caller keeps the bytes verbatim.
// `out` is written only for kParsed; `*detail` is cleared unless the result is kUnparsed.
// Throws io::DecodeError (offset relative to the first trailer byte) when the bytes are not one
// complete, well-formed Java serialization stream of exactly one object, including when bytes
// remain after that object. Never returns kAbsent.
TrailerState parse_properties_trailer(Bytes trailer, CheckpointProperties& out, std::string* detail = nullptr);

// Where the trailer ends in `bytes` (the rest of a V4+ file): the length of the stream header and
// its one top-level object, which is all Flink's ObjectInputStream.readObject consumes; bytes
// after it are ignored by Flink (Metadata::trailing). Throws io::DecodeError (offset relative to
// the first byte) when no complete, well-formed object is there.
std::size_t properties_stream_length(Bytes bytes);

// The trailer Flink writes for `props` (spec §10.2). The Java type name is derived from
// `kind` and, for savepoints, `action`: `type_name` is output only (filled by the parser and
// the presets) and is ignored here. `sharing_strategy` is used for the two checkpoint kinds; empty
// means the strategy Flink pairs with the kind (Checkpoint: FORWARD_BACKWARD, Full Checkpoint:
// FORWARD). Throws util::Error (kInput) for a strategy that is not one of the three Flink
// constants, or for enum values outside their enumerators.
std::string encode_properties_trailer(const CheckpointProperties& props);

// `AC ED 00 05 70`: the trailer of metadata written without properties.
std::string encode_null_trailer();

// ---------------------------------------------------------------------------------------------
// Presets: the combinations Flink itself writes (spec §10.1 table).

// ExternalizedCheckpointRetention of the job; decides the discard flags of its checkpoints.
enum class Retention { kNeverRetain, kRetainOnFailure, kRetainOnCancellation };

// A periodic checkpoint, or with `full` a manually triggered full checkpoint (Flink copies the
// job's retention flags and `forced = false` into it).
CheckpointProperties checkpoint_properties(Retention retention, bool full = false);

// A savepoint (`flink savepoint`), or a stop-with-savepoint: kSuspend for `flink stop`,
// kTerminate for `flink stop --drain`. `forced` is set when triggered regardless of
// concurrency limits. Savepoints discard nothing.
CheckpointProperties savepoint_properties(CheckpointProperties::Format format,
                                          CheckpointProperties::Action action = CheckpointProperties::Action::kNone,
                                          bool forced = false);

// The preset whose discard flags `props` carries, for checkpoints; nullopt for savepoints and
// for flag combinations Flink does not produce.
std::optional<Retention> retention_of(const CheckpointProperties& props);

// ---------------------------------------------------------------------------------------------
// Display names. All return static strings; out-of-range enum values yield "?".

// Human summary: "checkpoint", "full checkpoint", "savepoint (canonical)",
// "suspend savepoint (native)", "terminate savepoint (canonical)", ...
std::string_view describe(const CheckpointProperties& props);
// "absent", "null", "parsed", "unparsed".
std::string_view describe(TrailerState state);
// Flink's ExternalizedCheckpointRetention constant names, e.g. "RETAIN_ON_CANCELLATION".
std::string_view describe(Retention retention);

// The Java names as they appear in the stream and in Flink's UI.
std::string_view type_name(CheckpointProperties::Kind kind, CheckpointProperties::Action action);
std::string_view format_name(CheckpointProperties::Format format);  // "CANONICAL", "NATIVE"
std::string_view action_name(CheckpointProperties::Action action);  // "NONE", "SUSPEND", ...

}  // namespace ckpt::flink
