#include "commands.h"

#include <cstdio>

namespace ckpt::cli {

int fail(std::string_view command, std::string_view message, int code) {
  std::fprintf(stderr, "ckpt %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return code;
}

}  // namespace ckpt::cli
