#pragma once

// One named spdlog logger per module, all writing to the sinks skyd set up
// (stderr and $SKYD_HOME/logs/skyd.log). Debian's CAF is built with its own
// logging compiled out, so this is skyd's only log.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace sky::actors {

/// The logger for `module`, created on first use with the default logger's
/// sinks and level.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

} // namespace sky::actors
