#include <catch2/catch.hpp>

#include "actors/sim/sim_watch.hpp"
#include "actors/wire/infra_check.hpp"

using namespace sky;
using namespace sky::actors;

TEST_CASE("check rows: local, simulated clouds, the catalog's others, ssh, "
          "slurm, kubernetes") {
  infra_settings s;
  s.catalogs_dir = "/cat";
  s.sim_clouds = {"gcp", "aws"};
  s.sim_mode = "real";
  s.home = "/h";
  s.providers = {"local", "gcp", "aws"};
  infra_facts f;
  f.catalog_clouds = {"aws", "azure", "gcp"};
  auto r = describe_infra(s, f);
  std::vector<std::string> names;
  for (const auto& row : r.infra)
    names.push_back(row.name);
  CHECK(names
        == std::vector<std::string>{"local", "gcp", "aws", "azure", "ssh",
                                    "slurm", "kubernetes"});
  CHECK(r.infra[1].status == "enabled");
  CHECK(r.infra[1].simulated);
  CHECK(r.infra[1].detail.find("/cat/gcp/vms.csv") != std::string::npos);
  CHECK(r.infra[3].status == "not configured");
  CHECK(r.infra[3].hint.find("sim.clouds: [gcp, aws, azure]")
        != std::string::npos);
  CHECK(r.infra[4].status == "not configured");
  CHECK(r.infra[4].detail == "no /h/ssh_node_pools.yaml");
  CHECK(r.infra[5].status == "not supported");
  CHECK(r.sim_mode == "real");

  f.ssh_pools = 3;
  CHECK(describe_infra(s, f).infra[4].detail.find("3 node pool(s)")
        != std::string::npos);
  s.providers.push_back("ssh");
  CHECK(describe_infra(s, f).infra[4].status == "enabled");
  // No simulated cloud: no sim mode shown, every catalog cloud not
  // configured.
  infra_settings none;
  none.catalogs_dir = "/cat";
  none.providers = {"local"};
  auto plain = describe_infra(none, f);
  CHECK(plain.sim_mode.empty());
  CHECK(plain.infra[1].name == "aws");
  CHECK(plain.infra[1].status == "not configured");
}

TEST_CASE("the sim watcher sleeps until the next preemption, at most its "
          "interval") {
  using namespace std::chrono_literals;
  caf::timespan max = 1s;
  CHECK(sim_watch_delay(1000, std::nullopt, max) == max);
  CHECK(sim_watch_delay(1000, 1250, max) == caf::timespan{250ms});
  CHECK(sim_watch_delay(1000, 900, max) == caf::timespan{1ms});
  CHECK(sim_watch_delay(1000, 100'000, max) == max);
}
