#include "util/error.h"

namespace ckpt::util {

std::string_view kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInput:
      return "input";
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kRefused:
      return "refused";
    case ErrorKind::kProblems:
      return "problems";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace ckpt::util
