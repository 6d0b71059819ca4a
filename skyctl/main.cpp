// skyctl: the command line of skyd. See README.md and docs/CLI.md.

#include <CLI/CLI.hpp>

#include "messages/version.hpp"
#include "skyctl/commands/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"skyctl: run AI workloads on any compute through skyd.",
               "skyctl"};
  app.require_subcommand(1);
  sky::cli::cli_context ctx;
  app.add_option("--home", ctx.home_override,
                 "SKYD_HOME (default: $SKYD_HOME, else ~/.skyd)");
  app.add_flag("--no-autostart", ctx.no_autostart,
               "fail instead of starting skyd when it is not running");
  app
    .add_option("--timeout", ctx.timeout_seconds,
                "seconds to wait for skyd's answer (default 30)")
    ->check(CLI::Range(0.1, 86400.0));
  app.set_version_flag("--version", std::string{"skyctl "} + sky::version);
  app.footer("Exit codes: 0 ok, 1 skyd refused the request, 2 bad usage, "
             "3 skyd unavailable, 4 timeout, 130 interrupted.");
  sky::cli::add_version(app, ctx);
  sky::cli::add_ping(app, ctx);
  sky::cli::add_status(app, ctx);
  sky::cli::add_events(app, ctx);
  sky::cli::add_annotate(app, ctx);
  sky::cli::add_daemon(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : sky::cli::exit_usage;
  }
  return ctx.exit_code;
}
