#include "skyctl/app.hpp"

#include <string_view>

#include "messages/version.hpp"

namespace sky::cli {

void configure(CLI::App& app, cli_context& ctx) {
  app.require_subcommand(1);
  app.add_option("--home", ctx.home_override,
                 "SKYD_HOME (default: $SKYD_HOME, else ~/.skyd)");
  app.add_flag("--no-autostart", ctx.no_autostart,
               "fail instead of starting skyd when it is not running");
  app
    .add_option_function<double>(
      "--timeout",
      [&ctx](double seconds) {
        ctx.timeout_seconds = seconds;
        ctx.timeout_given = true;
      },
      "seconds to wait for skyd's answer (default 30; 30 min for start, "
      "stop, down and serve up/update/down)")
    ->check(CLI::Range(0.1, 86400.0));
  app.set_version_flag("--version", std::string{"skyctl "} + sky::version);
  app.footer("Exit codes: 0 ok, 1 skyd refused the request (or the job "
             "failed: then the job's exit code), 2 bad usage, 3 skyd "
             "unavailable, 4 timeout, 130 interrupted.");
  add_launch(app, ctx);
  add_exec(app, ctx);
  add_status(app, ctx);
  add_stop(app, ctx);
  add_start(app, ctx);
  add_down(app, ctx);
  add_autostop(app, ctx);
  add_queue(app, ctx);
  add_logs(app, ctx);
  add_cancel(app, ctx);
  add_jobs(app, ctx);
  add_serve(app, ctx);
  add_show_gpus(app, ctx);
  add_check(app, ctx);
  add_sim(app, ctx);
  add_cost_report(app, ctx);
  add_events(app, ctx);
  add_annotate(app, ctx);
  add_daemon(app, ctx);
  add_version(app, ctx);
  add_ping(app, ctx);
}

int run(int argc, const char* const* argv, cli_context& ctx) {
  CLI::App app{"skyctl: run AI workloads on any compute through skyd.",
               "skyctl"};
  configure(app, ctx);
  ctx.args_after_dash_dash = count_after_dash_dash(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }
  return ctx.exit_code;
}

size_t count_after_dash_dash(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view{argv[i]} == "--")
      return static_cast<size_t>(argc - i - 1);
  return 0;
}

} // namespace sky::cli
