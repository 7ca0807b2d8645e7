// Registration of subcommands. Each cli/cmd_<name>.cpp adds its subcommand to the app and sets
// the callback that runs it; the callback stores its exit code in `exit_code`.
//
// Exit codes, the same for every subcommand: 0 ok, 1 problems found / differences, 2 usage error
// or unreadable input.
#pragma once

#include <string_view>

#include <CLI/CLI.hpp>

namespace ckpt::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;
inline constexpr int kExitUsage = 2;

// Prints the one error line "ckpt COMMAND: MESSAGE" to stderr and returns `code`.
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

}  // namespace ckpt::cli
