#include "actors/core/logging.hpp"

namespace sky::actors {

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  if (auto existing = spdlog::get(module))
    return existing;
  auto base = spdlog::default_logger();
  auto created = std::make_shared<spdlog::logger>(module, base->sinks().begin(),
                                                  base->sinks().end());
  created->set_level(base->level());
  created->flush_on(spdlog::level::warn);
  try {
    spdlog::register_logger(created);
  } catch (const spdlog::spdlog_ex&) {
    // Another thread registered it first.
    return spdlog::get(module);
  }
  return created;
}

} // namespace sky::actors
