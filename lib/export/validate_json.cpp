#include "export/validate_json.h"

#include "codec/json.h"
#include "snapshot/layout.h"
#include "validate.pb.h"
#include "validate/rules.h"

namespace ckpt::validate_json {

std::string restore_path(const ops::SnapshotValidation& v) {
  if (!v.location.metadata.empty() && v.location.metadata.filename() != snapshot::kMetadataFileName) {
    return v.location.metadata.string();
  }
  return v.location.directory.string();
}

namespace {

ValidateSnapshot::Status status_of(ops::SnapshotValidation::Status s) {
  switch (s) {
    case ops::SnapshotValidation::Status::kValid:
      return ValidateSnapshot::VALID;
    case ops::SnapshotValidation::Status::kInvalid:
      return ValidateSnapshot::INVALID;
    case ops::SnapshotValidation::Status::kIncomplete:
      return ValidateSnapshot::INCOMPLETE;
    case ops::SnapshotValidation::Status::kUnreadable:
      return ValidateSnapshot::UNREADABLE;
  }
  return ValidateSnapshot::STATUS_UNSPECIFIED;
}

ValidateSnapshot::Kind kind_of(std::string_view kind) {
  if (kind == "checkpoint") return ValidateSnapshot::CHECKPOINT;
  if (kind == "savepoint") return ValidateSnapshot::SAVEPOINT;
  return ValidateSnapshot::UNKNOWN;
}

ValidateFinding::Severity severity_of(validate::Severity s) {
  switch (s) {
    case validate::Severity::kError:
      return ValidateFinding::ERROR;
    case validate::Severity::kWarning:
      return ValidateFinding::WARNING;
    case validate::Severity::kInfo:
      return ValidateFinding::INFO;
  }
  return ValidateFinding::SEVERITY_UNSPECIFIED;
}

void fill(const ops::SnapshotValidation& v, ValidateSnapshot& m) {
  m.set_path(v.location.metadata.empty() ? v.location.directory.string() : v.location.metadata.string());
  m.set_directory(v.location.directory.string());
  m.set_status(status_of(v.status));
  m.set_version(v.version);
  m.set_checkpoint_id(v.checkpoint_id);
  m.set_kind(kind_of(v.kind));
  m.set_files_referenced(v.files.referenced);
  m.set_files_checked(v.files.checked);
  m.set_files_not_checked(v.files.not_checked);
  m.set_bytes_read(v.files.bytes_read);
  m.set_errors(v.errors);
  m.set_warnings(v.warnings);
  m.set_infos(v.infos);
  m.set_modified_unix(v.modified_unix);
  m.set_error(v.error);
  for (const auto& f : v.findings) {
    ValidateFinding* p = m.add_findings();
    p->set_rule(f.rule);
    p->set_severity(severity_of(f.severity));
    p->set_where(f.where);
    p->set_message(f.message);
    p->set_operator_id(f.operator_id);
    if (f.subtask >= 0) p->set_subtask(f.subtask);
    p->set_file(f.file);
  }
}

}  // namespace

void write_validate_report(const ops::ValidationRun& run, const ReportInfo& info, bool pretty, std::FILE* out) {
  ValidateReport r;
  r.set_root(info.root);
  r.set_deep(info.deep);
  r.set_expect(info.expect);
  for (const auto& v : run.snapshots) fill(v, *r.add_snapshots());
  r.set_valid(run.valid);
  r.set_invalid(run.invalid + run.unreadable);
  if (info.latest && run.latest_valid) r.set_latest_valid(restore_path(run.snapshots[*run.latest_valid]));
  json::write_json(r, pretty, out);
}

void write_rule_list(bool pretty, std::FILE* out) {
  ValidateRuleList list;
  for (const auto& rule : validate::all_rules()) {
    ValidateRule* p = list.add_rules();
    p->set_id(std::string(rule.id));
    p->set_severity(severity_of(rule.severity));
    p->set_title(std::string(rule.title));
  }
  json::write_json(list, pretty, out);
}

}  // namespace ckpt::validate_json
