#include "messages/errc.hpp"

#include <array>
#include <utility>

namespace sky {

namespace {

constexpr std::array<std::pair<errc, std::string_view>, 21> names{{
  {errc::none, "none"},
  {errc::bad_frame, "bad_frame"},
  {errc::unsupported_version, "unsupported_version"},
  {errc::unknown_verb, "unknown_verb"},
  {errc::bad_request, "bad_request"},
  {errc::message_too_large, "message_too_large"},
  {errc::invalid_argument, "invalid_argument"},
  {errc::not_found, "not_found"},
  {errc::already_exists, "already_exists"},
  {errc::conflict, "conflict"},
  {errc::storage_error, "storage_error"},
  {errc::timeout, "timeout"},
  {errc::unavailable, "unavailable"},
  {errc::internal, "internal"},
  {errc::no_capacity, "no_capacity"},
  {errc::quota, "quota"},
  {errc::auth, "auth"},
  {errc::transient, "transient"},
  {errc::fatal, "fatal"},
  {errc::unsupported, "unsupported"},
  {errc::cancelled, "cancelled"},
}};

} // namespace

std::string_view to_string(errc code) noexcept {
  for (const auto& [c, name] : names)
    if (c == code)
      return name;
  return "unknown";
}

std::optional<errc> errc_from_string(std::string_view name) noexcept {
  for (const auto& [c, n] : names)
    if (n == name)
      return c;
  return std::nullopt;
}

} // namespace sky
