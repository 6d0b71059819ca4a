#include <catch2/catch.hpp>

#include "optimizer/placement/failover_text.hpp"

using namespace sky;
using namespace sky::optimizer;

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
  auto zone
    = failover_block(c, "us-central1-a", failure_scope::zone, "no capacity");
  CHECK(zone.scope == optimizer::block_scope::zone);
  CHECK(zone.zone == "us-central1-a");
  CHECK(zone.region == "us-central1");
  CHECK(zone.source == "failover");
  CHECK(failover_block(c, "us-central1-a", failure_scope::region, "quota").scope
        == optimizer::block_scope::region);
  CHECK(failover_block(c, "us-central1-a", failure_scope::cloud, "auth").scope
        == optimizer::block_scope::cloud);
  // A region-priced cloud (no zone at all): the region.
  auto azure = c;
  azure.cloud = "azure";
  azure.zones.clear();
  CHECK(failover_block(azure, "", failure_scope::zone, "x").scope
        == optimizer::block_scope::region);
  // Fixed-capacity infra is all or nothing.
  optimizer::candidate local;
  local.cloud = "local";
  local.fixed_capacity = true;
  CHECK(failover_block(local, "", failure_scope::zone, "x").scope
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
