#pragma once

// Finding, starting and stopping the local skyd for a SKYD_HOME.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>

#include "messages/paths.hpp"
#include "skyctl/client.hpp"

namespace sky::client {

/// The pid of the skyd serving `home`, or nullopt when none runs. Reads the
/// instance lock, so it never waits on a socket.
std::optional<pid_t> running_daemon(const home_layout& home);

/// The skyd binary: $SKYD_BIN, else `skyd` beside this executable, else PATH.
std::filesystem::path skyd_binary();

/// Starts skyd in the background for `home` and waits until it serves
/// requests. A second skyd racing for the same home is not an error: the
/// one that won serves. Errors carry skyd's own message and the log path.
result<void> start_daemon(const home_layout& home);

/// Connects to the skyd of `home`, starting one first when none runs and
/// `autostart` is set.
result<connection> connect(const home_layout& home, bool autostart);

/// Asks skyd to stop and waits up to `timeout` for it to exit (then
/// SIGTERM). Returns false when it was not running.
result<bool> stop_daemon(const home_layout& home,
                         std::chrono::milliseconds timeout);

} // namespace sky::client
