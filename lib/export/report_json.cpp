#include "export/report_json.h"

#include "checkpoint.pb.h"
#include "codec/json.h"
#include "codec/proto_codec.h"
#include "report.pb.h"

namespace ckpt::report_json {

void write_inspect_report(const flink::Metadata& md, ops::InspectResult& r, bool pretty, std::FILE* out) {
  // On the result's arena: with --files it is the one for ~10^6 messages.
  ckpt::Snapshot* snap = r.report->mutable_snapshot();
  snap->set_path(r.location.metadata.string());
  snap->set_directory(r.location.directory.string());
  codec::ToProtoOptions display;
  display.lossless = false;
  display.omit_derivable_trailer = true;
  display.skip_operators = true;
  codec::to_proto(md, *snap->mutable_metadata(), display);
  // The operators one at a time, converted as they are printed: the document never needs a
  // second copy of the whole snapshot in memory.
  std::size_t next = 0;
  json::write_json(
      *r.report, pretty, "snapshot.metadata.operators",
      [&](google::protobuf::Message& element) {
        if (next == md.operators.size()) return false;
        codec::operator_to_proto(md, next++, static_cast<ckpt::Operator&>(element), display);
        return true;
      },
      json::stdio_sink(out));
  std::fputc('\n', out);
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
