#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "sim_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

constexpr const char* one_per_zone = R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity: {m5.large: 1}
            preemption: {after: 30m}
)";

} // namespace

TEST_CASE("sim world: a new world over the same directory finds the "
          "instances again") {
  sim_fixture f;
  f.open(one_per_zone);
  const int64_t t0 = *f.clock;
  auto spot = f.aws->run_instances(
    sim_request("spot", "us-east-1", "us-east-1a", "m5.large", true));
  REQUIRE(spot);
  REQUIRE(f.aws->run_instances(
    sim_request("od", "us-east-1", "us-east-1a", "m5.large", false, 1, 2)));
  REQUIRE(f.aws->run_instances(
    sim_request("stopped", "us-east-1", "us-east-1b", "m5.large")));
  REQUIRE(f.aws->stop_instances("stopped"));
  REQUIRE(f.lambda->run_instances(
    sim_request("gone", "us-east-1", "", "gpu_8x_a100", false, 2)));
  REQUIRE(f.world->preempt("gone", 1));
  REQUIRE(
    f.world->set_capacity("aws", "us-west-2", "us-west-2a", "A100", false, 0));
  f.close();

  f.open(one_per_zone);
  auto aws = f.aws->list_clusters();
  REQUIRE(aws);
  CHECK(aws->size() == 3);
  auto back = f.aws->query_instances("spot");
  REQUIRE(back);
  CHECK(back->instances[0].id == spot->instances[0].id);
  CHECK(back->instances[0].idempotency_key == "spot#1");
  CHECK(back->instances[0].state == instance_state::running);
  CHECK(back->use_spot);
  CHECK(back->zone == "us-east-1a");
  CHECK(f.aws->query_instances("od")->instances[0].idempotency_key == "od#2");
  CHECK(f.aws->query_instances("stopped")->instances[0].state
        == instance_state::stopped);
  auto gone = f.lambda->query_instances("gone");
  REQUIRE(gone);
  CHECK(gone->instances[0].state == instance_state::running);
  CHECK(gone->instances[1].state == instance_state::terminated);
  // Capacity is still held: the zone's one on-demand m5.large is taken.
  auto full = f.aws->run_instances(
    sim_request("x", "us-east-1", "us-east-1a", "m5.large"));
  REQUIRE_FALSE(full);
  CHECK(code_of_error(full.error()) == errc::no_capacity);
  // The admin's capacity change is kept.
  auto none = f.aws->run_instances(
    sim_request("y", "us-west-2", "us-west-2a", "p4d.24xlarge"));
  REQUIRE_FALSE(none);
  CHECK(code_of_error(none.error()) == errc::no_capacity);
  // Scheduled preemptions are kept: the spot instance goes at t0 + 30m.
  CHECK(f.aws->next_preemption_at() == t0 + 30 * 60'000);
  // An edited scenario starts from its own numbers (no admin change).
  f.close();
  f.open(std::string{one_per_zone} + "seed: 3\n");
  REQUIRE(f.aws->run_instances(
    sim_request("y", "us-west-2", "us-west-2a", "p4d.24xlarge")));
}

TEST_CASE("sim world: fault counters survive a restart") {
  const std::string yaml = R"(clouds:
  aws:
    failures: [{error: no_capacity, times: 2}]
)";
  sim_fixture f;
  f.open(yaml);
  CHECK_FALSE(f.aws->run_instances(
    sim_request("a", "us-east-1", "us-east-1a", "m5.large")));
  f.close();
  f.open(yaml);
  CHECK_FALSE(f.aws->run_instances(
    sim_request("a", "us-east-1", "us-east-1a", "m5.large")));
  CHECK(f.aws->run_instances(
    sim_request("a", "us-east-1", "us-east-1a", "m5.large")));
}

TEST_CASE("sim world: two worlds never share a directory") {
  sim_fixture f;
  f.open();
  auto second = sim_world::open(f.settings, sim::scenario{});
  REQUIRE_FALSE(second);
  CHECK(code_of_error(second.error()) == errc::conflict);
  CHECK_THAT(text_of(second.error()), Contains("already used by another sim "
                                               "world"));
  f.close();
  CHECK(sim_world::open(f.settings, sim::scenario{}));
}

TEST_CASE("sim world: an unreadable state file is refused naming it") {
  sim_fixture f;
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("c", "us-east-1", "us-east-1a", "m5.large")));
  f.close();
  auto file = f.dir.path() / ".sim" / "clusters" / "aws" / "c.json";
  REQUIRE(std::filesystem::exists(file));
  std::ofstream{file} << "{ not json";
  auto w = sim_world::open(f.settings, sim::scenario{});
  REQUIRE_FALSE(w);
  CHECK_THAT(text_of(w.error()), Contains(file.string()));
}

TEST_CASE("sim world: settings are checked") {
  sim_fixture f;
  f.settings.clouds = {"aws", "gcpp"};
  auto w = sim_world::open(f.settings, sim::scenario{});
  REQUIRE_FALSE(w);
  CHECK_THAT(text_of(w.error()), Contains("sim.clouds: unknown cloud 'gcpp'"));
  f.settings.clouds = {};
  f.settings.catalog = nullptr;
  CHECK_FALSE(sim_world::open(f.settings, sim::scenario{}));
  CHECK(parse_sim_node_mode("virtual") == sim_node_mode::virtual_nodes);
  CHECK(parse_sim_node_mode("real") == sim_node_mode::real);
  auto bad = parse_sim_node_mode("virtal");
  REQUIRE_FALSE(bad);
  CHECK_THAT(text_of(bad.error()), Contains("did you mean 'virtual'?"));
}

TEST_CASE("sim world: every cloud of the catalog when none is named") {
  sim_fixture f;
  f.settings.clouds = {};
  auto w = sim_world::open(f.settings, sim::scenario{});
  REQUIRE(w);
  CHECK((*w)->clouds() == std::vector<std::string>{"aws", "lambda"});
}

TEST_CASE("sim world: skyctl sim capacity changes a limit, checked against "
          "the catalog") {
  sim_fixture f;
  f.open();
  auto run = [&](const std::string& name) {
    return f.aws->run_instances(
      sim_request(name, "us-east-1", "us-east-1a", "p4d.24xlarge"));
  };
  REQUIRE(f.world->set_capacity("aws", "us-east-1", "", "a100", false, 8));
  REQUIRE(run("a"));
  auto full = run("b");
  REQUIRE_FALSE(full);
  CHECK(scope_of(full.error()) == failure_scope::region);
  // Capacity that appears later (what --retry-until-up waits for).
  REQUIRE(
    f.world->set_capacity("aws", "us-east-1", "", "A100", false, std::nullopt));
  REQUIRE(run("b"));
  auto bad_zone
    = f.world->set_capacity("aws", "us-east-1", "us-east-1z", "A100", false, 1);
  REQUIRE_FALSE(bad_zone);
  CHECK_THAT(text_of(bad_zone.error()), Contains("unknown zone 'us-east-1z'"));
  auto bad_type
    = f.world->set_capacity("aws", "us-east-1", "", "p4d.24xlarg", false, 1);
  REQUIRE_FALSE(bad_type);
  CHECK_THAT(text_of(bad_type.error()), Contains("did you mean "
                                                 "'p4d.24xlarge'?"));
  auto bad_cloud = f.world->set_capacity("azure", "", "", "A100", false, 1);
  REQUIRE_FALSE(bad_cloud);
  CHECK_THAT(text_of(bad_cloud.error()), Contains("unknown cloud 'azure'"));
  auto not_there
    = f.world->set_capacity("lambda", "us-west-1", "", "gpu_1x_a10", true, 1);
  REQUIRE_FALSE(not_there);
  CHECK_THAT(text_of(not_there.error()), Contains("not offered in "
                                                  "lambda/us-west-1"));
  CHECK_FALSE(f.world->set_capacity("aws", "", "", "A100", false, -1));
}

TEST_CASE("sim world: concurrent launches never over-commit a capacity") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity: {spot: {m5.large: 5}}
)");
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  std::atomic<bool> stop_readers{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto r = f.aws->run_instances(
          sim_request("t" + std::to_string(t) + "-" + std::to_string(i),
                      "us-east-1", "us-east-1a", "m5.large", true));
        if (r)
          ++won;
        else if (code_of_error(r.error()) == errc::no_capacity)
          ++refused;
      }
    });
  // Readers and the clock move at the same time.
  std::thread reader{[&] {
    while (!stop_readers) {
      (void) f.aws->list_clusters();
      (void) f.world->next_preemption_at();
      (void) f.world->check_preemptions();
    }
  }};
  for (auto& th : threads)
    th.join();
  stop_readers = true;
  reader.join();
  CHECK(won == 5);
  CHECK(refused == 75);
  auto all = f.aws->list_clusters();
  REQUIRE(all);
  CHECK(all->size() == 5);
}

TEST_CASE("sim world: a thousand virtual clusters come up") {
  sim_fixture f;
  f.open("provisioning_delay: 2m\n");
  std::vector<std::thread> threads;
  std::atomic<int> up{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < 1000; i += 4)
        if (f.aws->run_instances(sim_request(
              "c" + std::to_string(i), "us-east-1", "us-east-1a", "m5.large")))
          ++up;
    });
  for (auto& th : threads)
    th.join();
  CHECK(up == 1000);
  f.advance_min(2);
  size_t running = 0;
  for (int i = 0; i < 1000; ++i) {
    auto r = f.aws->wait_instances("c" + std::to_string(i),
                                   instance_state::running, 1s);
    running += r ? 1 : 0;
  }
  CHECK(running == 1000);
}
