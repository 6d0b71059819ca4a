#include <catch2/catch.hpp>

#include "actors/failover_text.hpp"
#include "actors/infra_check.hpp"
#include "actors/sim_watch.hpp"

using namespace sky;
using namespace sky::actors;

namespace {

optimizer::candidate on_demand_gcp() {
  optimizer::candidate c;
  c.cloud = "gcp";
  c.region = "us-central1";
  c.zones = {"us-central1-a", "us-central1-b"};
  c.instance_type = "a2-highgpu-8g";
  return c;
}

} // namespace

TEST_CASE("failover blocks the zone tried, the region or the cloud") {
  auto c = on_demand_gcp();
  auto zone = failover_block(c, "us-central1-a", providers::failure_scope::zone,
                             "no capacity");
  CHECK(zone.scope == optimizer::block_scope::zone);
  CHECK(zone.zone == "us-central1-a");
  CHECK(zone.region == "us-central1");
  CHECK(zone.source == "failover");
  CHECK(failover_block(c, "us-central1-a", providers::failure_scope::region,
                       "quota")
          .scope
        == optimizer::block_scope::region);
  CHECK(
    failover_block(c, "us-central1-a", providers::failure_scope::cloud, "auth")
      .scope
    == optimizer::block_scope::cloud);
  // A region-priced cloud (no zone at all): the region.
  auto azure = c;
  azure.cloud = "azure";
  azure.zones.clear();
  CHECK(failover_block(azure, "", providers::failure_scope::zone, "x").scope
        == optimizer::block_scope::region);
  // Fixed-capacity infra is all or nothing.
  optimizer::candidate local;
  local.cloud = "local";
  local.fixed_capacity = true;
  CHECK(failover_block(local, "", providers::failure_scope::zone, "x").scope
        == optimizer::block_scope::region);
}

TEST_CASE("one failover line per attempt, without repeating the place") {
  CHECK(failover_line("gcp/us-central1/us-central1-a", "a2-highgpu-8g",
                      "gcp/us-central1/us-central1-a (simulated): no on-demand "
                      "capacity for 8 A100",
                      optimizer::block_scope::zone)
        == "gcp/us-central1/us-central1-a a2-highgpu-8g (simulated): no "
           "on-demand capacity for 8 A100 (zone blocked), trying the next "
           "candidate");
  // The message names a wider place (the region): still the same place.
  CHECK(failover_line("gcp/us-central1/us-central1-a", "a2-highgpu-8g",
                      "gcp/us-central1 (simulated): quota exceeded",
                      optimizer::block_scope::region)
        == "gcp/us-central1/us-central1-a a2-highgpu-8g (simulated): quota "
           "exceeded (region blocked), trying the next candidate");
  // Messages that do not start with the place are kept whole.
  CHECK(failover_line("aws/us-east-1", "p4d.24xlarge",
                      "credentials: expired token",
                      optimizer::block_scope::cloud)
        == "aws/us-east-1 p4d.24xlarge: credentials: expired token (cloud "
           "blocked), trying the next candidate");
  CHECK(failover_line("local", "", "not enough free CPUs",
                      optimizer::block_scope::region)
        == "local: not enough free CPUs (region blocked), trying the next "
           "candidate");
  // A place that only shares a prefix is another place.
  CHECK(failover_line("gcp/us-central1", "n2", "gcp/us-central10: x",
                      optimizer::block_scope::zone)
        == "gcp/us-central1 n2: gcp/us-central10: x (zone blocked), trying "
           "the next candidate");
}

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
