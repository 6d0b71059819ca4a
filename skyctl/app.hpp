#pragma once

// skyctl's whole command line: the global options and every command. main()
// only calls run(); tests call it too, with their own context.

#include <cstddef>

#include <CLI/CLI.hpp>

#include "skyctl/commands/commands.hpp"

namespace sky::cli {

/// Registers the global options and all commands on `app`.
void configure(CLI::App& app, cli_context& ctx);

/// Parses `argv` and runs the command; returns skyctl's exit code.
int run(int argc, const char* const* argv, cli_context& ctx);

/// How many arguments follow the first literal "--" (0 without one). CLI11
/// passes them on as positionals like any other, but `launch -- CMD` must
/// treat them as a command even when one ends in ".yaml".
size_t count_after_dash_dash(int argc, const char* const* argv);

} // namespace sky::cli
