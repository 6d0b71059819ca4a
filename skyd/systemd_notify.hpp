#pragma once

// systemd integration (Type=notify): READY, STOPPING, STATUS and WATCHDOG
// through libsystemd's sd_notify. Outside systemd (no NOTIFY_SOCKET) every
// call is a cheap no-op.

#include <chrono>
#include <optional>
#include <string>

namespace sky::daemon {

void notify_ready(const std::string& status);
void notify_stopping();
void notify_watchdog();

/// Interval at which to ping the watchdog (half of WatchdogSec), or nullopt
/// when systemd does not watch this process.
std::optional<std::chrono::microseconds> watchdog_interval();

} // namespace sky::daemon
