#include "console.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace ckpt::cli::console {
namespace {

bool g_quiet = false;
ColorMode g_color = ColorMode::kAuto;

const char* ansi(Style s) {
  switch (s) {
    case Style::kError:
      return "\033[1;31m";
    case Style::kWarning:
      return "\033[33m";
    case Style::kGood:
    case Style::kAdded:
      return "\033[32m";
    case Style::kBad:
    case Style::kRemoved:
      return "\033[31m";
    case Style::kBold:
      return "\033[1m";
  }
  return "";
}

void line(std::string_view who, std::string_view tag, Style style, std::string_view message) {
  std::string s;
  if (!who.empty()) s += std::string(who) + ": ";
  if (!tag.empty()) s += paint(Stream::kErr, style, tag) + " ";
  s += message;
  s += '\n';
  std::fputs(s.c_str(), stderr);
}

}  // namespace

void set_quiet(bool quiet) { g_quiet = quiet; }
bool quiet() { return g_quiet; }
void set_color_mode(ColorMode mode) { g_color = mode; }

bool color(Stream s) {
  if (g_color == ColorMode::kAlways) return true;
  if (g_color == ColorMode::kNever) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return isatty(s == Stream::kOut ? STDOUT_FILENO : STDERR_FILENO) == 1;
}

std::string paint(Stream s, Style style, std::string_view text) {
  if (text.empty() || !color(s)) return std::string(text);
  return ansi(style) + std::string(text) + "\033[0m";
}

std::string paint_column(Stream s, const std::string& table, std::string_view header,
                         const std::function<const Style*(std::string_view cell)>& style_of) {
  if (!color(s)) return table;
  std::size_t eol = table.find('\n');
  std::size_t col = table.substr(0, eol).find(header);
  if (eol == std::string::npos || col == std::string::npos) return table;
  std::string out = table.substr(0, eol + 1);
  for (std::size_t at = eol + 1; at < table.size();) {
    std::size_t end = table.find('\n', at);
    if (end == std::string::npos) end = table.size();
    std::string line = table.substr(at, end - at);
    if (col < line.size()) {
      std::size_t stop = line.find(' ', col);
      if (stop == std::string::npos) stop = line.size();
      if (const Style* st = style_of(std::string_view(line).substr(col, stop - col)))
        line = line.substr(0, col) + paint(s, *st, line.substr(col, stop - col)) + line.substr(stop);
    }
    out += line;
    if (end < table.size()) out += '\n';
    at = end + 1;
  }
  return out;
}

std::string paint_diff_lines(Stream s, const std::string& text) {
  if (!color(s)) return text;
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    if (!line.empty() && line[0] == '+') line = paint(s, Style::kAdded, line);
    else if (!line.empty() && line[0] == '-') line = paint(s, Style::kRemoved, line);
    out += line;
    if (end < text.size()) out += '\n';
    at = end + 1;
  }
  return out;
}

void note(std::string_view who, std::string_view message) {
  if (!g_quiet) line(who, "note:", Style::kBold, message);
}

void warn(std::string_view who, std::string_view message) {
  if (!g_quiet) line(who, "warning:", Style::kWarning, message);
}

void error(std::string_view who, std::string_view message) {
  std::string s = who.empty() ? std::string() : paint(Stream::kErr, Style::kError, std::string(who) + ":") + " ";
  s += message;
  s += '\n';
  std::fputs(s.c_str(), stderr);
}

void info_line(std::FILE* f, std::string_view text) {
  if (g_quiet) return;
  std::fwrite(text.data(), 1, text.size(), f);
  std::fputc('\n', f);
}

}  // namespace ckpt::cli::console
