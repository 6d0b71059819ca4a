#pragma once

// skyctl's subcommands. Each add_* registers one command (and its flags) on
// the CLI11 app; its callback stores skyctl's exit code in `ctx.exit_code`.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "messages/paths.hpp"
#include "skyctl/client.hpp"
#include "skyctl/daemon_control.hpp"
#include "skyctl/output.hpp"
#include "skyctl/terminal.hpp"

namespace sky::cli {

/// Options every command shares, and what they resolve to.
struct cli_context {
  std::string home_override;
  bool no_autostart = false;
  double timeout_seconds = 30;
  /// --timeout was given (commands that wait long use it only then).
  bool timeout_given = false;
  /// How many arguments followed a literal `--` (the command of `launch`
  /// and `exec`).
  size_t args_after_dash_dash = 0;
  /// Where skyctl prints and reads (tests replace it).
  terminal_info term = terminal_info::detect();
  /// Answers to confirmation prompts.
  std::istream* prompt_in = &std::cin;
  int exit_code = exit_ok;

  home_layout home() const { return home_layout::resolve(home_override); }
  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds{
      static_cast<int64_t>(timeout_seconds * 1000)};
  }
  /// For requests that provision or tear down (start, stop, down): 30
  /// minutes unless --timeout says otherwise.
  std::chrono::milliseconds long_timeout() const {
    return timeout_given ? timeout() : std::chrono::minutes{30};
  }
  /// How long a stream may stay silent (skyd sends heartbeats every 5 s):
  /// 16 s, or --timeout when that is longer.
  std::chrono::milliseconds stream_idle_limit() const {
    return std::max<std::chrono::milliseconds>(
      std::chrono::seconds{16},
      timeout_given ? timeout() : std::chrono::milliseconds{0});
  }
  /// Connects to skyd, starting it unless --no-autostart.
  result<client::connection> connect() const {
    return client::connect(home(), !no_autostart);
  }
};

/// `-o text|json` for listings.
struct output_option {
  std::string format = "text";
  void add_to(CLI::App* cmd) {
    cmd->add_option("-o,--output", format, "output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  }
  bool json() const { return format == "json"; }
};

void add_version(CLI::App& app, cli_context& ctx);
void add_ping(CLI::App& app, cli_context& ctx);
void add_status(CLI::App& app, cli_context& ctx);
void add_events(CLI::App& app, cli_context& ctx);
void add_daemon(CLI::App& app, cli_context& ctx);
void add_annotate(CLI::App& app, cli_context& ctx);
void add_launch(CLI::App& app, cli_context& ctx);
void add_exec(CLI::App& app, cli_context& ctx);
void add_stop(CLI::App& app, cli_context& ctx);
void add_start(CLI::App& app, cli_context& ctx);
void add_down(CLI::App& app, cli_context& ctx);
void add_autostop(CLI::App& app, cli_context& ctx);
void add_queue(CLI::App& app, cli_context& ctx);
void add_logs(CLI::App& app, cli_context& ctx);
void add_cancel(CLI::App& app, cli_context& ctx);
/// `jobs launch|queue|cancel|logs`: managed jobs (commands/jobs.cpp).
void add_jobs(CLI::App& app, cli_context& ctx);
/// `serve up|update|status|down|logs`: services (commands/serve.cpp).
void add_serve(CLI::App& app, cli_context& ctx);
/// `show-gpus` and its alias `gpus list`.
void add_show_gpus(CLI::App& app, cli_context& ctx);
/// `check`, `sim preempt|capacity`, `cost-report` (commands/infra.cpp).
void add_check(CLI::App& app, cli_context& ctx);
void add_sim(CLI::App& app, cli_context& ctx);
void add_cost_report(CLI::App& app, cli_context& ctx);

} // namespace sky::cli
