#include "providers/ssh/host_keys.hpp"

#include <libssh/libssh.h>

namespace sky::providers::ssh {

namespace {

/// "ssh-ed25519 SHA256:..." of the server's key; empty when unavailable.
std::string server_fingerprint(ssh_session s) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK || key == nullptr)
    return {};
  unsigned char* hash = nullptr;
  size_t len = 0;
  std::string out;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len)
      == 0) {
    char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
    if (text != nullptr) {
      const char* type = ssh_key_type_to_char(ssh_key_type(key));
      out = std::string{type != nullptr ? type : "key"} + " " + text;
      ssh_string_free_char(text);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return out;
}

} // namespace

std::string_view to_string(host_key_policy p) noexcept {
  return p == host_key_policy::strict ? "strict" : "accept-new";
}

result<host_key_policy> parse_host_key_policy(std::string_view text) {
  if (text == "accept-new")
    return host_key_policy::accept_new;
  if (text == "strict")
    return host_key_policy::strict;
  return make_error(errc::invalid_argument,
                    "ssh host key policy '" + std::string{text}
                      + "' is not known",
                    "use accept-new (record new hosts, refuse changed keys) "
                    "or strict (only hosts already in skyd's known_hosts)");
}

std::string known_hosts_name(const std::string& ip, uint16_t port) {
  if (port == 22)
    return ip;
  return "[" + ip + "]:" + std::to_string(port);
}

caf::error changed_key_error(const std::string& host_label,
                             const std::string& host_name,
                             const std::string& fingerprint,
                             const std::filesystem::path& known_hosts) {
  return make_error(
    errc::auth,
    "ssh: HOST KEY CHANGED for " + host_label + ": it now presents "
      + (fingerprint.empty() ? std::string{"an unknown key"} : fingerprint)
      + ", which does not match the key recorded for " + host_name + " in "
      + known_hosts.string()
      + ". Someone may be intercepting the connection; skyd refuses to "
        "use this host",
    "if the host was reinstalled and its new key is expected, remove its "
    "entry: ssh-keygen -R '"
      + host_name + "' -f " + known_hosts.string());
}

result<void> verify_host_key(ssh_session s, const std::string& host_label,
                             const std::string& ip, uint16_t port,
                             const std::filesystem::path& known_hosts,
                             host_key_policy policy) {
  const auto host_name = known_hosts_name(ip, port);
  auto state = ssh_session_is_known_server(s);
  switch (state) {
    case SSH_KNOWN_HOSTS_OK:
      return {};
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      // OTHER: the file holds a key of another type for the host; an
      // attacker would present exactly that, so it is a change too.
      return changed_key_error(host_label, host_name, server_fingerprint(s),
                               known_hosts);
    case SSH_KNOWN_HOSTS_NOT_FOUND:
    case SSH_KNOWN_HOSTS_UNKNOWN:
      break;
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      return make_error(errc::auth,
                        "ssh: cannot check the host key of " + host_label
                          + " against " + known_hosts.string() + ": "
                          + ssh_get_error(s),
                        "check that the file is readable and well formed");
  }
  auto fp = server_fingerprint(s);
  if (policy == host_key_policy::strict)
    return make_error(
      errc::auth,
      "ssh: " + host_label + " presents " + fp + ", which is not in "
        + known_hosts.string() + " (host key policy strict)",
      "after checking the fingerprint, add the host: "
      "ssh-keyscan -p "
        + std::to_string(port) + " " + ip + " >> " + known_hosts.string()
        + ", or use the policy accept-new");
  if (ssh_session_update_known_hosts(s) != SSH_OK)
    return make_error(errc::auth,
                      "ssh: cannot record the host key of " + host_label
                        + " in " + known_hosts.string() + ": "
                        + ssh_get_error(s),
                      "check that the directory exists and is writable");
  return {};
}

} // namespace sky::providers::ssh
