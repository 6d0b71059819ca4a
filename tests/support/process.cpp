#include "tests/support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace sky::testing {

namespace {

using clock = std::chrono::steady_clock;

std::vector<std::string> build_env(const env_changes& changes) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv{*e};
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : changes) {
    if (v)
      vars[k] = *v;
    else
      vars.erase(k);
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : vars)
    out.push_back(k + "=" + v);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, const env_changes& env,
            int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  if (out_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  if (err_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto env_strings = build_env(env);
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc
    = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot spawn " + argv[0] + ": "
                             + std::strerror(rc));
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return -WTERMSIG(status);
  return -1;
}

} // namespace

run_result run(const std::vector<std::string>& argv, const env_changes& env,
               std::chrono::milliseconds timeout) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_t pid = spawn(argv, env, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  run_result result;
  auto deadline = clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - clock::now())
                  .count();
    if (left <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    ::poll(fds, 2, left > 0 ? static_cast<int>(left) : 100);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0)
        continue;
      char buf[4096];
      auto n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = decode_status(status);
  return result;
}

child::child(const std::vector<std::string>& argv, const env_changes& env) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  // stderr goes to /dev/null: tests read stdout; progress lines on stderr
  // would only clutter the test output.
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  pid_ = spawn(argv, env, out[1], devnull);
  if (devnull >= 0)
    ::close(devnull);
  ::close(out[1]);
  out_fd_ = out[0];
}

child::~child() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(5));
  }
  if (out_fd_ >= 0)
    ::close(out_fd_);
}

std::optional<std::string> child::read_line(std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      auto line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (eof_)
      return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - clock::now())
                  .count();
    if (left <= 0)
      return std::nullopt;
    pollfd pfd{out_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left)) <= 0)
      continue;
    char buf[4096];
    auto n = ::read(out_fd_, buf, sizeof(buf));
    if (n <= 0)
      eof_ = true;
    else
      buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::string child::drain_output(std::chrono::milliseconds timeout) {
  std::string all;
  while (auto line = read_line(timeout))
    all += *line + "\n";
  all += buffer_;
  buffer_.clear();
  return all;
}

void child::signal(int sig) {
  ::kill(pid_, sig);
}

std::optional<int> child::wait(std::chrono::milliseconds timeout) {
  if (status_)
    return status_;
  auto deadline = clock::now() + timeout;
  while (true) {
    int status = 0;
    auto rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      status_ = decode_status(status);
      return status_;
    }
    if (clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string built_binary(const std::string& relative) {
  return std::string{SKY_BINARY_DIR} + "/" + relative;
}

bool process_alive(pid_t pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  if (!stat)
    return false;
  std::string pid_s, comm, state;
  stat >> pid_s >> comm >> state;
  return state != "Z" && state != "X";
}

} // namespace sky::testing
