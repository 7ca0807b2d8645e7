#include "export/write_report_json.h"

#include "codec/json.h"
#include "convert.pb.h"

namespace ckpt::write_report_json {

void write_plan_report(const std::string& command, const std::string& input, const std::string& output,
                       const ops::SelfContainedPlan& plan, const Outcome& outcome, bool pretty, std::FILE* out) {
  ckpt::WriteReport pb;
  pb.set_command(command);
  pb.set_input(input);
  pb.set_output(output);
  pb.set_dry_run(outcome.dry_run);
  pb.set_total_bytes(static_cast<int64_t>(plan.total_bytes + plan.metadata.size()));
  for (const auto& f : plan.files) {
    auto* m = pb.add_files();
    m->set_name(f.name);
    m->set_source(f.source.string());
    m->set_offset(static_cast<int64_t>(f.offset));
    m->set_length(static_cast<int64_t>(f.length));
    m->set_segment(!f.whole);
    m->set_original(f.original);
    m->set_handles(f.handles);
  }
  for (const auto& n : plan.notes) pb.add_notes(n);
  pb.set_linked(outcome.written.linked);
  pb.set_copied(outcome.written.copied);
  pb.set_cut(outcome.written.cut);
  pb.set_archive_bytes(static_cast<int64_t>(outcome.archive_bytes));
  pb.set_relative_before(plan.relative_before);
  pb.set_absolute_before(plan.absolute_before);
  pb.set_segments_before(plan.segments_before);
  json::write_json(pb, pretty, out);
  std::fputc('\n', out);
}

void write_unpack_report(const std::string& input, const std::string& output, const ops::UnpackStats& st, bool dry_run,
                         bool pretty, std::FILE* out) {
  ckpt::WriteReport pb;
  pb.set_command("unpack");
  pb.set_input(input);
  pb.set_output(output);
  pb.set_dry_run(dry_run);
  pb.set_total_bytes(static_cast<int64_t>(st.bytes));
  for (const auto& e : st.entries) {
    auto* m = pb.add_files();
    m->set_name(e.name);
    m->set_length(static_cast<int64_t>(e.size));
    m->set_xxh64(static_cast<int64_t>(e.xxh64));
  }
  json::write_json(pb, pretty, out);
  std::fputc('\n', out);
}

}  // namespace ckpt::write_report_json
