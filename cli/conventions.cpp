#include "conventions.h"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "commands.h"
#include "console.h"

namespace ckpt::cli {
namespace {

std::map<const CLI::App*, std::string>& summaries() {
  static std::map<const CLI::App*, std::string> m;
  return m;
}

std::string summary_of(const CLI::App* sub) {
  auto it = summaries().find(sub);
  if (it != summaries().end()) return it->second;
  std::string d = sub->get_description();
  return d.substr(0, d.find('\n'));
}

// `ckpt --help` lists one line per command, as git does; the paragraphs are in `ckpt CMD --help`.
class OneLineFormatter : public CLI::Formatter {
 public:
  std::string make_subcommand(const CLI::App* sub) const override {
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(true), summary_of(sub), get_column_width());
    return out.str();
  }
};

// A usage error found before CLI11 parses (unknown command or option): exit 2.
class UsageError : public CLI::ParseError {
 public:
  explicit UsageError(std::string msg) : CLI::ParseError("CkptUsage", std::move(msg), kExitUsage) {}
};

// The command the arguments name ("" before one is found): the prefix of every usage error.
std::string g_command;

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// " (did you mean X?)", " (did you mean X or Y?)" or "": names `word` starts, else the nearest
// within a third of the word's length (at least 2 edits).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& names) {
  std::vector<std::string> hits;
  std::size_t dashes = word.find_first_not_of('-');
  if (dashes != std::string::npos && word.size() - dashes >= 2)
    for (const auto& n : names)
      if (n.size() > word.size() && n.compare(0, word.size(), word) == 0) hits.push_back(n);
  if (hits.empty()) {
    auto bare_of = [](const std::string& n) { return n.substr(n.find_first_not_of('-')); };
    std::size_t best = std::max<std::size_t>(1, bare_of(word).size() / 3) + 1;
    for (const auto& n : names) {
      if ((word[0] == '-') != (n[0] == '-')) continue;
      std::size_t d = edit_distance(bare_of(word), bare_of(n));
      if (d < best) {
        best = d;
        hits.clear();
      }
      if (d == best) hits.push_back(n);
    }
  }
  if (hits.empty() || hits.size() > 3) return "";
  std::string s = " (did you mean ";
  for (std::size_t i = 0; i < hits.size(); ++i) s += (i ? " or " : "") + hits[i];
  return s + "?)";
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app->get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (const CLI::Option* o : app->get_options()) {
    if (!o->nonpositional()) continue;
    for (const auto& l : o->get_lnames())
      if ("--" + l == name) return o;
    for (const auto& s : o->get_snames())
      if ("-" + s == name) return o;
  }
  return nullptr;
}

bool takes_value(const CLI::Option* o) { return o->get_expected_max() > 0; }

bool looks_numeric(const std::string& t) {
  return t.size() > 1 && t[0] == '-' && (std::isdigit(static_cast<unsigned char>(t[1])) || t[1] == '.');
}

void set_color(const std::string& v) {
  if (v == "always") console::set_color_mode(console::ColorMode::kAlways);
  if (v == "never") console::set_color_mode(console::ColorMode::kNever);
  if (v == "auto") console::set_color_mode(console::ColorMode::kAuto);
}

// Walks the arguments as CLI11 will, to name the command, apply -q and --color before anything
// is printed, and turn an unknown command or option into one line with a suggestion. Left to
// CLI11 otherwise (and entirely when -h/--help is given).
void prescan(const CLI::App& app, const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "-q" || a == "--quiet") console::set_quiet(true);
    if (a.rfind("--color=", 0) == 0) set_color(a.substr(8));
  }
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--color") set_color(args[i + 1]);
  if (std::find_if(args.begin(), args.end(), [](const std::string& a) { return a == "-h" || a == "--help"; }) !=
      args.end())
    return;

  const CLI::App* cmd = nullptr;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& t = args[i];
    if (t == "--") return;
    bool is_option = t.size() > 1 && t[0] == '-' && !looks_numeric(t);
    if (!is_option) {
      if (cmd != nullptr) continue;  // a positional argument
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->check_name(t)) cmd = sub;
      if (cmd == nullptr) {
        std::vector<std::string> names;
        for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
          names.push_back(sub->get_name());
        throw UsageError("'" + t + "' is not a ckpt command" + did_you_mean(t, names));
      }
      g_command = cmd->get_name();
      continue;
    }
    const CLI::App* scope = cmd != nullptr ? cmd : &app;
    auto lookup = [&](const std::string& name) {
      const CLI::Option* o = find_option(scope, name);
      return o != nullptr ? o : find_option(&app, name);  // -q, --color: global
    };
    if (t.rfind("--", 0) == 0) {
      std::string name = t.substr(0, t.find('='));
      const CLI::Option* o = lookup(name);
      if (o == nullptr) {
        std::vector<std::string> names = option_names(scope);
        if (scope != &app)
          for (auto& n : option_names(&app)) names.push_back(n);
        throw UsageError("unknown option " + name + did_you_mean(name, names));
      }
      if (takes_value(o) && name.size() == t.size()) ++i;
      continue;
    }
    for (std::size_t k = 1; k < t.size(); ++k) {  // -abc: flags, or -oVALUE
      const CLI::Option* o = lookup(std::string("-") + t[k]);
      if (o == nullptr) {
        std::string name = std::string("-") + t[k];
        throw UsageError("unknown option " + name + (t.size() == 2 ? "" : " in " + t));
      }
      if (takes_value(o)) {
        if (k + 1 == t.size()) ++i;
        break;
      }
    }
  }
}

// CLI11's messages, one line: "ckpt CMD: MESSAGE; see 'ckpt CMD --help'".
std::string one_line(const CLI::App* app, const CLI::Error& e) {
  std::string cmd = g_command;
  if (cmd.empty())
    for (const CLI::App* sub : app->get_subcommands()) cmd = sub->get_name();
  std::string msg = e.what();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::replace(msg.begin(), msg.end(), '\n', ';');
  if (msg.size() > 1 && std::isupper(static_cast<unsigned char>(msg[0])) &&
      (std::islower(static_cast<unsigned char>(msg[1])) || msg[1] == ' '))
    msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
  std::string who = cmd.empty() ? "ckpt" : "ckpt " + cmd;
  return console::paint(console::Stream::kErr, console::Style::kError, who + ":") + " " + msg + "; see '" + who +
         " --help'\n";
}

void register_help(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("help", "Show the help of ckpt or of one command");
  long_description(cmd, "Print 'ckpt COMMAND --help' (or, without COMMAND, 'ckpt --help').");
  cmd->add_option("command", *name, "The command whose help to print");
  CLI::App* top = &app;
  cmd->callback([top, name] {
    if (name->empty()) {
      // Not top->help(): that follows the selected subcommand, `help` itself.
      std::fputs(top->get_formatter()->make_help(top, "ckpt", CLI::AppFormatMode::Normal).c_str(), stdout);
      return;
    }
    std::vector<std::string> names;
    for (const CLI::App* sub : top->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->check_name(*name)) {
        std::fputs(sub->help("ckpt").c_str(), stdout);
        return;
      }
      names.push_back(sub->get_name());
    }
    throw UsageError("'" + *name + "' is not a ckpt command" + did_you_mean(*name, names));
  });
}

}  // namespace

void long_description(CLI::App* cmd, std::string long_text) {
  summaries()[cmd] = cmd->get_description();
  cmd->description(std::move(long_text));
}

void install_conventions(CLI::App& app, int argc, char** argv) {
  register_help(app);
  register_completion(app);
  static bool quiet = false;  // applied by prescan(), before anything is printed
  static std::string color = "auto";
  app.add_flag("-q,--quiet", quiet, "Print no notes, warnings or progress; errors and requested output still go out");
  app.add_option("--color", color, "Colour errors, warnings, verdicts and diffs: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  // Accepted after the command name too: a command's unknown options fall through to ckpt's.
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) sub->fallthrough();
  app.formatter(std::make_shared<OneLineFormatter>());
  app.failure_message(one_line);
  std::vector<std::string> args(argv + 1, argv + argc);
  app.preparse_callback([&app, args](std::size_t) { prescan(app, args); });
}

}  // namespace ckpt::cli
