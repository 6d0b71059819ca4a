#include "skyd/daemonize.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sky::daemon {

namespace {

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0)
      return;
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void wait_for_daemon(int fd) {
  std::string report;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0)
    report.append(buf, static_cast<size_t>(n));
  if (report.rfind("READY", 0) == 0)
    std::_Exit(0);
  if (report.empty())
    report = "skyd exited during start-up without a message; see its log\n";
  std::fputs(report.c_str(), stderr);
  std::_Exit(1);
}

} // namespace

void readiness::ready() {
  if (fd_ < 0)
    return;
  write_all(fd_, "READY\n");
  ::close(fd_);
  fd_ = -1;
}

void readiness::failed(const std::string& message) {
  if (fd_ < 0)
    return;
  write_all(fd_, message + "\n");
  ::close(fd_);
  fd_ = -1;
}

readiness daemonize() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("skyd: pipe");
    std::exit(1);
  }
  pid_t first = ::fork();
  if (first < 0) {
    std::perror("skyd: fork");
    std::exit(1);
  }
  if (first > 0) {
    ::close(fds[1]);
    int status = 0;
    ::waitpid(first, &status, 0);
    wait_for_daemon(fds[0]);
  }
  // First child: leave the launcher's session, then fork again so the daemon
  // can never reacquire a controlling terminal.
  ::close(fds[0]);
  ::setsid();
  pid_t second = ::fork();
  if (second < 0)
    std::_Exit(1);
  if (second > 0)
    std::_Exit(0);
  ::umask(077);
  if (::chdir("/") != 0) {
    // Not fatal: skyd uses absolute paths only.
  }
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO)
      ::close(null);
  }
  return readiness{fds[1]};
}

} // namespace sky::daemon
