// Registration of subcommands. Each cli/cmd_<name>.cpp adds its subcommand to the app and sets
// the callback that runs it; the callback stores its exit code in `exit_code`.
//
// Exit codes, the same for every subcommand: 0 ok, 1 problems found / differences, 2 usage error
// or unreadable input.
#pragma once

#include <string_view>

#include <CLI/CLI.hpp>

#include "util/error.h"

namespace ckpt::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;
inline constexpr int kExitUsage = 2;

// Under --json (set_json_errors, from main), an error is one JSON object on stderr, an
// ErrorReport of formats/error.proto; otherwise the one line "COMMAND: MESSAGE".
void set_json_errors(bool on);
bool json_errors();

// Prints the error (`command` in full: "ckpt inspect") and returns `code`.
int report_error(std::string_view command, util::ErrorKind kind, std::string_view message, int code);

// report_error("ckpt COMMAND", ...): a usage error, or for kExitProblems a problem.
int fail(std::string_view command, std::string_view message, int code = kExitUsage);

void register_inspect(CLI::App& app, int& exit_code);
void register_diff(CLI::App& app, int& exit_code);
void register_convert(CLI::App& app, int& exit_code);
void register_pack(CLI::App& app, int& exit_code);  // pack and unpack
void register_prune(CLI::App& app, int& exit_code);
void register_gc(CLI::App& app, int& exit_code);
void register_validate(CLI::App& app, int& exit_code);
void register_run(CLI::App& app, int& exit_code);
void register_restore(CLI::App& app, int& exit_code);
void register_savepoint(CLI::App& app, int& exit_code);
void register_materialize(CLI::App& app, int& exit_code);
void register_compact(CLI::App& app, int& exit_code);
void register_state(CLI::App& app, int& exit_code);

}  // namespace ckpt::cli
