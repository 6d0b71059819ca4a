#pragma once

// Running real processes from tests: skyd, skyctl and helper binaries.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace sky::testing {

struct run_result {
  int exit_code = -1; // -signal when killed by a signal
  std::string out;
  std::string err;
};

/// Environment changes for a child: value nullopt removes the variable.
using env_changes = std::map<std::string, std::optional<std::string>>;

/// Runs a program to completion (killing it after `timeout`), capturing
/// stdout and stderr.
run_result run(const std::vector<std::string>& argv,
               const env_changes& env = {},
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A child process whose stdout is read line by line while it runs.
class child {
public:
  child(const std::vector<std::string>& argv, const env_changes& env = {});
  ~child(); // kills with SIGKILL if still running
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const { return pid_; }
  /// The next line of stdout, or nullopt at EOF or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Everything the child printed on stdout so far that was not read yet.
  std::string drain_output(std::chrono::milliseconds timeout);
  void signal(int sig);
  /// Waits for exit; returns the exit code (or -signal), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);

private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
  std::optional<int> status_;
};

/// Path of a binary built by this project (bin/skyd, bin/skyctl, or a test
/// helper under tests/).
std::string built_binary(const std::string& relative);

/// True while a process with this pid exists and is not a zombie.
bool process_alive(pid_t pid);

} // namespace sky::testing
