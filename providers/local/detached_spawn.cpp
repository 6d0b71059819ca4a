#include "providers/local/detached_spawn.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "providers/common/fs_util.hpp"
#include "providers/common/proc_stat.hpp"

namespace sky::providers::local_detail {

namespace {

// Children report over a SOCK_SEQPACKET pair: one record per send, never
// split or merged, and send() with MSG_NOSIGNAL is async-signal-safe.
enum class msg_kind : int32_t {
  pid = 1,
  failure = 2,
  /// Not sent as a report: any 1-byte record (the program's readiness).
  ready = 3,
};

enum class step : int32_t {
  none = 0,
  fork,
  setsid,
  redirect,
  chdir,
  exec,
};

struct report {
  msg_kind kind;
  step where;
  int64_t value; // the pid, or errno
};

const char* step_name(step s) {
  switch (s) {
    case step::fork:
      return "fork";
    case step::setsid:
      return "setsid";
    case step::redirect:
      return "redirect stdio";
    case step::chdir:
      return "chdir";
    case step::exec:
      return "exec";
    case step::none:
      break;
  }
  return "start";
}

void send_report(int fd, msg_kind kind, step where, int64_t value) {
  report r{kind, where, value};
  while (::send(fd, &r, sizeof(r), MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void fail_child(int fd, step where) {
  send_report(fd, msg_kind::failure, where, errno);
  ::_exit(127);
}

/// Runs in the forked children: only async-signal-safe calls from here on
/// (no allocation, no locks), since other threads of the parent may have
/// held locks at the time of the fork.
[[noreturn]] void run_children(int sock, int devnull, int log, int ready_fd,
                               const char* cwd, const char* program,
                               char* const* argv, char* const* envp) {
  pid_t grandchild = ::_Fork();
  if (grandchild < 0)
    fail_child(sock, step::fork);
  if (grandchild > 0) {
    send_report(sock, msg_kind::pid, step::none, grandchild);
    ::_exit(0);
  }
  // Not a process group leader (the intermediate is not either), so setsid
  // makes this process leader of a new session and process group.
  if (::setsid() < 0)
    fail_child(sock, step::setsid);
  // skyd may block or handle signals in its threads; masks and ignored
  // dispositions survive exec, so give the job a clean slate.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(devnull, STDIN_FILENO) < 0 || ::dup2(log, STDOUT_FILENO) < 0
      || ::dup2(log, STDERR_FILENO) < 0)
    fail_child(sock, step::redirect);
  // Descriptors the parent opened without O_CLOEXEC (other threads, other
  // libraries) must not leak into a job that may run for days.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  // The report socket doubles as the readiness channel: the program holds
  // it as `ready_fd` and writes one byte (or closes it) when ready.
  if (ready_fd >= 0) {
    if (ready_fd == sock) {
      if (::fcntl(sock, F_SETFD, 0) < 0)
        fail_child(sock, step::redirect);
    } else if (::dup2(sock, ready_fd) < 0) {
      fail_child(sock, step::redirect);
    }
  }
  // Held until the parent has read our start time: a script that ends at
  // once must still be identifiable.
  char go = 0;
  ssize_t n;
  while ((n = ::read(sock, &go, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1)
    ::_exit(127);
  if (::chdir(cwd) != 0)
    fail_child(sock, step::chdir);
  ::execve(program, argv, envp);
  fail_child(sock, step::exec);
}

/// The next report, nullopt at EOF; an error on timeout. A one-byte record
/// is the program's readiness (msg_kind::ready).
result<std::optional<report>> next_report(int fd, int timeout_ms) {
  while (true) {
    pollfd pfd{fd, POLLIN, 0};
    int rc = ::poll(&pfd, 1, timeout_ms);
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc == 0)
      return make_error(errc::timeout, "the new process did not report within "
                                         + std::to_string(timeout_ms) + " ms");
    report r{};
    auto got = ::recv(fd, &r, sizeof(r), 0);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return std::optional<report>{};
    if (got == 1)
      return std::optional<report>{report{msg_kind::ready, step::none, 0}};
    if (got != sizeof(r))
      return make_error(errc::internal, "short report from a new process");
    return std::optional<report>{r};
  }
}

caf::error child_failure(const spawn_request& req, const report& r) {
  std::string what = step_name(r.where);
  if (r.where == step::chdir)
    what += " " + req.cwd.string();
  else if (r.where == step::exec)
    what += " " + req.program;
  return make_error(
    errc::fatal,
    errno_text("cannot start process: " + what, static_cast<int>(r.value)),
    "check that the path exists and is accessible");
}

void wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

constexpr int report_timeout_ms = 30000;
constexpr int release_timeout_ms = 10000;

} // namespace

result<spawned_process> spawn_detached(const spawn_request& req) {
  if (req.argv.empty())
    return make_error(errc::invalid_argument, "spawn: empty argv");
  if (req.ready_fd && *req.ready_fd < 3)
    return make_error(errc::invalid_argument,
                      "spawn: the readiness descriptor must be 3 or above");
  // Everything the children need is prepared here: they cannot allocate.
  std::vector<char*> argv;
  for (const auto& a : req.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : req.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  auto cwd = req.cwd.string();

  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0)
    return make_error(errc::fatal, errno_text("cannot open /dev/null", errno));
  int log = ::open(req.log_file.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    int err = errno;
    ::close(devnull);
    return make_error(
      errc::fatal,
      errno_text("cannot open log file " + req.log_file.string(), err),
      "check that the node's directory is writable");
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    int err = errno;
    ::close(devnull);
    ::close(log);
    return make_error(errc::fatal, errno_text("socketpair", err));
  }
  pid_t mid = ::fork();
  if (mid < 0) {
    int err = errno;
    ::close(devnull);
    ::close(log);
    ::close(sv[0]);
    ::close(sv[1]);
    return make_error(errc::transient, errno_text("fork", err),
                      "the host may be out of processes or memory");
  }
  if (mid == 0) {
    ::close(sv[0]);
    run_children(sv[1], devnull, log, req.ready_fd.value_or(-1), cwd.c_str(),
                 req.program.c_str(), argv.data(), envp.data());
  }
  ::close(sv[1]);
  ::close(devnull);
  ::close(log);
  int sock = sv[0];
  auto first = next_report(sock, report_timeout_ms);
  if (!first)
    ::kill(mid, SIGKILL);
  // The intermediate exits right after reporting: reap it now.
  wait_for(mid);
  if (!first) {
    ::close(sock);
    return first.error();
  }
  if (!*first || (*first)->kind != msg_kind::pid) {
    ::close(sock);
    if (*first)
      return child_failure(req, **first);
    return make_error(errc::fatal, "cannot start process: the intermediate "
                                   "child exited without a report");
  }
  auto pid = static_cast<pid_t>((*first)->value);
  auto st = read_proc_stat(pid);
  if (!st) {
    // Closing the socket without the go byte makes the child exit.
    ::close(sock);
    return make_error(errc::fatal, "cannot start process: pid "
                                     + std::to_string(pid)
                                     + " vanished before it was released");
  }
  char go = 1;
  if (::send(sock, &go, 1, MSG_NOSIGNAL) != 1) {
    ::close(sock);
    return make_error(errc::fatal, "cannot start process: pid "
                                     + std::to_string(pid)
                                     + " exited before it was released");
  }
  // EOF once exec closed the child's end (close-on-exec); with a readiness
  // descriptor, the program's byte (or EOF when it closed it). A failure
  // report means chdir or exec failed.
  auto last = next_report(sock, release_timeout_ms);
  ::close(sock);
  if (last && *last && (*last)->kind == msg_kind::failure)
    return child_failure(req, **last);
  // A timeout here means a slow program, or some other process holding a
  // copy of the socket (forked by another thread before our exec): the
  // child was released and runs, so it is started.
  return spawned_process{pid, st->start_ticks};
}

} // namespace sky::providers::local_detail
