// ckpt: inspect, validate, diff, prune, convert and compact Apache Flink checkpoints and
// savepoints without a JVM.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "commands.h"
#include "conventions.h"
#include "util/error.h"

namespace {

// A repeatable option (--map, -D, --protect, ...) takes one value per occurrence. CLI11's vector
// options are greedy by default, so `validate --map s3://b=/m SNAPSHOT` would swallow SNAPSHOT
// as a second mapping and then complain that no path was given.
void one_value_per_flag(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o->nonpositional() && o->get_expected_max() > 1) o->allow_extra_args(false);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) one_value_per_flag(*sub);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ckpt: a toolkit for Apache Flink checkpoints and savepoints", "ckpt"};
  app.set_version_flag("--version", CKPT_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 problems found or differences, 2 usage error or unreadable input.\n"
      "Run 'ckpt <command> --help' for a command's options; 'man ckpt' for the manual.");
  int exit_code = ckpt::cli::kExitOk;
  ckpt::cli::register_inspect(app, exit_code);
  ckpt::cli::register_diff(app, exit_code);
  ckpt::cli::register_convert(app, exit_code);
  ckpt::cli::register_pack(app, exit_code);
  ckpt::cli::register_prune(app, exit_code);
  ckpt::cli::register_gc(app, exit_code);
  ckpt::cli::register_validate(app, exit_code);
  ckpt::cli::register_run(app, exit_code);
  ckpt::cli::register_restore(app, exit_code);
  ckpt::cli::register_savepoint(app, exit_code);
  ckpt::cli::register_materialize(app, exit_code);
  ckpt::cli::register_compact(app, exit_code);
  ckpt::cli::register_state(app, exit_code);
  ckpt::cli::install_conventions(app, argc, argv);  // help, completion, -q, --color, usage errors
  one_value_per_flag(app);
  auto command = [&app] {
    std::string name = "ckpt";
    for (const CLI::App* sub : app.get_subcommands()) name += " " + sub->get_name();
    return name;
  };
  // --json anywhere among the arguments (before a "--") makes errors JSON too, including the ones
  // of parsing the arguments themselves.
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) {
    if (std::string_view(argv[i]) == "--json") ckpt::cli::set_json_errors(true);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0 || !ckpt::cli::json_errors()) {
      int rc = app.exit(e);
      return rc == 0 ? 0 : ckpt::cli::kExitUsage;
    }
    // Parsing stopped before the subcommand was recorded: name it from the arguments.
    std::string who = "ckpt";
    for (int i = 1; i < argc && who == "ckpt"; ++i) {
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_name() == argv[i]) who += " " + sub->get_name();
      }
    }
    return ckpt::cli::report_error(who, ckpt::util::ErrorKind::kUsage, e.what(), ckpt::cli::kExitUsage);
  } catch (const ckpt::util::Error& e) {
    // The one place an error's kind becomes an exit status (util/error.h); a command catches only
    // where it adds to the message or recovers.
    return ckpt::cli::report_error(command(), e.kind(), e.what(), ckpt::util::exit_code_of(e.kind()));
  } catch (const std::exception& e) {
    // Not a util::Error (std::filesystem, std::bad_alloc, a library's own): the same line, exit 2.
    return ckpt::cli::report_error(command(), ckpt::util::ErrorKind::kInternal, e.what(), ckpt::cli::kExitUsage);
  }
  return exit_code;
}
