#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "messages/errc.hpp"

CAF_ERROR_CODE_ENUM(sky::errc, "sky")

namespace sky {

/// Result of an operation that may fail recoverably. Pure modules use it
/// without an actor system: it only needs libcaf_core's vocabulary types.
template <class T>
using result = caf::expected<T>;

/// The value of `r`, or `fallback` when it holds an error.
template <class T, class U>
T value_or(const result<T>& r, U&& fallback) {
  return r ? *r : T(std::forward<U>(fallback));
}

/// A failure as users see it: what went wrong and what to do about it.
struct error_info {
  errc code = errc::internal;
  std::string message;
  std::string hint;
};

/// Builds a `caf::error` in skyd's category carrying a message and a hint.
caf::error make_error(errc code, std::string message, std::string hint = {});

/// Extracts code, message and hint from an error of any category. Errors from
/// other categories (CAF's own, e.g. a request timeout) are mapped to the
/// closest skyd code and keep their rendering as the message.
error_info describe(const caf::error& err);

/// Converts back: the error `describe` would return `info` for.
caf::error to_error(const error_info& info);

} // namespace sky
