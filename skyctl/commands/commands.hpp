#pragma once

// skyctl's subcommands. Each add_* registers one command (and its flags) on
// the CLI11 app; its callback stores skyctl's exit code in `ctx.exit_code`.

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>

#include "messages/paths.hpp"
#include "skyctl/client.hpp"
#include "skyctl/daemon_control.hpp"
#include "skyctl/output.hpp"

namespace sky::cli {

/// Options every command shares, and what they resolve to.
struct cli_context {
  std::string home_override;
  bool no_autostart = false;
  double timeout_seconds = 30;
  int exit_code = exit_ok;

  home_layout home() const { return home_layout::resolve(home_override); }
  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds{
      static_cast<int64_t>(timeout_seconds * 1000)};
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

} // namespace sky::cli
