// Local clusters (issue 4):
//  - `skyctl launch -c x hello.yaml` on local, command start to first output
//    line: p50 < 300 ms
//  - `skyctl status` with 1,000 clusters: p50 < 20 ms wall; skyd RSS growth
//    < 20 KiB per cluster
//
//   build/tests/bench/cluster_bench [LAUNCHES] [CLUSTERS]

#include <chrono>
#include <cstdio>
#include <fstream>

#include "bench_daemon.hpp"
#include "bench_util.hpp"

using namespace sky;
using namespace std::chrono;

int main(int argc, char** argv) {
  int launches = argc > 1 ? std::atoi(argv[1]) : 20;
  int clusters = argc > 2 ? std::atoi(argv[2]) : 1000;
  bench::bench_daemon d;
  std::printf("local clusters (skyd pid %d)\n", d.pid());
  auto hello = std::string{SKY_SOURCE_DIR} + "/examples/hello.yaml";
  std::vector<double> first_line;
  for (int i = 0; i < launches; ++i) {
    auto start = steady_clock::now();
    testing::child c{{testing::built_binary("bin/skyctl"), "launch", "-y", "-c",
                      "l" + std::to_string(i), hello},
                     d.env()};
    auto line = c.read_line(seconds(30));
    first_line.push_back(
      duration<double, std::milli>(steady_clock::now() - start).count());
    c.wait(seconds(30));
    if (!line) {
      std::fprintf(stderr, "launch %d printed nothing\n", i);
      return 1;
    }
  }
  double p50 = bench::percentile(first_line, 50);
  bench::report("launch: command start to first output p50", p50, "ms",
                "< 300 ms", p50 < 300);
  bench::note("launch: first output p90", bench::percentile(first_line, 90),
              "ms");
  d.skyctl({"down", "-a", "-y"});

  // Many clusters: detached launches pipelined on one connection, in two
  // halves. The first half also fills RocksDB's memtables (bounded, a few
  // MiB); the second half's growth is the steady cost of one more cluster.
  auto conn = d.connect();
  auto launch_range = [&](int from, int to) {
    std::vector<uint64_t> streams;
    for (int i = from; i < to; ++i) {
      protocol::launch_request req;
      req.cluster = "c" + std::to_string(i);
      req.pipeline.tasks.push_back(bench::task_of("run: 'true'\n"));
      req.detach = true;
      auto s = conn.open_stream("launch", protocol::encode(req), 64);
      if (!s)
        return false;
      streams.push_back(*s);
    }
    for (auto s : streams)
      while (true) {
        auto f = conn.next(s, minutes(5));
        if (!f) {
          std::fprintf(stderr, "launch failed: %s\n",
                       describe(f.error()).message.c_str());
          return false;
        }
        if (f->final())
          break;
      }
    // Their jobs end within moments; wait until skyd is idle again.
    bench::wait_idle(d.pid(), seconds(60));
    return true;
  };
  double rss_before = bench::rss_mib_of(d.pid());
  auto t0 = steady_clock::now();
  if (!launch_range(0, clusters / 2))
    return 1;
  double secs = duration<double>(steady_clock::now() - t0).count();
  double rss_half = bench::rss_mib_of(d.pid());
  if (!launch_range(clusters / 2, clusters))
    return 1;
  double rss_after = bench::rss_mib_of(d.pid());
  bench::note("clusters launched (detached, pipelined)", clusters, "");
  bench::note("  first half launched and idle in", secs, "s");
  std::vector<double> wall;
  for (int i = 0; i < 30; ++i) {
    auto start = steady_clock::now();
    auto r = d.skyctl({"status"});
    wall.push_back(
      duration<double, std::milli>(steady_clock::now() - start).count());
    if (r.exit_code != 0)
      return 1;
  }
  double status50 = bench::percentile(wall, 50);
  bench::report("status with " + std::to_string(clusters)
                  + " clusters, wall p50",
                status50, "ms", "< 20 ms", status50 < 20);
  double steady = (rss_after - rss_half) * 1024 / (clusters - clusters / 2);
  bench::report("skyd RSS growth per cluster (second half)", steady, "KiB",
                "< 20 KiB", steady < 20);
  bench::note("skyd RSS growth per cluster (all, with memtables)",
              (rss_after - rss_before) * 1024 / clusters, "KiB");
  bench::note("skyd RSS with the clusters", rss_after, "MiB");
  return 0;
}
