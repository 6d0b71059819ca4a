#pragma once

#include <filesystem>
#include <string>

namespace sky::daemon {

/// Sets up spdlog: a rotating file at `log_file` (10 MiB x 3) and, when
/// `to_stderr`, the terminal too. Module loggers (actors/core/logging.hpp)
/// share these sinks.
void setup_logging(const std::filesystem::path& log_file,
                   const std::string& level, bool to_stderr);

} // namespace sky::daemon
