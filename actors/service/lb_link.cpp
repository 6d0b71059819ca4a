#include "actors/service/lb_link.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <variant>
#include <vector>

#include <zmq.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/core/logging.hpp"

extern char** environ;

namespace sky::actors {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Starts of skyd-lb are at least this far apart, and a start that failed
/// doubles the wait up to max_start_gap: a binary that dies at once costs
/// one fork a half-minute, not a fork loop.
constexpr auto min_start_gap = 1s;
constexpr auto max_start_gap = 30s;
/// A skyd-lb told to stop (SIGTERM) drains for up to its --drain-ms (5 s by
/// default); past this it is killed.
constexpr auto drain_limit = 10s;
/// Before another skyd-lb binds the control socket, a draining one gets
/// this long to exit on its own, then it is killed: at its exit it removes
/// the socket file, which would then be the new process's.
constexpr auto settle_limit = 1s;
/// One hello while a new skyd-lb comes up; between two, whether it died.
constexpr auto hello_poll = 250ms;
/// How long a SIGKILLed process may take to be gone.
constexpr auto kill_wait = 2s;

std::string ipc_path(const std::string& endpoint) {
  constexpr std::string_view scheme = "ipc://";
  if (endpoint.rfind(scheme, 0) == 0)
    return endpoint.substr(scheme.size());
  return {};
}

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

/// A zombie still answers kill(pid, 0); /proc tells it apart.
bool zombie(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(in, line))
    return true; // gone between the two looks
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size()
         || line[close + 2] == 'Z' || line[close + 2] == 'X';
}

/// Whether `pid` still runs. A child of this process is reaped here (and
/// `why` says how it ended); an adopted process is asked with kill(pid, 0).
bool alive(pid_t pid, std::string& why) {
  int status = 0;
  const pid_t rc = ::waitpid(pid, &status, WNOHANG);
  if (rc == pid) {
    why = describe_status(status);
    return false;
  }
  if (rc == 0)
    return true;
  // ECHILD: not our child (adopted from an earlier skyd), or reaped.
  if ((::kill(pid, 0) == 0 || errno == EPERM) && !zombie(pid))
    return true;
  why = "is gone";
  return false;
}

bool alive(pid_t pid) {
  std::string ignored;
  return alive(pid, ignored);
}

/// Waits up to `limit` for `pid` to be gone (reaping it when it is a
/// child); true when it is.
bool wait_gone(pid_t pid, clock::duration limit) {
  const auto deadline = clock::now() + limit;
  while (alive(pid)) {
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  wait_gone(pid, kill_wait);
}

std::string ms_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

/// The result of one request on the control socket.
struct outcome {
  std::optional<lb::reply> reply;
  /// Set when there was no (usable) reply.
  std::string error;
  /// No answer in time: skyd-lb is wedged or gone.
  bool timed_out = false;
};

} // namespace

struct lb_link_impl {
  enum class running { already, started, failed };

  explicit lb_link_impl(lb_link_config c) : cfg(std::move(c)) {}

  ~lb_link_impl() {
    close_socket();
    // skyd-lb itself keeps serving: the next skyd adopts it. Processes
    // told to stop are reaped if they are done; the others go to init when
    // skyd exits.
    for (const auto& d : draining)
      alive(d.pid);
  }

  lb_link_config cfg;
  std::shared_ptr<spdlog::logger> log = logger("lb_link");
  zmq::context_t ctx{1};
  std::optional<zmq::socket_t> sock;

  /// Every service's last routes (a port of 0 replaced by the chosen one).
  std::map<std::string, lb::routes_request> routes;
  /// The last ack of each service's routes.
  std::map<std::string, lb::routes_ack> acks;

  /// The current skyd-lb; 0 when none.
  pid_t pid = 0;
  bool adopted = false;

  struct stopping {
    pid_t pid = 0;
    clock::time_point kill_at;
  };
  /// Processes sent SIGTERM that have not been reaped yet.
  std::vector<stopping> draining;

  clock::time_point next_start{};
  unsigned failed_starts = 0;
  uint64_t restarts = 0;
  bool tick_pending = false;

  // ---- the control socket (lazy pirate: a socket that timed out is
  // closed and a fresh one opened for the next request) ----

  void close_socket() {
    if (sock) {
      sock->close();
      sock.reset();
    }
  }

  /// One frame within the socket's receive timeout; false when none came.
  /// A signal that interrupts the wait is no reason to give up.
  bool receive(zmq::message_t& msg) {
    for (;;) {
      try {
        return sock->recv(msg, zmq::recv_flags::none).has_value();
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR)
          throw;
      }
    }
  }

  outcome call(const lb::request& r, std::chrono::milliseconds timeout) {
    outcome out;
    try {
      if (!sock) {
        sock.emplace(ctx, zmq::socket_type::req);
        sock->set(zmq::sockopt::linger, 0);
        sock->connect(cfg.control_endpoint);
      }
      const int ms = static_cast<int>(timeout.count());
      sock->set(zmq::sockopt::rcvtimeo, ms);
      sock->set(zmq::sockopt::sndtimeo, ms);
      const auto bytes = lb::encode(r);
      zmq::message_t answer;
      if (!sock->send(zmq::buffer(bytes), zmq::send_flags::none)
          || !receive(answer)) {
        close_socket();
        out.timed_out = true;
        out.error = "no answer within " + ms_text(timeout);
        return out;
      }
      while (answer.more()) { // skyd-lb sends one frame; drop any other
        zmq::message_t part;
        if (!receive(part))
          break;
        if (!part.more())
          break;
      }
      auto decoded = lb::decode_reply(answer.to_string_view());
      if (!decoded) {
        out.error = "undecodable reply: " + decoded.error;
        return out;
      }
      out.reply = std::move(*decoded.value);
    } catch (const zmq::error_t& e) {
      close_socket();
      out.timed_out = true;
      out.error = std::string{"control socket: "} + e.what();
    }
    return out;
  }

  // ---- the process ----

  /// A running skyd-lb: the current one, an adopted one or a new one.
  running ensure_running(std::string& error) {
    if (pid != 0) {
      std::string why;
      if (alive(pid, why))
        return running::already;
      log->warn("skyd-lb {} {}; starting another (restart {})", pid, why,
                restarts + 1);
      pid = 0;
      ++restarts;
      close_socket();
    }
    return start(error);
  }

  running start(std::string& error) {
    const auto now = clock::now();
    if (now < next_start) {
      error = "skyd-lb is restarting (next attempt in "
              + ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(
                next_start - now))
              + ")";
      return running::failed;
    }
    settle_draining();
    if (adopt()) {
      next_start = clock::now() + min_start_gap;
      failed_starts = 0;
    } else if (!spawn(error)) {
      close_socket();
      back_off("cannot start skyd-lb: " + error);
      return running::failed;
    }
    if (!push_all(error)) {
      error = "skyd-lb " + std::to_string(pid) + " took no routes: " + error;
      kill_current();
      back_off(error);
      return running::failed;
    }
    return running::started;
  }

  /// After a start that failed: 2 s, 4 s, ... up to max_start_gap.
  void back_off(const std::string& why) {
    ++failed_starts;
    const auto gap = std::min<clock::duration>(
      min_start_gap * (1u << std::min(failed_starts, 5u)), max_start_gap);
    next_start = clock::now() + gap;
    log->error(
      "{}; next attempt in {} ms", why,
      std::chrono::duration_cast<std::chrono::milliseconds>(gap).count());
  }

  /// A skyd-lb that answers on the control socket already (skyd was
  /// restarted while it kept serving) becomes the current one, untouched.
  bool adopt() {
    const auto path = ipc_path(cfg.control_endpoint);
    if (!path.empty() && !std::filesystem::exists(path))
      return false;
    auto out = call(lb::hello_request{}, cfg.adopt_timeout);
    if (!out.reply || !std::holds_alternative<lb::hello_reply>(*out.reply))
      return false;
    const auto& hello = std::get<lb::hello_reply>(*out.reply);
    if (hello.pid <= 0)
      return false;
    pid = static_cast<pid_t>(hello.pid);
    adopted = true;
    log->info("adopted skyd-lb {} on {} (serving {} service(s))", pid,
              cfg.control_endpoint, hello.services.size());
    return true;
  }

  bool spawn(std::string& error) {
    std::error_code ec;
    if (const auto path = ipc_path(cfg.control_endpoint); !path.empty()) {
      std::filesystem::create_directories(
        std::filesystem::path{path}.parent_path(), ec);
      // Nothing answered on it: the file is a dead process's.
      std::filesystem::remove(path, ec);
    }
    if (cfg.log_file.has_parent_path())
      std::filesystem::create_directories(cfg.log_file.parent_path(), ec);

    const std::string binary = cfg.binary.string();
    const std::string log_path = cfg.log_file.string();
    std::vector<std::string> args{binary, "--control", cfg.control_endpoint};
    if (!log_path.empty()) {
      args.push_back("--log");
      args.push_back(log_path);
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null",
                                     O_WRONLY, 0);
    // What it says before its log is open (a bad flag) lands in the log.
    posix_spawn_file_actions_addopen(
      &files, STDERR_FILENO, log_path.empty() ? "/dev/null" : log_path.c_str(),
      O_WRONLY | O_CREAT | O_APPEND, 0600);
    // skyd's own descriptors (its lock, its sockets) stay with skyd.
    posix_spawn_file_actions_addclosefrom_np(&files, STDERR_FILENO + 1);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own session: a kill of skyd's process group leaves it serving.
    // No signal blocked or ignored because skyd's thread had it so: SIGTERM
    // must reach its drain.
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig = 1; sig < 32; ++sig)
      if (sig != SIGKILL && sig != SIGSTOP)
        sigaddset(&defaults, sig);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                      | POSIX_SPAWN_SETSIGDEF);

    pid_t child = -1;
    const int rc = ::posix_spawn(&child, binary.c_str(), &files, &attr,
                                 argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) {
      error = "cannot run " + binary + ": " + std::strerror(rc);
      return false;
    }

    // Up when it answers hello; it may die first (a socket it cannot
    // bind, a bad binary).
    const auto deadline = clock::now() + cfg.start_timeout;
    close_socket();
    for (;;) {
      auto out = call(lb::hello_request{}, hello_poll);
      if (out.reply && std::holds_alternative<lb::hello_reply>(*out.reply)) {
        const auto& hello = std::get<lb::hello_reply>(*out.reply);
        if (hello.pid != child)
          log->warn("skyd-lb {} started, but {} answers on {}", child,
                    hello.pid, cfg.control_endpoint);
        break;
      }
      std::string why;
      if (!alive(child, why)) {
        error = "skyd-lb " + std::to_string(child) + " " + why
                + " before it answered (see " + log_path + ")";
        return false;
      }
      if (clock::now() >= deadline) {
        kill_and_reap(child);
        error = "skyd-lb " + std::to_string(child) + " did not answer within "
                + ms_text(cfg.start_timeout);
        return false;
      }
    }
    pid = child;
    adopted = false;
    failed_starts = 0;
    next_start = clock::now() + min_start_gap;
    log->info("started skyd-lb {} on {}", pid, cfg.control_endpoint);
    return true;
  }

  /// Kills the current skyd-lb (it did not answer) and reaps it.
  void kill_current() {
    if (pid != 0)
      kill_and_reap(pid);
    pid = 0;
    close_socket();
  }

  /// A skyd-lb that did not answer in time is killed and replaced.
  running restart(const std::string& why, std::string& error) {
    log->warn("skyd-lb {} {}; restarting it (restart {})", pid, why,
              restarts + 1);
    kill_current();
    ++restarts;
    return start(error);
  }

  /// SIGTERM: the process closes its ports, lets requests in flight finish
  /// and exits; it is reaped on a later tick.
  void stop() {
    if (pid == 0)
      return;
    log->info("no service left: stopping skyd-lb {}{}", pid,
              adopted ? " (adopted)" : "");
    ::kill(pid, SIGTERM);
    draining.push_back({pid, clock::now() + drain_limit});
    pid = 0;
    close_socket();
  }

  void reap_draining() {
    const auto now = clock::now();
    std::erase_if(draining, [&](const stopping& d) {
      std::string why;
      if (!alive(d.pid, why))
        return true;
      if (now < d.kill_at)
        return false;
      log->warn(
        "skyd-lb {} still draining after {} s; killing it", d.pid,
        std::chrono::duration_cast<std::chrono::seconds>(drain_limit).count());
      kill_and_reap(d.pid);
      return true;
    });
  }

  void settle_draining() {
    for (const auto& d : draining)
      if (!wait_gone(d.pid, settle_limit))
        kill_and_reap(d.pid);
    draining.clear();
  }

  // ---- routes ----

  /// Pushes one service's routes; nullopt when skyd-lb did not answer.
  std::optional<lb::routes_ack> push(const lb::routes_request& r,
                                     std::string& error) {
    auto out = call(r, cfg.request_timeout);
    if (out.timed_out) {
      error = out.error;
      return std::nullopt;
    }
    lb::routes_ack ack{r.service, r.generation, false, 0, {}};
    if (!out.reply)
      ack.error = out.error;
    else if (auto* a = std::get_if<lb::routes_ack>(&*out.reply))
      ack = *a;
    else if (auto* e = std::get_if<lb::error_reply>(&*out.reply))
      ack.error = "skyd-lb: " + e->message;
    else
      ack.error = "skyd-lb answered routes with another verb";
    if (!ack.error.empty())
      log->warn("service {}: routes not applied: {}", r.service, ack.error);
    auto it = routes.find(r.service);
    if (ack.listening && it != routes.end() && it->second.port == 0)
      it->second.port = ack.port; // a restart binds the same port
    acks[r.service] = ack;
    return ack;
  }

  bool push_all(std::string& error) {
    for (const auto& [service, r] : routes)
      if (!push(r, error))
        return false;
    return true;
  }

  lb::routes_ack failed_ack(const lb::routes_request& r,
                            const std::string& error) const {
    return {r.service, r.generation, false, 0, error};
  }

  lb::routes_ack apply(lb::routes_request r) {
    auto known = routes.find(r.service);
    if (r.port == 0 && known != routes.end()
        && known->second.bind_address == r.bind_address)
      r.port = known->second.port;
    routes[r.service] = r;
    std::string error;
    auto state = ensure_running(error);
    if (state == running::already) {
      if (auto ack = push(r, error))
        return *ack;
      state = restart("did not answer routes (" + error + ")", error);
    }
    if (state == running::failed)
      return failed_ack(r, error);
    return acks[r.service]; // pushed with all the others by the start
  }

  bool remove(const std::string& service) {
    const bool known = routes.erase(service) > 0;
    acks.erase(service);
    bool removed = known;
    if (pid == 0)
      return removed;
    if (!alive(pid)) {
      // Nothing to close; the next tick starts another if needed.
      return removed;
    }
    auto out = call(lb::remove_request{service}, cfg.request_timeout);
    if (out.reply)
      if (auto* ack = std::get_if<lb::remove_ack>(&*out.reply))
        removed = removed || ack->removed;
    if (out.timed_out) {
      if (routes.empty()) {
        log->warn("skyd-lb {} did not answer remove ({}); killing it", pid,
                  out.error);
        kill_current();
      } else {
        std::string error;
        restart("did not answer remove (" + out.error + ")", error);
      }
    }
    if (routes.empty())
      stop();
    return removed;
  }

  /// A report from skyd-lb; restarts it when it does not answer.
  std::vector<lb::service_report> poll() {
    std::string error;
    if (ensure_running(error) == running::failed)
      return {};
    auto out = call(lb::report_request{}, cfg.request_timeout);
    if (out.timed_out) {
      restart("did not answer a report (" + out.error + ")", error);
      return {};
    }
    if (!out.reply) {
      log->warn("skyd-lb {}: {}", pid, out.error);
      return {};
    }
    if (auto* r = std::get_if<lb::report_reply>(&*out.reply))
      return std::move(r->services);
    if (auto* e = std::get_if<lb::error_reply>(&*out.reply))
      log->warn("skyd-lb {} answered report with an error: {}", pid,
                e->message);
    return {};
  }
};

lb_link_state::lb_link_state() = default;
lb_link_state::~lb_link_state() = default;

namespace {

void schedule_tick(caf::stateful_actor<lb_link_state>* self) {
  auto& st = *self->state.impl;
  if (st.tick_pending || (st.routes.empty() && st.draining.empty()))
    return;
  st.tick_pending = true;
  self->delayed_send(self, st.cfg.report_interval, tick_atom_v);
}

} // namespace

caf::behavior lb_link(caf::stateful_actor<lb_link_state>* self,
                      lb_link_config cfg) {
  self->state.impl = std::make_unique<lb_link_impl>(std::move(cfg));
  return {
    [=](lb_routes_atom, lb::routes_request& r) -> lb::routes_ack {
      auto ack = self->state.impl->apply(std::move(r));
      schedule_tick(self);
      return ack;
    },
    [=](lb_remove_atom, const std::string& service) -> bool {
      const bool removed = self->state.impl->remove(service);
      schedule_tick(self);
      return removed;
    },
    [=](caf::get_atom) -> int64_t {
      return static_cast<int64_t>(self->state.impl->pid);
    },
    // The services registry is spawned after the link it uses.
    [=](lb_report_to_atom, caf::actor& to) {
      self->state.impl->cfg.report_to = std::move(to);
    },
    [=](tick_atom) {
      auto& st = *self->state.impl;
      st.tick_pending = false;
      st.reap_draining();
      if (!st.routes.empty())
        for (auto& report : st.poll())
          if (st.cfg.report_to)
            self->send(st.cfg.report_to, lb_report_atom_v, std::move(report));
      schedule_tick(self);
    },
  };
}

} // namespace sky::actors
