#pragma once

// Running skyd in the background. The launching process forks a daemon
// (new session, no terminal, stdio on /dev/null) and waits on a pipe until the
// daemon reports that it serves requests, or why it could not start; then it
// exits 0 or prints the reason and exits 1. So `skyd` returning 0 means the
// control socket answers, which is what skyctl's autostart relies on.

#include <string>

namespace sky::daemon {

/// The daemon's end of the start-up pipe.
class readiness {
public:
  readiness() = default;
  explicit readiness(int fd) : fd_(fd) {}

  /// Tells the launcher that skyd serves requests; the launcher exits 0.
  void ready();
  /// Tells the launcher why skyd cannot start; the launcher prints it.
  void failed(const std::string& message);

private:
  int fd_ = -1;
};

/// Forks into the background. Returns only in the daemon process; the
/// launching process exits with the daemon's start-up verdict.
readiness daemonize();

} // namespace sky::daemon
