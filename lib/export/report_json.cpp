#include "export/report_json.h"

#include <functional>

#include "checkpoint.pb.h"
#include "codec/json.h"
#include "codec/proto_codec.h"
#include "report.pb.h"

namespace ckpt::report_json {

namespace {

codec::ToProtoOptions display_options() {
  codec::ToProtoOptions display;
  display.lossless = false;
  display.omit_derivable_trailer = true;
  display.skip_operators = true;  // printed one at a time
  return display;
}

// `next_operator(i, message)` fills the message with operator i and returns true, or returns
// false after the last.
void write_report(const flink::Metadata& header, ops::InspectResult& r, bool pretty, std::FILE* out,
                  const std::function<bool(std::size_t, ckpt::Operator&)>& next_operator) {
  // On the result's arena: with --files it is the one for ~10^6 messages.
  ckpt::Snapshot* snap = r.report->mutable_snapshot();
  snap->set_path(r.location.metadata.string());
  snap->set_directory(r.location.directory.string());
  codec::to_proto(header, *snap->mutable_metadata(), display_options());
  // The operators one at a time, converted as they are printed: the document never needs a
  // second copy of the whole snapshot in memory.
  std::size_t next = 0;
  json::write_json(
      *r.report, pretty, "snapshot.metadata.operators",
      [&](google::protobuf::Message& element) { return next_operator(next++, static_cast<ckpt::Operator&>(element)); },
      json::stdio_sink(out));
  std::fputc('\n', out);
}

}  // namespace

void write_inspect_report(const flink::Metadata& md, ops::InspectResult& r, bool pretty, std::FILE* out) {
  write_report(md, r, pretty, out, [&](std::size_t i, ckpt::Operator& message) {
    if (i == md.operators.size()) return false;
    codec::operator_to_proto(md.operators[i], i, message, display_options());
    return true;
  });
}

void write_inspect_report(flink::OperatorStream& operators, ops::InspectResult& r, bool pretty, std::FILE* out) {
  operators.rewind();
  flink::OperatorState op;
  write_report(operators.metadata(), r, pretty, out, [&](std::size_t i, ckpt::Operator& message) {
    if (!operators.next(op)) return false;
    codec::operator_to_proto(op, i, message, display_options());
    return true;
  });
}

void write_snapshot_list(const std::vector<const ops::InspectResult*>& snapshots,
                         const std::vector<std::pair<std::string, std::string>>& unreadable,
                         const std::vector<std::string>& incomplete, bool pretty, std::FILE* out) {
  ckpt::SnapshotList list;
  for (const auto* r : snapshots) *list.add_snapshots() = r->summary();
  for (const auto& [path, error] : unreadable) {
    auto* u = list.add_unreadable();
    u->set_path(path);
    u->set_error(error);
  }
  for (const auto& p : incomplete) list.add_incomplete(p);
  json::write_json(list, pretty, out);
  std::fputc('\n', out);
}

}  // namespace ckpt::report_json
