#include <catch2/catch.hpp>

#include <cmath>

#include <algorithm>

#include "optimizer/placement/optimizer.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;
using sky::task::accelerator_spec;
using sky::task::resources_spec;

namespace {

struct fixture {
  sky::testing::temp_dir dir{"skyopt"};
  catalog_load_result loaded = load_fixture(dir.path());
  const catalog& cat = loaded.cat;
  enabled_infra clouds{{"aws", "lambda", "azure"}, {}};

  ranking run(const resources_spec& r, const enabled_infra& infra,
              int nodes = 1, const blocklist& b = {}) {
    auto out = optimize_resources(r, nodes, cat, infra, b);
    REQUIRE(out);
    return std::move(*out);
  }
  ranking run(const resources_spec& r, int nodes = 1, const blocklist& b = {}) {
    return run(r, clouds, nodes, b);
  }
};

resources_spec gpus(std::string name, double count) {
  resources_spec r;
  r.accelerators = {gpu(std::move(name), count)};
  return r;
}

/// "cloud/region[/zone] type price" per candidate, for whole-ranking checks.
std::vector<std::string> summary(const ranking& r) {
  std::vector<std::string> out;
  for (const auto& c : r.candidates) {
    char price[32];
    std::snprintf(price, sizeof price, "%.3f", c.hourly_price);
    out.push_back(c.infra() + " " + c.instance_type + " " + price);
  }
  return out;
}

std::vector<std::string> reasons(const ranking& r) {
  std::vector<std::string> out;
  for (const auto& e : r.exclusions)
    out.push_back(e.reason);
  return out;
}

bool has_reason(const ranking& r, const std::string& text) {
  auto all = reasons(r);
  return std::find(all.begin(), all.end(), text) != all.end();
}

} // namespace

TEST_CASE("optimize: no resources means 8+ vCPUs with 4 GiB per vCPU, "
          "cheapest type per region") {
  fixture f;
  auto r = f.run(resources_spec{});
  CHECK(summary(r)
        == std::vector<std::string>{
          "azure/eastus Standard_D8s_v5 0.384",
          "azure/westus2 Standard_D8s_v5 0.384",
          "aws/us-east-1 m.2x 0.400",
          "aws/eu-west-1 m.2x 0.440",
          "azure/australiacentral Standard_B12ms 0.634",
        });
  // On demand: one candidate per region, with the zones to try.
  CHECK(r.candidates[2].zone.empty());
  CHECK(r.candidates[2].zones
        == std::vector<std::string>{"use1-az1", "use1-az2"});
  CHECK(r.candidates[0].zones.empty()); // azure prices per region
  CHECK(reasons(r)
        == std::vector<std::string>{"lambda: no instance type with 8+ vCPUs "
                                    "and 4 GiB memory per vCPU"});
  CHECK(r.exclusions[0].kind == exclusion_kind::no_match);
}

TEST_CASE("optimize: spot is priced per zone") {
  fixture f;
  resources_spec r;
  r.cpus = task::cpus_spec{8, true};
  r.use_spot = true;
  auto rank = f.run(r);
  CHECK(summary(rank)
        == std::vector<std::string>{
          "azure/westus2 Standard_D8s_v5 0.070",
          "azure/eastus Standard_D8s_v5 0.080",
          "aws/us-east-1/use1-az2 m.2x 0.100",
          "aws/us-east-1/use1-az1 m.2x 0.120",
          "aws/eu-west-1/euw1-az1 m.2x 0.200",
        });
  CHECK(rank.candidates[2].use_spot);
  CHECK(rank.candidates[2].zones == std::vector<std::string>{"use1-az2"});
  auto lambda = f.run(gpus("A100", 8), enabled_infra{{"lambda"}, {}});
  REQUIRE(lambda.feasible());
  auto spot = gpus("A100", 8);
  spot.use_spot = true;
  auto none = f.run(spot, enabled_infra{{"lambda"}, {}});
  CHECK_FALSE(none.feasible());
  CHECK(reasons(none)
        == std::vector<std::string>{"lambda: no spot offer for A100:8"});
  CHECK(none.exclusions[0].kind == exclusion_kind::no_price);
}

TEST_CASE("optimize: cpus and memory, exact, at least, per vCPU") {
  fixture f;
  enabled_infra aws{{"aws"}, {}};
  resources_spec r;
  r.cpus = task::cpus_spec{8, false};
  r.memory = task::memory_spec{16, task::memory_spec::kind::exact};
  CHECK(summary(f.run(r, aws))
        == std::vector<std::string>{"aws/us-east-1 c.2x 0.300"});
  r.memory = task::memory_spec{48, task::memory_spec::kind::at_least};
  CHECK(summary(f.run(r, aws))
        == std::vector<std::string>{"aws/us-east-1 r.2x 0.500"});
  r.memory = task::memory_spec{2, task::memory_spec::kind::per_cpu};
  CHECK(summary(f.run(r, aws))
        == std::vector<std::string>{"aws/us-east-1 c.2x 0.300",
                                    "aws/eu-west-1 m.2x 0.440"});
  r.cpus = task::cpus_spec{2, false};
  r.memory.reset(); // memory defaults to 4x for CPU-only requests
  CHECK(summary(f.run(r, aws))
        == std::vector<std::string>{"aws/us-east-1 m.large 0.100"});
}

TEST_CASE("optimize: accelerators match name and count exactly") {
  fixture f;
  auto r = f.run(gpus("a100", 8), 2); // case-insensitive; 2 nodes
  CHECK(summary(r)
        == std::vector<std::string>{"lambda/us-east-1 gpu_8x_a100 28.000",
                                    "lambda/us-south-1 gpu_8x_a100 30.000",
                                    "aws/us-east-1 p.a100x8 64.000"});
  const auto& c = r.candidates[0];
  CHECK(c.accelerator == "A100");
  CHECK(c.accelerator_count == 8);
  CHECK(c.price_per_node == 14.0);
  CHECK(c.num_nodes == 2);
  CHECK(r.candidates[2].zones == std::vector<std::string>{"use1-az2"});
  CHECK(reasons(r) == std::vector<std::string>{"azure: does not offer A100"});

  auto three = f.run(gpus("A100", 3), enabled_infra{{"lambda"}, {}});
  CHECK(reasons(three)
        == std::vector<std::string>{"lambda: no A100:3 (counts offered: 8)"});
  auto typo = f.run(gpus("A1000", 8), enabled_infra{{"aws"}, {}});
  CHECK(reasons(typo)
        == std::vector<std::string>{
          "aws: no accelerator 'A1000' (did you mean 'A100'?)"});
}

TEST_CASE("optimize: fractional counts take a whole device, exact fractions "
          "their row") {
  fixture f;
  enabled_infra azure{{"azure"}, {}};
  CHECK(summary(f.run(gpus("A10", 0.5), azure))
        == std::vector<std::string>{"azure/eastus Standard_NV36_A10 3.200"});
  CHECK(summary(f.run(gpus("A10", 0.167), azure))
        == std::vector<std::string>{"azure/eastus Standard_NV6_A10 0.450"});
}

TEST_CASE("optimize: by device memory any GPU with enough memory matches") {
  fixture f;
  resources_spec r;
  r.accelerators = {gpu_memory(8, 80.0)};
  CHECK(summary(f.run(r))
        == std::vector<std::string>{"aws/us-east-1 p.h100x8 98.000"});
  r.accelerators = {gpu_memory(8, 40.0)};
  // One candidate per region: in aws/us-east-1 the A100 box (32) is
  // cheaper than the H100 one (98).
  const std::vector<std::string> at_least_40{
    "lambda/us-east-1 gpu_8x_a100 14.000",
    "lambda/us-south-1 gpu_8x_a100 15.000", "aws/us-east-1 p.a100x8 32.000"};
  CHECK(summary(f.run(r)) == at_least_40);
  // `24GB+` takes H100s too; `24GB` exactly 24 GB devices (A10G only).
  r.accelerators = {gpu_memory(1, 24.0)};
  CHECK(summary(f.run(r))
        == std::vector<std::string>{"aws/us-east-1 g.a10g 1.000",
                                    "lambda/us-east-1 gpu_1x_h100 2.500"});
  r.accelerators = {gpu_memory(1, 24.0, true)};
  CHECK(summary(f.run(r))
        == std::vector<std::string>{"aws/us-east-1 g.a10g 1.000"});
  // `NVIDIA:40GB+:8` (manufacturer matched case-insensitively).
  r.accelerators = {gpu_memory(8, 40.0, false, "nvidia")};
  CHECK(summary(f.run(r)) == at_least_40);
  r.accelerators = {gpu_memory(8, 40.0, false, "AMD")};
  auto amd = f.run(r, enabled_infra{{"aws"}, {}});
  CHECK_FALSE(amd.feasible());
  CHECK(reasons(amd)
        == std::vector<std::string>{"aws: no AMD:40GB+:8 (no 8x AMD GPU with "
                                    "at least 40 GB each)"});
}

TEST_CASE("optimize: ordered alternatives rank the earlier one first") {
  fixture f;
  resources_spec r;
  r.ordered = {gpus("H100", 8), gpus("A100", 8)};
  auto rank = f.run(r);
  // H100:8 (tier 0) wins although A100:8 (tier 1) is cheaper; the A100s
  // stay listed behind for failover.
  CHECK(summary(rank)
        == std::vector<std::string>{"aws/us-east-1 p.h100x8 98.000",
                                    "lambda/us-east-1 gpu_8x_a100 14.000",
                                    "lambda/us-south-1 gpu_8x_a100 15.000",
                                    "aws/us-east-1 p.a100x8 32.000"});
  CHECK(rank.candidates[0].tier == 0);
  CHECK(rank.candidates[1].tier == 1);
  CHECK(rank.candidates[1].alternative == 1);
  CHECK(rank.expanded.ordered);

  // The first alternative is infeasible: the second one wins.
  r.ordered[0].infra = task::infra_spec{"lambda", "", ""};
  rank = f.run(r);
  REQUIRE(rank.feasible());
  CHECK(rank.candidates[0].accelerator == "A100");
  CHECK(has_reason(rank, "lambda: no H100:8 (counts offered: 1)"));
}

TEST_CASE("optimize: any_of is the union, cheapest first, without "
          "duplicates") {
  fixture f;
  resources_spec r;
  r.any_of = {gpus("H100", 8), gpus("A100", 8)};
  auto rank = f.run(r);
  CHECK(summary(rank)
        == std::vector<std::string>{"lambda/us-east-1 gpu_8x_a100 14.000",
                                    "lambda/us-south-1 gpu_8x_a100 15.000",
                                    "aws/us-east-1 p.a100x8 32.000",
                                    "aws/us-east-1 p.h100x8 98.000"});
  resources_spec same;
  same.infra = task::infra_spec{"aws", "", ""};
  resources_spec a, b;
  a.cpus = task::cpus_spec{8, true};
  b.cpus = task::cpus_spec{8, false};
  same.any_of = {a, b};
  auto dedup = f.run(same);
  CHECK(summary(dedup)
        == std::vector<std::string>{"aws/us-east-1 m.2x 0.400",
                                    "aws/eu-west-1 m.2x 0.440"});
}

TEST_CASE("optimize: the blocklist excludes zones, regions, clouds, types") {
  fixture f;
  blocklist b;
  b.entries.push_back(block_entry{block_scope::zone,
                                  "aws",
                                  "us-east-1",
                                  "use1-az2",
                                  {},
                                  "no capacity",
                                  "failover"});
  auto rank = f.run(gpus("A100", 8), 1, b);
  CHECK(summary(rank)
        == std::vector<std::string>{"lambda/us-east-1 gpu_8x_a100 14.000",
                                    "lambda/us-south-1 gpu_8x_a100 15.000"});
  CHECK(has_reason(rank, "blocked: no capacity in aws/use1-az2 (failover)"));
  auto blocked = std::find_if(
    rank.exclusions.begin(), rank.exclusions.end(),
    [](const exclusion& e) { return e.kind == exclusion_kind::blocked; });
  REQUIRE(blocked != rank.exclusions.end());
  CHECK(blocked->infra == "aws/use1-az2");

  // A blocked zone leaves the region's other zones for on demand.
  auto cpu = f.run(resources_spec{}, enabled_infra{{"aws"}, {}}, 1, b);
  REQUIRE(cpu.candidates.size() == 2);
  CHECK(cpu.candidates[0].zones == std::vector<std::string>{"use1-az1"});

  blocklist regional;
  regional.entries.push_back(block_entry{block_scope::region,
                                         "lambda",
                                         "us-east-1",
                                         "",
                                         {},
                                         "quota exceeded",
                                         "failover"});
  regional.entries.push_back(
    block_entry{block_scope::cloud, "aws", "", "", {}, "auth", "failover"});
  rank = f.run(gpus("A100", 8), 1, regional);
  CHECK(summary(rank)
        == std::vector<std::string>{"lambda/us-south-1 gpu_8x_a100 15.000"});
  CHECK(
    has_reason(rank, "blocked: quota exceeded in lambda/us-east-1 (failover)"));
  CHECK(has_reason(rank, "blocked: auth in aws (failover)"));

  // One instance type blocked in a region: the next cheapest type there.
  blocklist typed;
  typed.entries.push_back(block_entry{block_scope::region, "aws", "us-east-1",
                                      "", std::string{"m.2x"}, "no capacity",
                                      "failover"});
  rank = f.run(resources_spec{}, enabled_infra{{"aws"}, {}}, 1, typed);
  CHECK(summary(rank)
        == std::vector<std::string>{"aws/eu-west-1 m.2x 0.440",
                                    "aws/us-east-1 r.2x 0.500"});
  CHECK(has_reason(rank, "blocked: no capacity for m.2x in aws/us-east-1 "
                         "(failover)"));

  // Spot: the blocked zone only.
  resources_spec spot;
  spot.cpus = task::cpus_spec{8, true};
  spot.use_spot = true;
  rank = f.run(spot, enabled_infra{{"aws"}, {}}, 1, b);
  CHECK(summary(rank)
        == std::vector<std::string>{"aws/us-east-1/use1-az1 m.2x 0.120",
                                    "aws/eu-west-1/euw1-az1 m.2x 0.200"});
}

TEST_CASE("optimize: max_hourly_cost applies to all nodes together") {
  fixture f;
  auto r = gpus("A100", 8);
  r.max_hourly_cost = 14.5;
  auto rank = f.run(r);
  CHECK(summary(rank)
        == std::vector<std::string>{"lambda/us-east-1 gpu_8x_a100 14.000"});
  CHECK(has_reason(rank, "lambda: 1 of 2 regions exceed max_hourly_cost "
                         "(cheapest $15.00/h > $14.50/h)"));
  CHECK(has_reason(rank, "aws: exceeds max_hourly_cost ($32.00/h > $14.50/h)"));
  r.max_hourly_cost = 20;
  rank = f.run(r, 2);
  CHECK_FALSE(rank.feasible());
  CHECK(
    has_reason(rank, "lambda: exceeds max_hourly_cost ($28.00/h > $20.00/h)"));
  for (const auto& e : rank.exclusions)
    if (e.infra != "azure")
      CHECK(e.kind == exclusion_kind::too_expensive);
}

TEST_CASE("optimize: local is free but only within its free capacity") {
  fixture f;
  fixed_capacity_infra local{"local", "", {{4, 16, {{"A100", 1, {}}}}}};
  enabled_infra infra{{"aws"}, {local}};
  auto rank = f.run(resources_spec{}, infra);
  REQUIRE(rank.feasible());
  const auto& c = rank.candidates[0];
  CHECK(c.cloud == "local");
  CHECK(c.fixed_capacity);
  CHECK(c.hourly_price == 0);
  // A task that states nothing reserves nothing on fixed-capacity infra.
  CHECK(std::isnan(c.vcpus));
  CHECK(std::isnan(c.memory_gib));
  CHECK(c.infra() == "local");

  resources_spec big;
  big.cpus = task::cpus_spec{8, true};
  rank = f.run(big, infra);
  CHECK(rank.candidates[0].cloud == "aws");
  CHECK(has_reason(rank, "local: needs 8 vCPUs, 4 free"));
  auto local_reason
    = std::find_if(rank.exclusions.begin(), rank.exclusions.end(),
                   [](const exclusion& e) { return e.infra == "local"; });
  REQUIRE(local_reason != rank.exclusions.end());
  CHECK(local_reason->kind == exclusion_kind::no_free_capacity);

  auto one = f.run(gpus("a100", 1), infra);
  REQUIRE(one.feasible());
  CHECK(one.candidates[0].cloud == "local");
  CHECK(one.candidates[0].accelerator == "A100");
  CHECK(std::isnan(one.candidates[0].memory_gib)); // only the GPU is taken
  auto two = f.run(gpus("A100", 2), infra);
  CHECK(has_reason(two, "local: needs A100:2, 1 free"));

  resources_spec mem;
  mem.memory = task::memory_spec{32, task::memory_spec::kind::at_least};
  CHECK(has_reason(f.run(mem, infra), "local: needs 32 GiB memory, 16 free"));

  // Nodes share the host: 2 x 2 vCPUs fit in 4, 3 x 2 do not; nodes that
  // state nothing always fit.
  resources_spec two_cpus;
  two_cpus.cpus = task::cpus_spec{2, false};
  CHECK(f.run(two_cpus, infra, 2).candidates[0].cloud == "local");
  CHECK(has_reason(f.run(two_cpus, infra, 3), "local: needs 6 vCPUs, 4 free"));
  CHECK(f.run(resources_spec{}, infra, 16).candidates[0].cloud == "local");

  resources_spec spot;
  spot.use_spot = true;
  CHECK(has_reason(f.run(spot, infra), "local: offers no spot capacity"));
  resources_spec typed;
  typed.instance_type = "m.2x";
  CHECK(has_reason(f.run(typed, infra),
                   "local: has no instance types (asked for 'm.2x')"));

  blocklist b;
  b.entries.push_back(block_entry{
    block_scope::cloud, "local", "", "", {}, "setup failed", "failover"});
  CHECK(has_reason(f.run(resources_spec{}, infra, 1, b),
                   "blocked: setup failed in local (failover)"));
}

TEST_CASE("optimize: fixed-capacity pools pack whole nodes per machine") {
  fixture f;
  fixed_capacity_infra pool{"ssh", "lab", {{4, 16, {}}, {2, 16, {}}}};
  enabled_infra infra{{}, {pool}};
  resources_spec r;
  r.cpus = task::cpus_spec{2, false};
  auto rank = f.run(r, infra, 3);
  REQUIRE(rank.feasible());
  CHECK(rank.candidates[0].infra() == "ssh/lab");
  r.cpus = task::cpus_spec{3, false};
  r.memory = task::memory_spec{1, task::memory_spec::kind::exact};
  rank = f.run(r, infra, 2);
  CHECK(has_reason(rank, "ssh/lab: room for 1 of 2 nodes of 3 vCPUs, 1 GiB "
                         "memory (free capacity is split across machines)"));
  r.infra = task::infra_spec{"ssh", "other", ""};
  rank = f.run(r, infra);
  CHECK(has_reason(rank, "ssh: no pool or cluster named 'other'"));
}

TEST_CASE("optimize: whole-machine pools take one node per host and name "
          "each host in refusals") {
  fixture f;
  fixed_capacity_infra pool{"ssh", "lab", {}};
  pool.whole_machines = true;
  pool.nodes = {{8, 32, {}, "10.0.0.1:22"}, {2, 16, {}, "10.0.0.2:22"}};
  pool.unavailable = {"10.0.0.3:22 (held by a cluster)"};
  enabled_infra infra{{}, {pool}};
  // Packing would fit 4 nodes of 2 vCPUs on the first host: whole hosts
  // give only 2.
  resources_spec r;
  r.cpus = task::cpus_spec{2, false};
  CHECK(f.run(r, infra, 2).feasible());
  auto rank = f.run(r, infra, 3);
  CHECK_FALSE(rank.feasible());
  CHECK(has_reason(rank, "ssh/lab: needs 3 whole hosts with 2 vCPUs each, 2 "
                         "of 3 available: 10.0.0.3:22 (held by a cluster)"));
  // A task that states nothing still takes a whole host.
  CHECK(f.run(resources_spec{}, infra, 2).feasible());
  CHECK_FALSE(f.run(resources_spec{}, infra, 3).feasible());
  r.cpus = task::cpus_spec{4, false};
  rank = f.run(r, infra, 2);
  CHECK(has_reason(rank, "ssh/lab: needs 2 whole hosts with 4 vCPUs each, 1 "
                         "of 3 available: 10.0.0.2:22 (has 2 vCPUs), "
                         "10.0.0.3:22 (held by a cluster)"));
  auto gpu = gpus("A100", 1);
  gpu.infra = task::infra_spec{"ssh", "lab", ""};
  rank = f.run(gpu, infra);
  auto all = reasons(rank);
  INFO(all.size());
  CHECK(std::any_of(all.begin(), all.end(), [](const std::string& s) {
    return s.find("10.0.0.1:22 (has no A100), 10.0.0.2:22 (has no A100)")
           != std::string::npos;
  }));
}

namespace {

const exclusion* exclusion_of(const ranking& rank, const std::string& infra) {
  for (const auto& e : rank.exclusions)
    if (e.infra == infra)
      return &e;
  return nullptr;
}

} // namespace

TEST_CASE("optimize: a task bigger than fixed infra's whole machines is "
          "refused for good, one that waits for free capacity is not") {
  fixture f;
  // 4 vCPUs and one A100 free, of 8 vCPUs and two A100 in all.
  fixed_capacity_infra local{"local", "", {{4, 16, {{"A100", 1, {}}}}}};
  local.whole = std::vector<node_capacity>{{8, 32, {{"A100", 2, {}}}}};
  enabled_infra infra{{}, {local}};

  // Fits when the host is idle: waiting may help.
  auto rank = f.run(gpus("A100", 2), infra);
  REQUIRE(exclusion_of(rank, "local") != nullptr);
  CHECK(exclusion_of(rank, "local")->kind == exclusion_kind::no_free_capacity);
  CHECK(has_reason(rank, "local: needs A100:2, 1 free"));

  // Never fits: a GPU the host does not have, more GPUs or vCPUs than it has.
  rank = f.run(gpus("H100", 1), infra);
  REQUIRE(exclusion_of(rank, "local") != nullptr);
  CAPTURE(reasons(rank));
  CHECK(exclusion_of(rank, "local")->kind == exclusion_kind::no_match);
  CHECK(has_reason(rank, "local: can never run here: needs H100, none in all"));
  rank = f.run(gpus("A100", 4), infra);
  CHECK(exclusion_of(rank, "local")->kind == exclusion_kind::no_match);
  CHECK(has_reason(rank, "local: can never run here: needs A100:4, 2 in all"));
  resources_spec big;
  big.cpus = task::cpus_spec{16, true};
  CHECK(has_reason(f.run(big, infra),
                   "local: can never run here: needs 16 vCPUs, 8 in all"));

  // Without the whole capacity (a machine that does not answer), no
  // refusal is final.
  local.whole.reset();
  rank = f.run(gpus("H100", 1), enabled_infra{{}, {local}});
  CHECK(exclusion_of(rank, "local")->kind == exclusion_kind::no_free_capacity);
}

TEST_CASE("optimize: whole-machine pools refuse for good only what no host "
          "could take") {
  fixture f;
  fixed_capacity_infra pool{"ssh", "lab", {}};
  pool.whole_machines = true;
  pool.nodes = {{8, 32, {}, "10.0.0.1:22"}};
  pool.unavailable = {"10.0.0.2:22 (held by a cluster)"};
  pool.whole = std::vector<node_capacity>{
    {8, 32, {}, "10.0.0.1:22"}, {16, 64, {{"L4", 1, {}}}, "10.0.0.2:22"}};
  enabled_infra infra{{}, {pool}};
  auto l4 = gpus("L4", 1);
  auto rank = f.run(l4, infra);
  CHECK(exclusion_of(rank, "ssh/lab")->kind
        == exclusion_kind::no_free_capacity);
  auto h100 = gpus("H100", 1);
  rank = f.run(h100, infra);
  CAPTURE(reasons(rank));
  CHECK(exclusion_of(rank, "ssh/lab")->kind == exclusion_kind::no_match);
  CHECK(has_reason(rank, "ssh/lab: can never run here: needs 1 whole host "
                         "with H100 each, 0 of 2 suitable: 10.0.0.1:22 "
                         "(has no H100), 10.0.0.2:22 (has no H100)"));
}

TEST_CASE("optimize: infra filters and their reasons") {
  fixture f;
  auto h100 = gpus("H100", 1);
  h100.infra = task::infra_spec{"lambda", "us-south-1", ""};
  auto rank = f.run(h100);
  CHECK(reasons(rank)
        == std::vector<std::string>{"no H100 in lambda/us-south-1"});
  CHECK(rank.exclusions[0].infra == "lambda/us-south-1");

  resources_spec gcp;
  gcp.infra = task::infra_spec{"gcp", "", ""};
  CHECK(reasons(f.run(gcp))
        == std::vector<std::string>{
          "gcp: not enabled (enabled: aws, lambda, azure)"});

  resources_spec typo;
  typo.infra = task::infra_spec{"aws", "us-east1", ""};
  rank = f.run(typo);
  CHECK(reasons(rank)
        == std::vector<std::string>{
          "aws: no region 'us-east1' (did you mean 'us-east-1'?)"});
  CHECK(rank.exclusions[0].kind == exclusion_kind::unknown_location);

  resources_spec zoned;
  zoned.infra = task::infra_spec{"azure", "eastus", "1"};
  CHECK(reasons(f.run(zoned))
        == std::vector<std::string>{
          "azure: prices per region and has no zones (asked for zone '1')"});

  resources_spec zone_ok;
  zone_ok.infra = task::infra_spec{"aws", "*", "use1-az2"};
  rank = f.run(zone_ok);
  CHECK(summary(rank) == std::vector<std::string>{"aws/us-east-1 m.2x 0.400"});
  CHECK(rank.candidates[0].zones == std::vector<std::string>{"use1-az2"});

  resources_spec type_typo;
  type_typo.instance_type = "m.2y";
  type_typo.infra = task::infra_spec{"aws", "", ""};
  CHECK(reasons(f.run(type_typo))
        == std::vector<std::string>{
          "aws: no instance type 'm.2y' (did you mean 'm.2x'?)"});

  resources_spec shape;
  shape.accelerators = {gpu("A100", 8)};
  shape.cpus = task::cpus_spec{200, true};
  shape.infra = task::infra_spec{"lambda", "", ""};
  CHECK(reasons(f.run(shape))
        == std::vector<std::string>{
          "lambda: no instance type with 200+ vCPUs and A100:8"});
}

TEST_CASE("optimize: infeasible requests give errc::no_capacity with "
          "reasons, invalid ones an error") {
  fixture f;
  auto r = f.run(gpus("H100", 3));
  auto best = best_candidate(r);
  REQUIRE_FALSE(best);
  auto info = describe(best.error());
  CHECK(info.code == errc::no_capacity);
  CHECK(info.message.find("aws: no H100:3 (counts offered: 8)")
        != std::string::npos);
  CHECK(best_candidate(f.run(gpus("A100", 8))));
  auto nothing = f.run(resources_spec{}, enabled_infra{});
  CHECK(reasons(nothing)
        == std::vector<std::string>{
          "no infra is enabled (enable clouds in sim.clouds, or local)"});

  auto bad = optimize_resources(resources_spec{}, 0, f.cat, f.clouds);
  REQUIRE_FALSE(bad);
  CHECK(describe(bad.error()).code == errc::invalid_argument);
  task::task_spec t;
  t.num_nodes = 2;
  t.resources = gpus("A100", 8);
  auto whole = optimize(t, f.cat, f.clouds);
  REQUIRE(whole);
  CHECK(whole->num_nodes == 2);
  CHECK(whole->candidates[0].hourly_price == 28.0);
}

TEST_CASE("optimize: the same inputs give the same ranking") {
  fixture f;
  resources_spec r;
  r.any_of = {gpus("A100", 8), gpus("H100", 8), resources_spec{}};
  auto a = f.run(r);
  auto b = f.run(r);
  CHECK(summary(a) == summary(b));
  CHECK(reasons(a) == reasons(b));
}
