#pragma once

// One authenticated libssh session per host, reused by every channel to
// that host: commands run as exec channels, files move over one SFTP
// subsystem, all serialised by the session's mutex (libssh sessions are not
// thread-safe; separate sessions are). A dropped connection is re-opened on
// next use, with exponential backoff between failed attempts. Host keys are
// checked against skyd's own known_hosts file (host_keys.hpp).
//
// Every call blocks (network I/O): skyd calls providers from worker
// threads, never from actor threads.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "messages/result.hpp"
#include "providers/ssh/host_keys.hpp"
#include "providers/ssh/pool_config.hpp"

struct ssh_session_struct;
struct sftp_session_struct;

namespace sky::providers::ssh {

struct session_settings {
  pool_host host;
  /// skyd's known_hosts ($SKYD_HOME/ssh/known_hosts).
  std::filesystem::path known_hosts;
  host_key_policy policy = host_key_policy::accept_new;
  /// TCP connect, key exchange and each blocking read.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Reconnect attempts after a failure wait this long, doubling up to
  /// backoff_max (calls in between fail at once with the last error).
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{10'000};
};

struct exec_result {
  int exit_status = -1;
  std::string out;
  std::string err;
};

/// Errors of this layer carry errc::transient when the host could not be
/// reached (connection refused, timeout, dropped), errc::auth for a refused
/// key or host key, errc::fatal for the rest.
class host_session {
public:
  explicit host_session(session_settings settings);
  ~host_session();
  host_session(const host_session&) = delete;
  host_session& operator=(const host_session&) = delete;

  const session_settings& settings() const { return settings_; }
  /// "user@ip:port" (or "ip:port"), as messages name the host.
  const std::string& label() const { return label_; }

  /// Runs `command` (a shell command line) with `input` as its stdin.
  /// `idempotent`: a command that failed because a reused connection had
  /// died is sent once more on a new one (never for commands that must
  /// not run twice). `timeout` bounds the whole command.
  result<exec_result> exec(const std::string& command,
                           std::string_view input = {}, bool idempotent = true,
                           std::chrono::milliseconds timeout
                           = std::chrono::seconds(60));

  /// Runs `fn` with the session's SFTP subsystem (opened on first use),
  /// under the session's lock. `fn` returns an error to fail; the session
  /// is dropped when the connection died meanwhile.
  result<void>
  with_sftp(const std::function<result<void>(sftp_session_struct*)>& fn);

  /// The login user's home directory on the host (asked once per
  /// connection).
  result<std::string> remote_home();

  /// Closes the connection; the next call reconnects (tests use it to
  /// prove that processes outlive the session).
  void disconnect();

  /// How long the host has failed to answer (connect refused or timed
  /// out, connection dropped), or nullopt while it answers. Auth and host
  /// key refusals do not count: the host answered.
  std::optional<std::chrono::milliseconds> unreachable_for() const;

private:
  /// Caller holds mu_. Connects when needed (respecting the backoff).
  result<ssh_session_struct*> ensure_connected();
  result<ssh_session_struct*> connect_now();
  /// Caller holds mu_.
  void drop();
  /// Caller holds mu_; `unreachable`: count towards node loss.
  caf::error note_failure(caf::error err, bool unreachable);
  result<exec_result> exec_once(ssh_session_struct* s,
                                const std::string& command,
                                std::string_view input,
                                std::chrono::milliseconds timeout);
  caf::error session_error(ssh_session_struct* s, const std::string& what);

  session_settings settings_;
  std::string label_;
  mutable std::mutex mu_;
  ssh_session_struct* session_ = nullptr;
  sftp_session_struct* sftp_ = nullptr;
  std::string home_;
  uint32_t failures_ = 0;
  std::chrono::steady_clock::time_point retry_at_{};
  caf::error last_error_;
  std::optional<std::chrono::steady_clock::time_point> unreachable_since_;
};

} // namespace sky::providers::ssh
