// The sample scenarios of examples/sim/ against skyd's default catalog,
// driven the way failover drives providers: rank with the optimizer, try
// the best candidate, block what the error's scope names, rank again.

#include <catch2/catch.hpp>

#include <map>

#include "messages/task/parse_task.hpp"
#include "optimizer/placement/optimizer.hpp"
#include "sim_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
using Catch::Matchers::Contains;

namespace {

const std::filesystem::path source_dir{SKY_SOURCE_DIR};

struct demo {
  sky::testing::temp_dir dir{"simf"};
  std::shared_ptr<const optimizer::catalog> catalog;
  std::shared_ptr<int64_t> clock = std::make_shared<int64_t>(1'700'000'000'000);
  std::shared_ptr<sim_world> world;
  std::map<std::string, std::shared_ptr<sim_provider>> providers;

  demo(const std::vector<std::string>& clouds, const std::string& scenario) {
    auto loaded = optimizer::load_catalogs(source_dir / "data" / "catalogs");
    REQUIRE(loaded);
    catalog
      = std::make_shared<const optimizer::catalog>(std::move(loaded->cat));
    sim_settings s;
    s.root = dir.path();
    s.catalog = catalog;
    s.clouds = clouds;
    s.scenario_file = source_dir / "examples" / "sim" / scenario;
    s.mode = sim_node_mode::virtual_nodes;
    s.virtual_time = true;
    s.sync_writes = false;
    auto c = clock;
    s.now_ms = [c] { return *c; };
    auto w = sim_world::open(s);
    if (!w)
      FAIL(text_of(w.error()));
    world = *w;
    for (auto& p : make_sim_providers(world))
      providers[p->name()] = p;
  }
};

task::task_spec task_of(const std::string& yaml) {
  auto p = task::parse_task_yaml(yaml, "task.yaml");
  REQUIRE(p);
  return p->tasks.at(0);
}

/// What the cluster actor blocks for an error
/// (actors/cluster/cluster_launch.cpp).
optimizer::block_entry block_for(const optimizer::candidate& c,
                                 failure_scope scope) {
  optimizer::block_entry e;
  e.cloud = c.cloud;
  if (scope == failure_scope::cloud) {
    e.scope = optimizer::block_scope::cloud;
  } else if (scope == failure_scope::region || c.zone.empty()) {
    e.scope = optimizer::block_scope::region;
    e.region = c.region;
  } else {
    e.scope = optimizer::block_scope::zone;
    e.region = c.region;
    e.zone = c.zone;
  }
  return e;
}

struct outcome {
  std::optional<optimizer::candidate> landed;
  std::vector<std::string> failures;
};

outcome launch(demo& d, const task::task_spec& task,
               const std::vector<std::string>& clouds) {
  optimizer::enabled_infra infra{clouds, {}};
  optimizer::blocklist blocked;
  outcome out;
  for (uint32_t attempt = 1; attempt <= 20; ++attempt) {
    auto ranked = optimizer::optimize(task, *d.catalog, infra, blocked);
    REQUIRE(ranked);
    if (!ranked->feasible())
      return out;
    const auto& best = ranked->candidates.front();
    provision_request req;
    req.cluster = "demo";
    req.attempt = attempt;
    req.region = best.region;
    req.zone = best.zone.empty() && !best.zones.empty() ? best.zones.front()
                                                        : best.zone;
    req.instance_type = best.instance_type;
    req.use_spot = best.use_spot;
    req.num_nodes = static_cast<uint32_t>(best.num_nodes);
    auto r = d.providers.at(best.cloud)->run_instances(req);
    if (r) {
      out.landed = best;
      return out;
    }
    out.failures.push_back(describe(r.error()).message);
    blocked.entries.push_back(block_for(best, scope_of(r.error())));
  }
  FAIL("failover did not end");
  return out;
}

} // namespace

TEST_CASE("sim demo: A100:8 has capacity only in the third-cheapest "
          "region") {
  const std::vector<std::string> clouds{"gcp", "azure", "aws"};
  demo d{clouds, "failover-a100.yaml"};
  auto task = task_of("resources:\n  accelerators: A100:8\n");
  // The third-cheapest region, as the optimizer ranks them.
  optimizer::enabled_infra infra{clouds, {}};
  auto ranked = optimizer::optimize(task, *d.catalog, infra);
  REQUIRE(ranked);
  std::vector<std::string> regions;
  for (const auto& c : ranked->candidates) {
    auto r = c.cloud + "/" + c.region;
    if (std::find(regions.begin(), regions.end(), r) == regions.end())
      regions.push_back(r);
  }
  REQUIRE(regions.size() >= 3);
  CHECK(regions[2] == "azure/eastus");

  auto out = launch(d, task, clouds);
  REQUIRE(out.landed);
  CHECK(out.landed->cloud + "/" + out.landed->region == regions[2]);
  CHECK(out.landed->instance_type == "Standard_ND96asr_v4");
  CHECK(out.landed->hourly_price == Approx(27.197));
  REQUIRE(out.failures.size() == 2);
  CHECK_THAT(out.failures[0],
             Contains("gcp/us-central1/us-central1-a (simulated): no "
                      "on-demand capacity for 8 A100 (a2-highgpu-8g)"));
  CHECK_THAT(out.failures[1],
             Contains("gcp/europe-west4/europe-west4-a (simulated): no "
                      "on-demand capacity for 8 A100"));
  // The landed cluster is real to the simulator, pending for 45 s.
  auto rec = d.providers.at("azure")->query_instances("demo");
  REQUIRE(rec);
  CHECK(rec->instances[0].state == instance_state::pending);
  CHECK(d.providers.at("azure")->ready_at("demo") == *d.clock + 45'000);
}

TEST_CASE("sim demo: a spot instance is preempted 10 minutes after it "
          "starts") {
  demo d{{"gcp"}, "spot-preemption.yaml"};
  auto gcp = d.providers.at("gcp");
  std::vector<provider_event> events;
  gcp->set_event_sink([&](provider_event e) { events.push_back(e); });
  const int64_t t0 = *d.clock;
  provision_request req;
  req.cluster = "spot";
  req.region = "us-central1";
  req.zone = "us-central1-a";
  req.instance_type = "a2-highgpu-8g";
  req.use_spot = true;
  REQUIRE(gcp->run_instances(req));
  // Ready after the 30 s provisioning delay, preempted 10 min later.
  CHECK(gcp->next_preemption_at() == t0 + 30'000 + 600'000);
  *d.clock = t0 + 30'000 + 600'000 - 1;
  CHECK(gcp->query_instances("spot")->instances[0].state
        == instance_state::running);
  *d.clock += 1;
  CHECK(gcp->query_instances("spot")->instances[0].state
        == instance_state::terminated);
  REQUIRE(events.size() == 1);
  CHECK(events[0].at_ms == t0 + 630'000);
  // Elsewhere in gcp the seeded random rate applies.
  req.cluster = "random";
  req.region = "europe-west4";
  req.zone = "europe-west4-a";
  REQUIRE(gcp->run_instances(req));
  auto at = gcp->next_preemption_at();
  REQUIRE(at);
  CHECK(*at > *d.clock + 30'000);
}
