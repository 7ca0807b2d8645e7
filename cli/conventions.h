// Git-style conventions around the subcommands: one-line usage errors with "did you mean",
// `ckpt help [CMD]`, `ckpt completion SHELL`, a one-line-per-command top-level --help, and the
// global -q/--quiet and --color options (accepted before or after the command name).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace ckpt::cli {

// Sets `cmd`'s description (the paragraph of `ckpt CMD --help`) to `long_text`, keeping the
// description it was added with as its one-line summary in `ckpt --help`.
void long_description(CLI::App* cmd, std::string long_text);

// Call once, after every command is registered and before app.parse(argc, argv).
void install_conventions(CLI::App& app, int argc, char** argv);

// `ckpt completion bash|zsh|fish` (completion.cpp): scripts generated from the App tree.
void register_completion(CLI::App& app);
std::string completion_script(const CLI::App& app, const std::string& shell);

}  // namespace ckpt::cli
