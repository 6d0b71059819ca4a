#include "skyd/logging_setup.hpp"

#include <chrono>
#include <vector>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace sky::daemon {

void setup_logging(const std::filesystem::path& log_file,
                   const std::string& level, bool to_stderr) {
  std::vector<spdlog::sink_ptr> sinks;
  std::filesystem::create_directories(log_file.parent_path());
  sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
    log_file.string(), size_t{10} << 20, 3));
  if (to_stderr)
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto logger
    = std::make_shared<spdlog::logger>("skyd", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
  spdlog::flush_every(std::chrono::seconds(1));
}

} // namespace sky::daemon
