// SSH node pools (issue 9), against real sshd hosts on 127.0.0.2 ...:
//  - `skyctl check` of a 20-host pool: < 2 s (probes in parallel)
//  - `skyctl exec` on a warm SSH cluster -> RUNNING: p50 < 100 ms
//
//   build/tests/bench/ssh_bench [HOSTS] [EXECS] [CHECKS]
//
// The exec figures are taken on the wire (one connection, as skyctl uses):
// to `job.running` (recorded before the processes start, write-ahead) and
// to `job.processes` (the process is running on the host, its handle
// recorded: the honest "RUNNING"); plus the whole `skyctl exec` command to
// the job's first line of output, read back over SFTP.

#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench_daemon.hpp"
#include "bench_sshd.hpp"
#include "bench_util.hpp"
#include "bench_wire.hpp"
#include "messages/cluster_snapshot.hpp"
#include "messages/protocol.hpp"

using namespace sky;
using namespace std::chrono;

namespace {

using ms_double = duration<double, std::milli>;

// Wall time of `skyctl check -o json`; -1 unless every pool host answered.
double timed_check(const bench::bench_daemon& d, size_t hosts) {
  auto start = steady_clock::now();
  auto r = d.skyctl({"check", "-o", "json"});
  double ms = ms_double(steady_clock::now() - start).count();
  if (r.exit_code != 0) {
    std::fprintf(stderr, "check failed: %s\n", r.err.c_str());
    return -1;
  }
  size_t ok = 0;
  auto rows = nlohmann::json::parse(r.out); // alive for the loop
  for (const auto& row : rows["infra"])
    if (row["name"].get<std::string>().rfind("ssh/bench/", 0) == 0
        && row["status"] == "enabled")
      ++ok;
  if (ok != hosts) {
    std::fprintf(stderr, "check: %zu of %zu hosts answered:\n%s\n", ok, hosts,
                 r.out.c_str());
    return -1;
  }
  return ms;
}

} // namespace

int main(int argc, char** argv) {
  size_t hosts = argc > 1 ? std::stoul(argv[1]) : 20;
  int execs = argc > 2 ? std::atoi(argv[2]) : 100;
  int checks = argc > 3 ? std::atoi(argv[3]) : 10;
  // The hosts outlive skyd: its teardown (down -a) reaches them.
  bench::sshd_pool pool{hosts};
  bench::bench_daemon d;
  // skyd reads the pool file when it starts.
  pool.write_pool_file(d.home().home / "ssh_node_pools.yaml", "bench");
  d.skyctl({"daemon", "stop"});
  if (d.skyctl({"daemon", "start"}).exit_code != 0)
    return 1;
  std::printf("SSH pools: %zu sshd hosts on 127.0.0.2..\n", hosts);

  // check: the first one connects (key exchange, auth, host keys recorded),
  // the later ones reuse the sessions; every probe is made afresh.
  double cold = timed_check(d, hosts);
  if (cold < 0)
    return 1;
  std::vector<double> warm;
  for (int i = 0; i < checks; ++i) {
    auto ms = timed_check(d, hosts);
    if (ms < 0)
      return 1;
    warm.push_back(ms);
  }
  auto label = "skyctl check, " + std::to_string(hosts) + " hosts";
  bench::report(label + ", first (connects)", cold, "ms", "< 2000 ms",
                cold < 2000);
  double warm50 = bench::percentile(warm, 50);
  bench::report(label + ", p50 of the next " + std::to_string(checks), warm50,
                "ms", "< 2000 ms", warm50 < 2000);
  bench::note(label + ", max of the next " + std::to_string(checks),
              bench::percentile(warm, 100), "ms");

  // exec on a warm 1-node cluster (its session open).
  auto up = d.skyctl(
    {"launch", "-y", "-c", "b", "--infra", "ssh/bench", "--", "true"});
  if (up.exit_code != 0) {
    std::fprintf(stderr, "launch failed: %s\n", up.err.c_str());
    return 1;
  }
  auto conn = d.connect();
  protocol::events_request follow;
  follow.since = 0;
  follow.topic = "job.b.";
  follow.follow = true;
  follow.window = 256;
  auto events = conn.open_stream("events", protocol::encode(follow), 256);
  if (!events)
    return 1;
  std::vector<double> to_running, to_started;
  for (int i = 0; i < execs; ++i) {
    auto start = steady_clock::now();
    auto id = bench::exec_detached(conn, "b", "true");
    auto entity = job_entity("b", id);
    if (id == 0 || !bench::wait_event(conn, *events, entity, "job.running"))
      return 1;
    to_running.push_back(ms_double(steady_clock::now() - start).count());
    if (!bench::wait_event(conn, *events, entity, "job.processes"))
      return 1;
    to_started.push_back(ms_double(steady_clock::now() - start).count());
    if (!bench::wait_event(conn, *events, entity, "job.finished"))
      return 1;
  }
  conn.cancel(*events);
  double r50 = bench::percentile(to_running, 50);
  double s50 = bench::percentile(to_started, 50);
  bench::report("exec -> job.running p50 (wire)", r50, "ms", "< 100 ms",
                r50 < 100);
  bench::note("exec -> job.running p99 (wire)",
              bench::percentile(to_running, 99), "ms");
  bench::report("exec -> process started on host p50 (wire)", s50, "ms",
                "< 100 ms", s50 < 100);
  bench::note("exec -> process started on host p99 (wire)",
              bench::percentile(to_started, 99), "ms");

  // The same through the skyctl binary.
  if (!bench::note_cli_exec(d, "b", std::min(execs, 30), seconds(60)))
    return 1;
  return 0;
}
