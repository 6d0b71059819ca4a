#include "skyctl/daemon_control.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "messages/instance_lock.hpp"

extern char** environ;

namespace sky::client {

std::optional<pid_t> running_daemon(const home_layout& home) {
  return lock_holder(home.lock_file());
}

std::filesystem::path skyd_binary() {
  if (const char* env = std::getenv("SKYD_BIN"); env != nullptr && *env)
    return env;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = self.parent_path() / "skyd";
    if (std::filesystem::exists(beside))
      return beside;
  }
  return "skyd"; // posix_spawnp searches PATH
}

result<void> start_daemon(const home_layout& home) {
  auto binary = skyd_binary();
  std::string home_arg = home.home.string();
  std::string bin = binary.string();
  std::vector<char*> argv{bin.data(), const_cast<char*>("--home"),
                          home_arg.data(), nullptr};
  // skyd's launcher process reports start-up failures on stderr: keep them.
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0)
    return make_error(errc::unavailable, "pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  pid_t pid = 0;
  int rc
    = posix_spawnp(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(err_pipe[0]);
    return make_error(errc::unavailable,
                      "cannot run " + bin + ": " + std::strerror(rc),
                      "install skyd beside skyctl, put it on PATH, or set "
                      "SKYD_BIN");
  }
  std::string output;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(err_pipe[0], buf, sizeof(buf))) > 0)
    output.append(buf, static_cast<size_t>(n));
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return {};
  if (running_daemon(home))
    return {}; // another skyctl started it at the same time
  while (!output.empty() && output.back() == '\n')
    output.pop_back();
  return make_error(errc::unavailable,
                    "skyd could not start"
                      + (output.empty() ? std::string{} : ":\n" + output),
                    "see the log: " + home.log_file().string());
}

result<connection> connect(const home_layout& home, bool autostart) {
  if (!running_daemon(home)) {
    if (!autostart)
      return make_error(errc::unavailable,
                        "skyd is not running for " + home.home.string(),
                        "start it with `skyctl daemon start` (or drop "
                        "--no-autostart)");
    if (auto ok = start_daemon(home); !ok)
      return ok.error();
  }
  return connection::open(home_layout::ipc_endpoint(home.control_socket()));
}

result<bool> stop_daemon(const home_layout& home,
                         std::chrono::milliseconds timeout) {
  auto pid = running_daemon(home);
  if (!pid)
    return false;
  auto conn
    = connection::open(home_layout::ipc_endpoint(home.control_socket()));
  bool asked = false;
  if (conn)
    asked = static_cast<bool>(conn->call("shutdown", {}, 5s));
  if (!asked && *pid > 0)
    ::kill(*pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running_daemon(home))
      return true;
    std::this_thread::sleep_for(20ms);
  }
  if (asked && *pid > 0) {
    ::kill(*pid, SIGTERM);
    for (int i = 0; i < 250 && running_daemon(home); ++i)
      std::this_thread::sleep_for(20ms);
    if (!running_daemon(home))
      return true;
  }
  return make_error(errc::timeout,
                    "skyd (pid " + std::to_string(*pid)
                      + ") did not stop in time",
                    "see `skyctl daemon logs`; `kill -9 " + std::to_string(*pid)
                      + "` forces it");
}

} // namespace sky::client
