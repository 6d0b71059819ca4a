#pragma once

// `stop`, `start` and `down` share their shape: clusters by name (or all),
// a confirmation on a terminal, one `clusters_request`, one line per
// cluster from the `outcomes_reply`. Each command's file describes its verb
// with a lifecycle_verb and registers it through add_lifecycle_command.

#include <string>

#include <CLI/CLI.hpp>

#include "skyctl/commands/commands.hpp"

namespace sky::cli {

struct lifecycle_verb {
  /// The command and the protocol verb: "stop", "start", "down".
  std::string name;
  std::string description;
  /// "Stopping" in "Stopping cluster(s) a, b. Proceed?".
  std::string gerund;
  /// "stopped" in "Cluster a stopped.".
  std::string past;
  /// Whether `-a/--all` is offered.
  bool supports_all = true;
};

void add_lifecycle_command(CLI::App& app, cli_context& ctx,
                           lifecycle_verb verb);

} // namespace sky::cli
