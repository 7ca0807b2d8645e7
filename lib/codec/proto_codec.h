// Conversion between the model of flink/model.h and its schema, formats/checkpoint.proto: the
// message behind every `--json` output and behind `ckpt convert --to json|proto`.
//
// Contract:
//  * Lossless: for every model the reader produces, from_proto(to_proto(md)) writes the same
//    `_metadata` bytes as md (write_metadata), also after a trip through JSON (lib/codec/json.h).
//    Fields of a handle that its tag does not use (e.g. the size of an inline handle) have no
//    place in the schema and are not carried; the writer ignores them too.
//  * Strings: the model holds Java modified UTF-8, proto strings are UTF-8. to_proto converts
//    with io::mutf8_to_utf8. With `lossless` (the default) it refuses, with a CodecError, a
//    string that would not convert back to the same bytes (an unpaired surrogate, a raw 0x00
//    byte that Java would re-encode as C0 80, a non-shortest form, invalid modified UTF-8);
//    without it such strings are converted for display (U+FFFD for what UTF-8 cannot carry).
//  * from_proto validates what the model cannot represent and what the reader would refuse in
//    the file written from it: operator ids of exactly 32 hex digits, known tags whose body
//    matches the oneof member, values that fit the model's integer widths, one offset per key
//    group, channel types of the right list, inline coordinator state, changelog increments of
//    tags 9/10/13, segment delegates under tag 17, non-negative ids, indices and key-group
//    counts, bounded nesting, and a trailer that agrees with the properties. It interns every
//    string, byte payload and offset array into the new Metadata's storage. Rules about which
//    version may hold what stay with the writer (flink/metadata_writer.h).
//  * Every error is a CodecError whose what() is one line "<field path>: <problem>", the path in
//    JSON names relative to the Metadata message, e.g.
//    "operators[3].subtasks[0].managedKeyed.tag: 4 is not a keyed state handle tag, ...".
//
// Large models: allocate the proto message on a google::protobuf::Arena built with
// large_arena_options() (to_proto has an overload for that). A 35 MB `_metadata` becomes ~10^6
// messages; on the heap, or on an arena of small blocks, first-touch page faults cost more than
// the conversion itself.
#pragma once

#include <google/protobuf/arena.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "checkpoint.pb.h"
#include "flink/model.h"
#include "util/error.h"

namespace ckpt::codec {

// Kind kProblems: the model cannot be converted without loss (an input export that does not
// decode is reported by its reader as input, ops/snapshot_input.h).
class CodecError : public util::Error {
 public:
  CodecError(std::string field, const std::string& problem)
      : util::Error(util::ErrorKind::kProblems, field.empty() ? problem : field + ": " + problem),
        field_(std::move(field)) {}
  // The path of the offending field, e.g. "operators[3].id" ("" for the message itself).
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

struct ToProtoOptions {
  // Refuse strings that UTF-8 cannot carry exactly (see above). Turn off for display only.
  bool lossless = true;
  // Leave Metadata.trailer empty when it is exactly what Flink writes for the trailer state and
  // properties (NULL and PARSED trailers): from_proto re-encodes it. Shorter JSON for display;
  // still lossless.
  bool omit_derivable_trailer = false;
  // Leave Metadata.operators empty (to print them one at a time with operator_to_proto).
  bool skip_operators = false;
};

// model -> proto. `out` is cleared first.
void to_proto(const flink::Metadata& md, ckpt::Metadata& out, const ToProtoOptions& options = {});

// Operator number `index` -> proto, as to_proto puts it into Metadata.operators (errors name the
// field "operators[index]..."). `out` is cleared first.
void operator_to_proto(const flink::OperatorState& op, std::size_t index, ckpt::Operator& out,
                       const ToProtoOptions& options = {});

// model -> proto, with the message allocated on `arena` (nullptr: on the heap; the caller owns
// it then).
ckpt::Metadata* to_proto(const flink::Metadata& md, google::protobuf::Arena* arena, const ToProtoOptions& options = {});

// Options for an arena that holds the proto of a large model: blocks of 2 MiB growing to 32 MiB,
// those of 2 MiB and more mapped with transparent huge pages where the kernel allows it (one page
// fault per 2 MiB instead of per 4 KiB). In sanitizer builds the blocks come from malloc.
//   google::protobuf::Arena arena(codec::large_arena_options());
//   ckpt::Metadata* pb = codec::to_proto(md, &arena);
google::protobuf::ArenaOptions large_arena_options();

// proto -> model. The result owns its bytes (a fresh Storage).
flink::Metadata from_proto(const ckpt::Metadata& pb);

}  // namespace ckpt::codec
