// Control-plane figures of issue 2 against a real skyd:
//  - ping round trip over IPC with the client in-process (p50 < 100 us,
//    p99 < 1 ms)
//  - `skyctl status` wall time, process start to exit (< 20 ms)
//  - skyd idle RSS (< 30 MiB)
//
//   build/tests/bench/control_bench [PINGS]

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "bench_util.hpp"
#include "messages/instance_lock.hpp"
#include "messages/paths.hpp"
#include "skyctl/client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace std::chrono;

namespace {

double rss_mib(pid_t pid) {
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

} // namespace

int main(int argc, char** argv) {
  int pings = argc > 1 ? std::atoi(argv[1]) : 20000;
  testing::temp_dir dir{"sky-bench"};
  home_layout home{dir.path()};
  testing::env_changes env{{"SKYD_HOME", dir.path().string()},
                           {"SKYD_BIN", testing::built_binary("bin/skyd")}};
  auto skyctl = testing::built_binary("bin/skyctl");
  auto started = testing::run({skyctl, "daemon", "start"}, env);
  if (started.exit_code != 0) {
    std::fprintf(stderr, "cannot start skyd: %s\n", started.err.c_str());
    return 1;
  }
  auto pid = lock_holder(home.lock_file()).value_or(0);
  std::printf("control plane (skyd pid %d, %u cores)\n", pid,
              std::thread::hardware_concurrency());

  std::this_thread::sleep_for(seconds(2));
  double idle = rss_mib(pid);
  bench::report("skyd idle RSS", idle, "MiB", "< 30 MiB", idle < 30);

  auto conn = client::connection::open(
    home_layout::ipc_endpoint(home.control_socket()));
  if (!conn)
    return 1;
  for (int i = 0; i < 1000; ++i) // warm up
    (void) conn->call("ping", {});
  std::vector<double> rtt;
  rtt.reserve(static_cast<size_t>(pings));
  auto t0 = steady_clock::now();
  for (int i = 0; i < pings; ++i) {
    auto start = steady_clock::now();
    auto pong = conn->call("ping", {});
    rtt.push_back(
      duration<double, std::micro>(steady_clock::now() - start).count());
    if (!pong) {
      std::fprintf(stderr, "ping failed\n");
      return 1;
    }
  }
  double secs = duration<double>(steady_clock::now() - t0).count();
  double p50 = bench::percentile(rtt, 50);
  double p99 = bench::percentile(rtt, 99);
  bench::note("pings", pings, "");
  bench::report("ping round trip p50", p50, "us", "< 100 us", p50 < 100);
  bench::report("ping round trip p99", p99, "us", "< 1000 us", p99 < 1000);
  bench::note("ping round trip p99.9", bench::percentile(rtt, 99.9), "us");
  bench::note("pings per second (one client)", pings / secs, "/s");

  // A request that goes through the dispatcher actor, for comparison.
  std::vector<double> status_rtt;
  for (int i = 0; i < 2000; ++i) {
    auto start = steady_clock::now();
    (void) conn->call("status", {});
    status_rtt.push_back(
      duration<double, std::micro>(steady_clock::now() - start).count());
  }
  bench::note("status request round trip p50 (in-process)",
              bench::percentile(status_rtt, 50), "us");

  std::vector<double> wall;
  for (int i = 0; i < 100; ++i) {
    auto start = steady_clock::now();
    auto r = testing::run({skyctl, "status"}, env);
    wall.push_back(
      duration<double, std::milli>(steady_clock::now() - start).count());
    if (r.exit_code != 0)
      return 1;
  }
  double wall50 = bench::percentile(wall, 50);
  bench::report("skyctl status wall time p50", wall50, "ms", "< 20 ms",
                wall50 < 20);
  bench::note("skyctl status wall time p99", bench::percentile(wall, 99), "ms");
  double after = rss_mib(pid);
  bench::note("skyd RSS after the run", after, "MiB");
  testing::run({skyctl, "daemon", "stop"}, env);
  return 0;
}
