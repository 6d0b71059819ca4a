// Simulated clouds (issue 6):
//  - failover through 100 unavailable zones to the first available one, zero
//    simulated delay: < 50 ms of skyd time in total
//  - 1,000 clusters provisioned concurrently on sim (virtual mode): all UP in
//    < 2 s of wall time
//
//   build/tests/bench/sim_bench [ZONES] [CLUSTERS]
//
// Uses a synthetic catalog written to a temporary directory: one simulated
// cloud ("aws") with ZONES + 1 zones whose spot prices rise zone by zone, so
// the failover order is known, and a scenario with no capacity in the first
// ZONES of them.

#include <chrono>
#include <cstdio>
#include <fstream>

#include "bench_daemon.hpp"
#include "bench_util.hpp"

using namespace sky;
using namespace std::chrono;

namespace {

std::string zone_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "r%03d-z", i / 3);
  return std::string{buf} + static_cast<char>('a' + i % 3);
}

std::string region_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "r%03d", i / 3);
  return buf;
}

// aws/vms.csv with `zones` zones (3 per region) and rising spot prices.
void write_catalog(const std::filesystem::path& dir, int zones) {
  std::filesystem::create_directories(dir / "aws");
  std::ofstream out{dir / "aws" / "vms.csv"};
  out << "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,"
         "GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch\n";
  for (int i = 0; i < zones; ++i)
    out << "m5.large,,,2.0,8.0,,0.096," << 0.02 + 0.0001 * i << ","
        << region_name(i) << "," << zone_name(i) << ",x86_64\n";
}

// No spot capacity for m5.large in the first `blocked` zones.
void write_scenario(const std::filesystem::path& file, int blocked) {
  std::ofstream out{file};
  if (blocked == 0) {
    out << "seed: 0\n"; // plenty of everything
    return;
  }
  out << "clouds:\n  aws:\n    regions:\n";
  std::string region;
  for (int i = 0; i < blocked; ++i) {
    if (region_name(i) != region) {
      region = region_name(i);
      out << "      " << region << ":\n        zones:\n";
    }
    out << "          " << zone_name(i)
        << ":\n            capacity: {spot: {m5.large: 0}}\n";
  }
}

bool launch_detached(client::connection& conn, const std::string& cluster,
                     const std::string& yaml) {
  protocol::launch_request req;
  req.cluster = cluster;
  req.pipeline.tasks.push_back(bench::task_of(yaml));
  req.detach = true;
  auto s = conn.open_stream("launch", protocol::encode(req), 64);
  if (!s)
    return false;
  while (true) {
    auto f = conn.next(*s, minutes(5));
    if (!f) {
      std::fprintf(stderr, "launch %s failed: %s\n", cluster.c_str(),
                   describe(f.error()).message.c_str());
      return false;
    }
    if (f->final())
      return true;
  }
}

std::string config(const std::filesystem::path& dir, bool sync,
                   const std::string& mode) {
  return "catalogs:\n  dir: " + (dir / "catalogs").string()
         + "\nsim:\n  clouds: [aws]\n  mode: " + mode
         + "\n  scenario: " + (dir / "scenario.yaml").string()
         + "\nevents:\n  sync: " + (sync ? "true" : "false") + "\n";
}

} // namespace

int main(int argc, char** argv) {
  int zones = argc > 1 ? std::atoi(argv[1]) : 100;
  int clusters = argc > 2 ? std::atoi(argv[2]) : 1000;
  testing::temp_dir data{"sky-simbench"};
  write_catalog(data.path() / "catalogs", zones + 1);
  write_scenario(data.path() / "scenario.yaml", zones);
  const std::string spot_task = "resources:\n  infra: aws\n  instance_type: "
                                "m5.large\n  use_spot: true\nrun: 'true'\n";

  std::printf("simulated clouds: failover through %d zones\n", zones);
  for (bool sync : {true, false}) {
    bench::bench_daemon d{config(data.path(), sync, "virtual")};
    auto conn = d.connect();
    std::vector<double> runs;
    for (int i = 0; i < 5; ++i) {
      auto start = steady_clock::now();
      if (!launch_detached(conn, "f" + std::to_string(i), spot_task))
        return 1;
      runs.push_back(
        duration<double, std::milli>(steady_clock::now() - start).count());
      d.skyctl({"down", "-y", "f" + std::to_string(i)});
    }
    double p50 = bench::percentile(runs, 50);
    auto what = std::to_string(zones) + " failed zones, then UP, p50"
                + (sync ? "" : " (events.sync off)");
    if (sync)
      bench::report(what, p50, "ms", "< 50 ms", p50 < 50);
    else
      bench::note(what, p50, "ms");
    auto events = d.skyctl({"events", "--topic", "cluster.f0", "-o", "json"});
    if (sync) {
      size_t failures = 0;
      for (size_t at = 0; (at = events.out.find("cluster.provision_failed", at))
                          != std::string::npos;
           ++at)
        ++failures;
      bench::note("  provisioning failures recorded for one launch",
                  static_cast<double>(failures), "");
    }
  }

  std::printf("simulated clouds: %d clusters at once (virtual mode)\n",
              clusters);
  write_scenario(data.path() / "scenario.yaml", 0);
  bench::bench_daemon d{config(data.path(), true, "virtual")};
  auto conn = d.connect();
  auto t0 = steady_clock::now();
  std::vector<uint64_t> streams;
  for (int i = 0; i < clusters; ++i) {
    protocol::launch_request req;
    req.cluster = "v" + std::to_string(i);
    req.pipeline.tasks.push_back(bench::task_of(spot_task));
    req.detach = true;
    auto s = conn.open_stream("launch", protocol::encode(req), 64);
    if (!s)
      return 1;
    streams.push_back(*s);
  }
  for (auto s : streams)
    while (true) {
      auto f = conn.next(s, minutes(5));
      if (!f) {
        std::fprintf(stderr, "launch failed: %s\n",
                     describe(f.error()).message.c_str());
        return 1;
      }
      if (f->final())
        break;
    }
  double secs = duration<double>(steady_clock::now() - t0).count();
  bench::report(std::to_string(clusters) + " clusters UP (virtual)", secs, "s",
                "< 2 s", secs < 2);
  bench::note("skyd RSS with them", bench::rss_mib_of(d.pid()), "MiB");
  return 0;
}
