#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sky {

/// Every recoverable failure in skyd is one of these codes. The wire carries
/// the code's name (see `to_string`), so names are part of the protocol: add
/// new codes at the end and never rename one.
enum class errc : uint8_t {
  none = 0,
  // Request-level problems: the caller can fix them.
  bad_frame,           // undecodable or truncated wire frame
  unsupported_version, // envelope protocol version we do not speak
  unknown_verb,        // verb not known to this daemon
  bad_request,         // body does not match what the verb expects
  message_too_large,   // frame exceeds wire.max_message_bytes
  invalid_argument,    // a value is out of range or malformed
  not_found,           // named entity does not exist
  already_exists,      // named entity exists and cannot be reused as asked
  conflict,            // state does not allow the operation right now
  // Daemon-side problems.
  storage_error, // the event log could not read or write
  timeout,       // a deadline passed before an answer
  unavailable,   // skyd (or a part of it) is not running or is shutting down
  internal,      // a bug: an invariant did not hold
  // Provider outcomes that failover understands.
  no_capacity,
  quota,
  auth,
  transient,
  fatal,
  unsupported,
  cancelled,
};

/// Stable name of a code, as sent on the wire ("unknown_verb").
std::string_view to_string(errc code) noexcept;

/// Inverse of `to_string`; nullopt for names this build does not know.
std::optional<errc> errc_from_string(std::string_view name) noexcept;

} // namespace sky
