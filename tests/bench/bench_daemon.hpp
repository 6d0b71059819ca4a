#pragma once

// A real skyd on a temporary SKYD_HOME for benchmarks, with helpers to talk
// to it in-process and to run skyctl.

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>
#include <string>
#include <vector>

#include "messages/cluster_protocol.hpp"
#include "messages/instance_lock.hpp"
#include "messages/paths.hpp"
#include "messages/task/parse_task.hpp"
#include "skyctl/client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace sky::bench {

class bench_daemon {
public:
  explicit bench_daemon(const std::string& config_yaml = {})
    : dir_("sky-bench"), home_{dir_.path()} {
    if (!config_yaml.empty())
      testing::run({"sh", "-c",
                    "cat > " + home_.config_file().string() + " <<'EOF'\n"
                      + config_yaml + "\nEOF"});
    env_ = {{"SKYD_HOME", dir_.path().string()},
            {"SKYD_BIN", testing::built_binary("bin/skyd")}};
    auto r = skyctl({"daemon", "start"});
    if (r.exit_code != 0)
      throw std::runtime_error("cannot start skyd: " + r.err);
    pid_ = lock_holder(home_.lock_file()).value_or(0);
  }

  ~bench_daemon() {
    skyctl({"down", "-a", "-y"});
    skyctl({"daemon", "stop"});
  }

  testing::run_result skyctl(std::vector<std::string> args) const {
    args.insert(args.begin(), testing::built_binary("bin/skyctl"));
    return testing::run(args, env_, std::chrono::minutes(10));
  }

  client::connection connect() const {
    auto c = client::connection::open(
      home_layout::ipc_endpoint(home_.control_socket()));
    if (!c)
      throw std::runtime_error("cannot connect");
    return std::move(*c);
  }

  /// kill -9 of skyd; returns once its lock is free (false: it is not).
  bool kill9() {
    if (pid_ <= 0 || ::kill(pid_, SIGKILL) != 0)
      return false;
    for (int i = 0; i < 1000 && lock_holder(home_.lock_file()); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return !lock_holder(home_.lock_file());
  }

  /// Starts skyd again (`skyctl daemon start`: returns once it serves).
  bool start() {
    if (skyctl({"daemon", "start"}).exit_code != 0)
      return false;
    pid_ = lock_holder(home_.lock_file()).value_or(0);
    return pid_ > 0;
  }

  const testing::env_changes& env() const { return env_; }
  const home_layout& home() const { return home_; }
  pid_t pid() const { return pid_; }

private:
  testing::temp_dir dir_;
  home_layout home_;
  testing::env_changes env_;
  pid_t pid_ = 0;
};

inline task::task_spec task_of(const std::string& yaml) {
  auto p = task::parse_task_yaml(yaml, "bench.yaml");
  if (!p)
    throw std::runtime_error(describe(p.error()).message);
  return p->tasks.at(0);
}

inline double rss_mib_of(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      in >> kib;
      return kib / 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

/// CPU time (user + system) a process has used, in clock ticks.
inline long cpu_ticks_of(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  std::getline(in, line);
  // Fields after the command name (which may hold spaces) in parentheses.
  auto rest = line.substr(line.rfind(')') + 2);
  std::istringstream fields{rest};
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14)
      utime = std::stol(f);
    if (i == 15)
      stime = std::stol(f);
  }
  return utime + stime;
}

/// Waits until `pid` used under 5% of a CPU over a second (its jobs ended,
/// its timers settled), or `limit` passed.
inline void wait_idle(pid_t pid, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  auto per_second = sysconf(_SC_CLK_TCK);
  while (std::chrono::steady_clock::now() < end) {
    auto before = cpu_ticks_of(pid);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (cpu_ticks_of(pid) - before < per_second / 20)
      return;
  }
}

} // namespace sky::bench
