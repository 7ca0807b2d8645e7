#include "commands.h"

#include <cstdio>
#include <string>

#include "codec/json.h"
#include "console.h"
#include "error.pb.h"

namespace ckpt::cli {
namespace {

bool g_json_errors = false;

ckpt::ErrorDetail::Kind proto_kind(util::ErrorKind kind) {
  switch (kind) {
    case util::ErrorKind::kInput:
      return ckpt::ErrorDetail::INPUT;
    case util::ErrorKind::kIo:
      return ckpt::ErrorDetail::IO;
    case util::ErrorKind::kUsage:
      return ckpt::ErrorDetail::USAGE;
    case util::ErrorKind::kRefused:
      return ckpt::ErrorDetail::REFUSED;
    case util::ErrorKind::kProblems:
      return ckpt::ErrorDetail::PROBLEMS;
    case util::ErrorKind::kInternal:
      return ckpt::ErrorDetail::INTERNAL;
  }
  return ckpt::ErrorDetail::INTERNAL;
}

}  // namespace

void set_json_errors(bool on) { g_json_errors = on; }
bool json_errors() { return g_json_errors; }

int report_error(std::string_view command, util::ErrorKind kind, std::string_view message, int code) {
  if (!g_json_errors) {
    console::error(command, message);
    return code;
  }
  ckpt::ErrorReport r;
  ckpt::ErrorDetail* e = r.mutable_error();
  e->set_command(std::string(command));
  e->set_kind(proto_kind(kind));
  e->set_message(std::string(message));
  e->set_exit_code(code);
  std::string line = json::to_json(r, false) + "\n";
  std::fputs(line.c_str(), stderr);
  return code;
}

int fail(std::string_view command, std::string_view message, int code) {
  return report_error("ckpt " + std::string(command),
                      code == kExitProblems ? util::ErrorKind::kProblems : util::ErrorKind::kUsage, message, code);
}

}  // namespace ckpt::cli
