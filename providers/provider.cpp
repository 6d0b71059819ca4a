#include "providers/provider.hpp"

namespace sky::providers {

std::string_view to_string(instance_state s) noexcept {
  switch (s) {
    case instance_state::pending:
      return "pending";
    case instance_state::running:
      return "running";
    case instance_state::stopping:
      return "stopping";
    case instance_state::stopped:
      return "stopped";
    case instance_state::terminated:
      return "terminated";
  }
  return "pending";
}

caf::error provider_error(errc code, failure_scope scope, std::string message,
                          std::string hint) {
  // The scope rides along as a third context element; describe() still
  // sees (message, hint) first.
  return caf::make_error(code, std::move(message), std::move(hint),
                         std::string{to_string(scope)});
}

failure_scope scope_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.match_elements<std::string, std::string, std::string>()) {
    const auto& s = ctx.get_as<std::string>(2);
    if (s == "region")
      return failure_scope::region;
    if (s == "cloud")
      return failure_scope::cloud;
  }
  return failure_scope::zone;
}

} // namespace sky::providers
