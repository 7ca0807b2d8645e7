#include "commands.h"

#include <cstdio>
#include <string>

#include "console.h"

namespace ckpt::cli {

int fail(std::string_view command, std::string_view message, int code) {
  console::error("ckpt " + std::string(command), message);
  return code;
}

}  // namespace ckpt::cli
