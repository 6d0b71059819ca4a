#include "providers/ssh/session.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

namespace sky::providers::ssh {

namespace {

using clock = std::chrono::steady_clock;

void init_libssh() {
  static std::once_flag once;
  std::call_once(once, [] { ssh_init(); });
}

} // namespace

host_session::host_session(session_settings settings)
  : settings_(std::move(settings)) {
  init_libssh();
  const auto& h = settings_.host;
  label_ = (h.user.empty() ? "" : h.user + "@") + h.ip + ":"
           + std::to_string(h.port);
}

host_session::~host_session() {
  std::lock_guard guard{mu_};
  drop();
}

void host_session::drop() {
  if (sftp_ != nullptr) {
    sftp_free(sftp_);
    sftp_ = nullptr;
  }
  if (session_ != nullptr) {
    ssh_disconnect(session_);
    ssh_free(session_);
    session_ = nullptr;
  }
  home_.clear();
}

void host_session::disconnect() {
  std::lock_guard guard{mu_};
  drop();
}

std::optional<std::chrono::milliseconds> host_session::unreachable_for() const {
  std::lock_guard guard{mu_};
  if (!unreachable_since_)
    return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    clock::now() - *unreachable_since_);
}

caf::error host_session::note_failure(caf::error err, bool unreachable) {
  ++failures_;
  auto delay = settings_.backoff_initial;
  for (uint32_t i = 1; i < failures_ && delay < settings_.backoff_max; ++i)
    delay *= 2;
  delay = std::min(delay, settings_.backoff_max);
  retry_at_ = clock::now() + delay;
  if (unreachable && !unreachable_since_)
    unreachable_since_ = clock::now();
  last_error_ = err;
  return err;
}

caf::error host_session::session_error(ssh_session s, const std::string& what) {
  // A dead socket is the host going away (transient, counts towards loss);
  // anything else on a live connection is a failure of the request.
  bool dead = s == nullptr || ssh_is_connected(s) == 0;
  std::string detail = s != nullptr ? ssh_get_error(s) : "no session";
  if (dead)
    return make_error(errc::transient,
                      "ssh: lost the connection to " + label_ + " (" + what
                        + "): " + detail,
                      "skyd reconnects on the next request");
  return make_error(errc::fatal,
                    "ssh: " + what + " on " + label_ + " failed: " + detail);
}

result<ssh_session> host_session::connect_now() {
  const auto& h = settings_.host;
  ssh_session s = ssh_new();
  if (s == nullptr)
    return make_error(errc::fatal, "ssh: cannot allocate a libssh session");
  auto fail = [&](caf::error err, bool unreachable) -> result<ssh_session> {
    ssh_disconnect(s);
    ssh_free(s);
    return note_failure(std::move(err), unreachable);
  };
  unsigned int port = h.port;
  long timeout_s = std::max<long>(
    1, static_cast<long>((settings_.connect_timeout.count() + 999) / 1000));
  int no = 0;
  // Commands are a few small packets each way (channel open, exec request,
  // stdin, EOF): with Nagle's algorithm a packet waits for the ACK of the
  // previous one, which the host delays by up to 40 ms. Every exec paid
  // that (about 50 ms on loopback); skyd's exec -> RUNNING target is 100 ms.
  int yes = 1;
  auto known = settings_.known_hosts.string();
  // Only skyd's own known_hosts, and no ~/.ssh/config: what is checked and
  // how the host is reached come from the pool file alone.
  if (ssh_options_set(s, SSH_OPTIONS_HOST, h.ip.c_str()) != SSH_OK
      || ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK
      || ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK
      || ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, known.c_str()) != SSH_OK
      || ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, known.c_str())
           != SSH_OK
      || ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout_s) != SSH_OK
      || ssh_options_set(s, SSH_OPTIONS_NODELAY, &yes) != SSH_OK
      || (!h.user.empty()
          && ssh_options_set(s, SSH_OPTIONS_USER, h.user.c_str()) != SSH_OK))
    return fail(make_error(errc::fatal,
                           "ssh: invalid connection settings for " + label_
                             + ": " + ssh_get_error(s),
                           "check the host's entry in ssh_node_pools.yaml"),
                false);
  if (ssh_connect(s) != SSH_OK)
    return fail(
      make_error(errc::transient,
                 "ssh: cannot connect to " + label_ + ": " + ssh_get_error(s),
                 "check that the host is up and sshd listens on "
                 "port "
                   + std::to_string(h.port)),
      true);
  if (auto ok = verify_host_key(s, label_, h.ip, h.port, settings_.known_hosts,
                                settings_.policy);
      !ok)
    return fail(ok.error(), false);
  int rc = SSH_AUTH_ERROR;
  if (!h.identity_file.empty()) {
    ssh_key key = nullptr;
    // The key's contents never leave this call: messages name the file.
    if (ssh_pki_import_privkey_file(h.identity_file.c_str(), nullptr, nullptr,
                                    nullptr, &key)
        != SSH_OK)
      return fail(make_error(errc::auth,
                             "ssh: cannot read the identity file "
                               + h.identity_file + " for " + label_,
                             "check the path and permissions; keys with a "
                             "passphrase are not supported (use an agent "
                             "and omit identity_file)"),
                  false);
    rc = ssh_userauth_publickey(s, nullptr, key);
    ssh_key_free(key);
  } else {
    rc = ssh_userauth_publickey_auto(s, nullptr, nullptr);
  }
  if (rc != SSH_AUTH_SUCCESS) {
    if (ssh_is_connected(s) == 0)
      return fail(
        make_error(errc::transient, "ssh: " + label_
                                      + " closed the connection during "
                                        "authentication: "
                                      + ssh_get_error(s)),
        true);
    return fail(
      make_error(errc::auth,
                 "ssh: " + label_ + " refused the key "
                   + (h.identity_file.empty()
                        ? std::string{"(ssh agent and default keys)"}
                        : h.identity_file),
                 "add the matching public key to ~/.ssh/authorized_keys of "
                   + (h.user.empty() ? std::string{"the user"} : h.user)
                   + " on the host, or fix identity_file/user in "
                     "ssh_node_pools.yaml"),
      false);
  }
  failures_ = 0;
  unreachable_since_.reset();
  last_error_ = caf::error{};
  return s;
}

result<ssh_session> host_session::ensure_connected() {
  if (session_ != nullptr && ssh_is_connected(session_) != 0)
    return session_;
  if (session_ != nullptr) {
    // Noticed dead between calls: the host went away.
    drop();
    if (!unreachable_since_)
      unreachable_since_ = clock::now();
  }
  if (failures_ > 0 && clock::now() < retry_at_)
    return last_error_;
  auto s = connect_now();
  if (!s)
    return s.error();
  session_ = *s;
  return session_;
}

result<exec_result> host_session::exec_once(ssh_session s,
                                            const std::string& command,
                                            std::string_view input,
                                            std::chrono::milliseconds timeout) {
  ssh_channel ch = ssh_channel_new(s);
  if (ch == nullptr)
    return session_error(s, "opening a channel");
  struct closer {
    ssh_channel ch;
    ~closer() {
      ssh_channel_close(ch);
      ssh_channel_free(ch);
    }
  } guard{ch};
  if (ssh_channel_open_session(ch) != SSH_OK)
    return session_error(s, "opening a channel");
  if (ssh_channel_request_exec(ch, command.c_str()) != SSH_OK)
    return session_error(s, "starting a command");
  size_t sent = 0;
  while (sent < input.size()) {
    auto n = ssh_channel_write(
      ch, input.data() + sent,
      static_cast<uint32_t>(std::min<size_t>(input.size() - sent, 1 << 16)));
    if (n == SSH_ERROR)
      return session_error(s, "sending input");
    sent += static_cast<size_t>(n);
  }
  ssh_channel_send_eof(ch);
  exec_result r;
  auto deadline = clock::now() + timeout;
  char buf[16384];
  // Short reads on stdout, draining stderr in between: a command that
  // writes much to stderr cannot fill the channel window while we wait
  // for stdout.
  while (true) {
    int n = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, 50);
    if (n == SSH_ERROR)
      return session_error(s, "reading a command's output");
    if (n > 0)
      r.out.append(buf, static_cast<size_t>(n));
    int m = 0;
    while ((m = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 1)) > 0)
      r.err.append(buf, static_cast<size_t>(m));
    if (n == 0 && ssh_channel_is_eof(ch) != 0)
      break;
    if (clock::now() >= deadline)
      return make_error(errc::timeout,
                        "ssh: a command on " + label_
                          + " did not finish within "
                          + std::to_string(timeout.count()) + " ms",
                        "the host may be overloaded");
  }
  int m = 0;
  while ((m = ssh_channel_read_timeout(ch, buf, sizeof(buf), 1, 100)) > 0)
    r.err.append(buf, static_cast<size_t>(m));
  r.exit_status = ssh_channel_get_exit_status(ch);
  return r;
}

result<exec_result> host_session::exec(const std::string& command,
                                       std::string_view input, bool idempotent,
                                       std::chrono::milliseconds timeout) {
  std::lock_guard guard{mu_};
  for (int attempt = 0;; ++attempt) {
    bool reused = session_ != nullptr;
    auto s = ensure_connected();
    if (!s)
      return s.error();
    auto r = exec_once(*s, command, input, timeout);
    if (r)
      return r;
    if (ssh_is_connected(*s) != 0)
      return r.error();
    // The connection died under the command.
    drop();
    if (!(idempotent && reused && attempt == 0))
      return note_failure(r.error(), true);
  }
}

result<void>
host_session::with_sftp(const std::function<result<void>(sftp_session)>& fn) {
  std::lock_guard guard{mu_};
  for (int attempt = 0;; ++attempt) {
    bool reused = session_ != nullptr;
    auto s = ensure_connected();
    if (!s)
      return s.error();
    if (sftp_ == nullptr) {
      sftp_ = sftp_new(*s);
      if (sftp_ == nullptr || sftp_init(sftp_) != SSH_OK) {
        auto err = session_error(*s, "starting SFTP");
        if (sftp_ != nullptr) {
          sftp_free(sftp_);
          sftp_ = nullptr;
        }
        if (ssh_is_connected(*s) == 0) {
          drop();
          if (reused && attempt == 0)
            continue;
          return note_failure(err, true);
        }
        return make_error(errc::fatal,
                          "ssh: " + label_
                            + " does not offer SFTP: " + describe(err).message,
                          "enable the sftp subsystem in the host's "
                          "sshd_config");
      }
    }
    auto r = fn(sftp_);
    if (r || ssh_is_connected(*s) != 0)
      return r;
    drop();
    auto err = session_error(nullptr, "SFTP transfer");
    if (!(reused && attempt == 0))
      return note_failure(err, true);
  }
}

result<std::string> host_session::remote_home() {
  {
    std::lock_guard guard{mu_};
    if (!home_.empty() && session_ != nullptr)
      return home_;
  }
  auto r = exec("cd && pwd -P");
  if (!r)
    return r.error();
  auto home = r->out;
  while (!home.empty() && (home.back() == '\n' || home.back() == '\r'))
    home.pop_back();
  if (r->exit_status != 0 || home.empty() || home.front() != '/')
    return make_error(errc::fatal,
                      "ssh: cannot find the home directory of " + label_ + ": "
                        + r->err,
                      "the login user needs a home directory on the host");
  std::lock_guard guard{mu_};
  home_ = home;
  return home;
}

} // namespace sky::providers::ssh
