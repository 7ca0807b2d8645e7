// JSON of protobuf messages (formats/checkpoint.proto, formats/report.proto) following the proto3
// JSON mapping with two deliberate departures that make it a scripting format (as Flink's REST
// API is): every field without presence is printed, also when it holds its default (0, false,
// "", an empty list), and int64/uint64 are JSON numbers, not strings. Otherwise: lowerCamelCase
// json names, bytes as base64 (standard alphabet, padded), enums by name (unknown values as
// numbers), fields with presence (messages, `optional`, oneof members) printed whenever set,
// non-finite doubles as "NaN"/"Infinity".
// See formats/json-mapping.md.
//
// Printing uses ckpt's own reflection-driven emitter: protobuf's util::MessageToJsonString goes
// through a binary re-serialisation and an object-writer pipeline and is several times slower on
// the large messages of big snapshots. Its output parses back (util::JsonStringToMessage) to a
// message equal to the original (tests/unit/test_proto_codec.cpp checks this on the fixtures).
// Well-known types (google.protobuf.*) are delegated to protobuf's printer.
//
// Output has no trailing newline. Strings are escaped per RFC 8259 (plus U+2028/U+2029); invalid
// UTF-8 inside a string field is printed as U+FFFD.
#pragma once

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include "util/error.h"

namespace google::protobuf {
class Message;
}

namespace ckpt::json {

class JsonError : public util::Error {
 public:
  explicit JsonError(const std::string& message) : util::Error(util::ErrorKind::kIo, message) {}
};

// The whole document as one string. `pretty`: two-space indentation, one field per line, arrays
// of numbers on one line.
std::string to_json(const google::protobuf::Message& msg, bool pretty);

// The same bytes, handed to `sink` in pieces of about 64 KiB, so that printing a large message
// never holds the whole document in memory (use this for stdout).
using Sink = std::function<void(std::string_view)>;
void write_json(const google::protobuf::Message& msg, bool pretty, const Sink& sink);

// write_json to a stdio stream. Throws JsonError when writing fails.
void write_json(const google::protobuf::Message& msg, bool pretty, std::FILE* out);

// write_json where the repeated message field `streamed_field` (empty in `msg`; a dotted path such
// as "snapshot.metadata.operators" names one inside singular message fields) is
// produced one element at a time: `next` fills the cleared element it is handed and returns
// false when there are no more. The bytes are those write_json prints for `msg` holding every
// element, but only one element is ever held in memory (for documents with millions of entries).
using ElementSource = std::function<bool(google::protobuf::Message& element)>;
void write_json(const google::protobuf::Message& msg, bool pretty, std::string_view streamed_field,
                const ElementSource& next, const Sink& sink);

// A Sink writing to a stdio stream; throws JsonError when writing fails.
Sink stdio_sink(std::FILE* out);

// Parses `json` into `msg` (cleared first) with util::JsonStringToMessage; unknown fields are
// errors. Throws JsonError with a one-line message naming the problem.
void from_json(std::string_view json, google::protobuf::Message& msg);

}  // namespace ckpt::json
