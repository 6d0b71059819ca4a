#pragma once

// A temporary SKYD_HOME with helpers to run skyctl against it and to find,
// kill and wait for its skyd.

#include <csignal>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "messages/instance_lock.hpp"
#include "messages/paths.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace sky::testing {

class skyd_home {
public:
  skyd_home() : dir_("sky-it") {}

  ~skyd_home() {
    // Never leave a daemon behind, whatever the test did.
    kill9();
  }

  const std::filesystem::path& path() const { return dir_.path(); }

  home_layout layout() const { return home_layout{dir_.path()}; }

  env_changes env() const {
    return {{"SKYD_HOME", dir_.path().string()},
            {"SKYD_BIN", built_binary("bin/skyd")}};
  }

  run_result skyctl(std::vector<std::string> args,
                    std::chrono::milliseconds timeout
                    = std::chrono::seconds(30)) const {
    args.insert(args.begin(), built_binary("bin/skyctl"));
    return run(args, env(), timeout);
  }

  run_result skyd(std::vector<std::string> args) const {
    args.insert(args.begin(), built_binary("bin/skyd"));
    return run(args, env());
  }

  std::optional<pid_t> daemon_pid() const {
    return lock_holder(layout().lock_file());
  }

  void write_config(const std::string& yaml) const {
    std::ofstream{layout().config_file()} << yaml;
  }

  /// kill -9 of the daemon; returns once its lock is free.
  void kill9() const {
    auto pid = daemon_pid();
    if (!pid || *pid <= 0)
      return;
    ::kill(*pid, SIGKILL);
    for (int i = 0; i < 500 && daemon_pid(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

private:
  temp_dir dir_;
};

} // namespace sky::testing
