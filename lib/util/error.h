// One error model. Every error ckpt throws derives from util::Error and says what kind of failure
// it is; the command line maps the kind to the exit code in one place (cli/main.cpp), as LevelDB's
// Status says IsCorruption() / IsIOError() / IsInvalidArgument(). A command catches an error
// only where it adds something (a file name the thrower did not know) or recovers.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace ckpt::util {

enum class ErrorKind {
  kInput,     // the input cannot be read or is malformed (a _metadata, an export, a config file)
  kIo,        // the file system refused (open, write, rename, lock)
  kUsage,     // the request is wrong (flags, configuration values, an output over an input)
  kRefused,   // fail closed: the command would not act safely, so it did nothing
  kProblems,  // the command ran and found problems, or a conversion cannot be done without loss
  kInternal,  // not a user's error (task cancellation, a broken invariant)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Exit status of a command that ends with an error of `kind`: 1 for kProblems, 2 for the rest
// (usage error, unreadable input, refusal; the README's table).
inline int exit_code_of(ErrorKind kind) { return kind == ErrorKind::kProblems ? 1 : 2; }

// "input", "io", "usage", "refused", "problems", "internal".
std::string_view kind_name(ErrorKind kind);

}  // namespace ckpt::util
