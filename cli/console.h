// The one place that decides how ckpt talks on the terminal: whether notes and warnings are
// printed (-q/--quiet) and whether text is coloured (--color=auto|always|never, NO_COLOR).
// Every command prints its notes, warnings and usage errors through these functions, so the
// two switches are applied once.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace ckpt::cli::console {

enum class ColorMode { kAuto, kAlways, kNever };
enum class Stream { kOut, kErr };
enum class Style { kError, kWarning, kGood, kBad, kAdded, kRemoved, kBold };

// Set once from the command line (conventions.cpp) before any command runs.
void set_quiet(bool quiet);
bool quiet();
void set_color_mode(ColorMode mode);

// Whether text written to `s` is coloured: --color=always, or --color=auto (the default) when
// the stream is a terminal, NO_COLOR is unset or empty and TERM is not "dumb".
bool color(Stream s);

// `text` in the style's ANSI colour when color(s), else `text` unchanged. Never used for --json.
std::string paint(Stream s, Style style, std::string_view text);

// A rendered Table (render.h) with the cells of column `header` painted by `style_of(cell)`
// (nullptr: left plain); the column is found by its header's offset. Unchanged unless color(s).
std::string paint_column(Stream s, const std::string& table, std::string_view header,
                         const std::function<const Style*(std::string_view cell)>& style_of);
// Each line of `text` that starts with "+" painted as added, with "-" as removed.
std::string paint_diff_lines(Stream s, const std::string& text);

// "WHO: note: MESSAGE" / "WHO: warning: MESSAGE" on stderr; nothing with --quiet. `who` is
// "ckpt CMD" (or empty for a bare "note: ...").
void note(std::string_view who, std::string_view message);
void warn(std::string_view who, std::string_view message);
// "WHO: MESSAGE" on stderr, the prefix coloured as an error; printed even with --quiet.
void error(std::string_view who, std::string_view message);

// Non-essential lines on stdout or a FILE (notes in a report): nothing with --quiet.
void info_line(std::FILE* f, std::string_view line);

}  // namespace ckpt::cli::console
