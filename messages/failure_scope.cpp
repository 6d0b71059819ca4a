#include "messages/failure_scope.hpp"

namespace sky {

std::string_view to_string(failure_scope s) noexcept {
  switch (s) {
    case failure_scope::zone:
      return "zone";
    case failure_scope::region:
      return "region";
    case failure_scope::cloud:
      return "cloud";
  }
  return "zone";
}

} // namespace sky
