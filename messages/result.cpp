#include "messages/result.hpp"

#include <caf/atom.hpp>
#include <caf/sec.hpp>

namespace sky {

caf::error make_error(errc code, std::string message, std::string hint) {
  return caf::make_error(code, std::move(message), std::move(hint));
}

caf::error to_error(const error_info& info) {
  return make_error(info.code, info.message, info.hint);
}

error_info describe(const caf::error& err) {
  error_info info;
  if (!err) {
    info.code = errc::none;
    return info;
  }
  const auto& ctx = err.context();
  if (err.category() == caf::atom("sky")) {
    info.code = static_cast<errc>(err.code());
    // (message, hint, ...): providers append more context, e.g. a scope.
    if (ctx.size() >= 1 && ctx.match_element<std::string>(0)) {
      info.message = ctx.get_as<std::string>(0);
      if (ctx.size() >= 2 && ctx.match_element<std::string>(1))
        info.hint = ctx.get_as<std::string>(1);
    } else {
      info.message = std::string{to_string(info.code)};
    }
    return info;
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        info.code = errc::timeout;
        break;
      case caf::sec::request_receiver_down:
        info.code = errc::unavailable;
        break;
      default:
        info.code = errc::internal;
    }
  }
  info.message = caf::to_string(err);
  return info;
}

} // namespace sky
