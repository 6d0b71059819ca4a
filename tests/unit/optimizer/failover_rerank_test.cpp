// without_blocked must agree with the optimizer: wherever it answers, its
// candidates are exactly those optimize() ranks with the block added. The
// walks below fail over through the repository's catalogs the way a launch
// does (block the first candidate, take the next) and compare every step.

#include <catch2/catch.hpp>

#include <tuple>

#include "optimizer/placement/failover_rerank.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;

namespace {

const catalog& repo_catalog() {
  static auto loaded
    = load_catalogs(std::filesystem::path{SKY_SOURCE_DIR} / "data/catalogs");
  REQUIRE(loaded);
  return loaded->cat;
}

auto identity(const candidate& c) {
  return std::tie(c.cloud, c.region, c.zone, c.zones, c.instance_type,
                  c.accelerator, c.accelerator_count, c.use_spot,
                  c.hourly_price, c.alternative);
}

bool same_candidates(const ranking& a, const ranking& b) {
  if (a.candidates.size() != b.candidates.size())
    return false;
  for (size_t i = 0; i < a.candidates.size(); ++i)
    if (identity(a.candidates[i]) != identity(b.candidates[i]))
      return false;
  return true;
}

// What failover blocks after the first candidate fails with an error of
// `scope` (as optimizer/placement/failover_text.cpp builds it).
block_entry block_for(const candidate& c, block_scope scope) {
  block_entry b;
  b.cloud = c.cloud;
  b.scope = scope;
  if (scope != block_scope::cloud)
    b.region = c.region;
  if (scope == block_scope::zone) {
    b.zone = c.zone.empty() && !c.zones.empty() ? c.zones.front() : c.zone;
    if (b.zone.empty())
      b.scope = block_scope::region;
  }
  return b;
}

task::task_spec task_of(task::resources_spec r, int nodes = 1) {
  task::task_spec t;
  t.resources = std::move(r);
  t.num_nodes = nodes;
  return t;
}

struct walk_result {
  size_t steps = 0;
  size_t answered = 0;
};

// Fails over through up to `limit` attempts, blocking with `scope`.
walk_result walk(const task::task_spec& task, block_scope scope,
                 size_t limit = 400) {
  const auto& cat = repo_catalog();
  enabled_infra infra{{"aws", "gcp", "azure", "lambda"}, {}};
  blocklist blocked;
  auto held = optimize(task, cat, infra, blocked);
  REQUIRE(held);
  walk_result w;
  ranking current = *held;
  while (current.feasible() && w.steps < limit) {
    auto block = block_for(current.candidates.front(), scope);
    auto local = without_blocked(current, block);
    blocked.entries.push_back(block);
    auto fresh = optimize(task, cat, infra, blocked);
    REQUIRE(fresh);
    ++w.steps;
    if (local) {
      ++w.answered;
      INFO("step " << w.steps << " after blocking " << scope_text(block));
      REQUIRE(same_candidates(*local, *fresh));
      CHECK(std::any_of(
        local->exclusions.begin(), local->exclusions.end(),
        [](const exclusion& e) { return e.kind == exclusion_kind::blocked; }));
    }
    current = std::move(*fresh);
  }
  return w;
}

} // namespace

TEST_CASE("failover rerank: spot zones, regions and clouds match the "
          "optimizer at every step") {
  task::resources_spec spot;
  spot.use_spot = true;
  spot.cpus = task::cpus_spec{4, true};
  auto zones = walk(task_of(spot), block_scope::zone);
  CHECK(zones.steps > 10); // the repository catalogs' spot zones
  // Every spot zone block is answered locally but the last (nothing left).
  CHECK(zones.answered + 1 >= zones.steps);
  auto regions = walk(task_of(spot), block_scope::region);
  CHECK(regions.answered + 1 >= regions.steps);
  auto clouds = walk(task_of(spot), block_scope::cloud);
  CHECK(clouds.steps >= 2);
  CHECK(clouds.answered + 1 >= clouds.steps);
}

TEST_CASE("failover rerank: on-demand GPU tasks, multi-node and any_of "
          "alternatives") {
  task::resources_spec a100;
  a100.accelerators = {gpu("A100", 8)};
  walk(task_of(a100), block_scope::region);
  walk(task_of(a100, 4), block_scope::cloud);
  // On-demand zone blocks on zoned clouds are left to the optimizer (the
  // region's best offer may move to another zone or type); on clouds
  // priced per region they block the region and are answered here.
  auto zones = walk(task_of(a100), block_scope::zone);
  CHECK(zones.answered < zones.steps);

  task::resources_spec any;
  task::resources_spec spot_t4;
  spot_t4.accelerators = {gpu("T4", 1)};
  spot_t4.use_spot = true;
  task::resources_spec v100;
  v100.accelerators = {gpu("V100", 1)};
  any.any_of = {spot_t4, v100};
  walk(task_of(any), block_scope::zone);
  walk(task_of(any), block_scope::region);
}

TEST_CASE("failover rerank: blocks it cannot answer exactly go to the "
          "optimizer") {
  ranking held;
  candidate pool;
  pool.cloud = "ssh";
  pool.region = "gpus";
  pool.fixed_capacity = true;
  candidate spot;
  spot.cloud = "aws";
  spot.region = "us-east-1";
  spot.zone = "us-east-1a";
  spot.zones = {"us-east-1a"};
  spot.use_spot = true;
  held.candidates = {spot, pool};

  block_entry one_type = block_for(spot, block_scope::zone);
  one_type.instance_type = "m5.large";
  CHECK_FALSE(without_blocked(held, one_type)); // other types stay

  block_entry on_pool;
  on_pool.cloud = "ssh";
  on_pool.scope = block_scope::region;
  on_pool.region = "gpus";
  CHECK_FALSE(without_blocked(held, on_pool)); // free capacity changes

  // Removing the last candidate: the optimizer's exclusions explain it.
  ranking only_spot;
  only_spot.candidates = {spot};
  CHECK_FALSE(without_blocked(only_spot, block_for(spot, block_scope::zone)));

  // A block elsewhere changes nothing.
  block_entry gcp;
  gcp.cloud = "gcp";
  gcp.scope = block_scope::cloud;
  auto same = without_blocked(held, gcp);
  REQUIRE(same);
  CHECK(same->candidates.size() == 2);
}
