#pragma once

// Host key checking against skyd's own known_hosts file (never the user's
// ~/.ssh/known_hosts, which skyd must not edit). Policy accept-new (the
// default) records a host's key the first time it is seen and refuses any
// other key later; strict refuses hosts that are not in the file. A changed
// key is always refused, with the host, the fingerprint and the file to
// edit in the message.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "messages/result.hpp"

struct ssh_session_struct;

namespace sky::providers::ssh {

enum class host_key_policy : uint8_t { accept_new, strict };

/// "accept-new" / "strict".
std::string_view to_string(host_key_policy p) noexcept;
result<host_key_policy> parse_host_key_policy(std::string_view text);

/// How known_hosts names a host: "ip", or "[ip]:port" off port 22.
std::string known_hosts_name(const std::string& ip, uint16_t port);

/// The refusal of a changed key (pure: tested on its own).
caf::error changed_key_error(const std::string& host_label,
                             const std::string& host_name,
                             const std::string& fingerprint,
                             const std::filesystem::path& known_hosts);

/// Checks the server key of a connected session (known_hosts already set
/// on it); records it under accept-new. Errors are errc::auth.
result<void> verify_host_key(ssh_session_struct* session,
                             const std::string& host_label,
                             const std::string& ip, uint16_t port,
                             const std::filesystem::path& known_hosts,
                             host_key_policy policy);

} // namespace sky::providers::ssh
