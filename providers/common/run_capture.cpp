#include "providers/common/run_capture.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "providers/common/fs_util.hpp"

extern char** environ;

namespace sky::providers::local_detail {

namespace {

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return -1;
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

result<captured> run_capture(const std::vector<std::string>& argv,
                             std::chrono::milliseconds timeout) {
  if (argv.empty())
    return make_error(errc::invalid_argument, "run_capture: empty command");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return make_error(errc::fatal, errno_text("pipe", errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc
    = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    auto code = (rc == ENOENT || rc == EACCES) ? errc::not_found : errc::fatal;
    return make_error(code, errno_text("cannot run " + argv[0], rc));
  }
  captured result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      continue;
    char buf[4096];
    auto got = ::read(out[0], buf, sizeof(buf));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    result.out.append(buf, static_cast<size_t>(got));
  }
  ::close(out[0]);
  if (timed_out)
    ::kill(pid, SIGKILL);
  result.exit_code = wait_exit(pid);
  if (timed_out)
    return make_error(errc::timeout,
                      argv[0] + " did not finish within "
                        + std::to_string(timeout.count()) + " ms",
                      "check the command by hand");
  return result;
}

} // namespace sky::providers::local_detail
