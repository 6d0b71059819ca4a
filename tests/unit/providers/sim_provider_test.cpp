#include <catch2/catch.hpp>

#include <chrono>

#include "sim_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

/// The error of a refused run_instances: code, scope and text.
struct refused {
  errc code = errc::none;
  failure_scope scope = failure_scope::zone;
  std::string text;
};

refused refusal_of(const result<cluster_record>& r) {
  REQUIRE_FALSE(r);
  return {code_of_error(r.error()), scope_of(r.error()), text_of(r.error())};
}

size_t live_instances(sim_provider& p) {
  auto all = p.list_clusters();
  REQUIRE(all);
  size_t n = 0;
  for (const auto& c : *all)
    for (const auto& i : c.instances)
      n += i.state != instance_state::terminated ? 1 : 0;
  return n;
}

} // namespace

TEST_CASE("sim provider: a cloud's name, features and no fixed capacity") {
  sim_fixture f;
  f.open();
  CHECK(f.aws->name() == "aws");
  CHECK(f.lambda->name() == "lambda");
  auto fs = f.aws->features();
  CHECK(fs.stop);
  CHECK(fs.spot);
  CHECK(fs.multi_node);
  CHECK(fs.open_ports);
  CHECK(fs.gpus);
  CHECK_FALSE(f.aws->capacity());
}

TEST_CASE("sim provider: without a scenario there is plenty of capacity") {
  sim_fixture f;
  f.open();
  for (int i = 0; i < 20; ++i) {
    auto r = f.aws->run_instances(sim_request("c" + std::to_string(i),
                                              "us-east-1", "us-east-1a",
                                              "p4d.24xlarge", i % 2 == 0, 4));
    REQUIRE(r);
    CHECK(r->instances.size() == 4);
    CHECK(r->provider == "aws");
    CHECK(r->zone == "us-east-1a");
    // No provisioning delay: running at once.
    CHECK(r->instances[3].state == instance_state::running);
  }
  CHECK(live_instances(*f.aws) == 80);
}

TEST_CASE("sim provider: capacity per zone, spot and on-demand apart") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity:
              on_demand: {p4d.24xlarge: 1}
              spot: {p4d.24xlarge: 2}
)");
  auto od = [&](const std::string& name, const std::string& zone) {
    return f.aws->run_instances(
      sim_request(name, "us-east-1", zone, "p4d.24xlarge", false));
  };
  auto spot = [&](const std::string& name) {
    return f.aws->run_instances(
      sim_request(name, "us-east-1", "us-east-1a", "p4d.24xlarge", true));
  };
  REQUIRE(od("od1", "us-east-1a"));
  auto full = refusal_of(od("od2", "us-east-1a"));
  CHECK(full.code == errc::no_capacity);
  CHECK(full.scope == failure_scope::zone);
  CHECK_THAT(full.text, Contains("aws/us-east-1/us-east-1a (simulated): no "
                                 "on-demand capacity for p4d.24xlarge: 1 of 1 "
                                 "instances in use"));
  // Spot is a pool of its own.
  REQUIRE(spot("s1"));
  REQUIRE(spot("s2"));
  auto spot_full = refusal_of(spot("s3"));
  CHECK(spot_full.code == errc::no_capacity);
  CHECK_THAT(spot_full.text, Contains("no spot capacity"));
  // Another zone is unlimited.
  REQUIRE(od("od3", "us-east-1b"));
}

TEST_CASE("sim provider: accelerator capacity counts devices across a "
          "region's zones") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        capacity: {A100: 16}
)");
  auto run = [&](const std::string& name, const std::string& zone) {
    return f.aws->run_instances(
      sim_request(name, "us-east-1", zone, "p4d.24xlarge"));
  };
  REQUIRE(run("a", "us-east-1a"));
  REQUIRE(run("b", "us-east-1b"));
  auto r = refusal_of(run("c", "us-east-1a"));
  CHECK(r.code == errc::no_capacity);
  // Stated on the region: the whole region is out.
  CHECK(r.scope == failure_scope::region);
  CHECK_THAT(r.text,
             Contains("no on-demand capacity for 8 A100 (p4d.24xlarge): 16 "
                      "of 16 A100 in use in aws/us-east-1"));
  // Spot has no such limit, nor does the other region.
  REQUIRE(f.aws->run_instances(
    sim_request("d", "us-east-1", "us-east-1a", "p4d.24xlarge", true)));
  REQUIRE(f.aws->run_instances(
    sim_request("e", "us-west-2", "us-west-2a", "p4d.24xlarge")));
}

TEST_CASE("sim provider: a cloud-wide limit with a regional exception "
          "blocks regions, not the cloud") {
  sim_fixture f;
  f.open(R"(clouds:
  lambda:
    capacity: {A100: 0}
    regions:
      us-west-1:
        capacity: {A100: 8}
  aws:
    capacity: {m5.large: 0}
)");
  auto east = refusal_of(
    f.lambda->run_instances(sim_request("a", "us-east-1", "", "gpu_8x_a100")));
  CHECK(east.code == errc::no_capacity);
  // us-west-1 still has some: failover must not skip it.
  CHECK(east.scope == failure_scope::region);
  CHECK_THAT(east.text, Contains("lambda/us-east-1 (simulated)"));
  REQUIRE(
    f.lambda->run_instances(sim_request("b", "us-west-1", "", "gpu_8x_a100")));
  auto west = refusal_of(
    f.lambda->run_instances(sim_request("c", "us-west-1", "", "gpu_8x_a100")));
  CHECK(west.scope == failure_scope::region);
  // Nothing anywhere: the whole cloud is out.
  auto aws = refusal_of(f.aws->run_instances(
    sim_request("d", "us-west-2", "us-west-2a", "m5.large")));
  CHECK(aws.scope == failure_scope::cloud);
}

TEST_CASE("sim provider: quotas per region and per cloud") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    quota: {instances: 5}
    regions:
      us-east-1:
        quota: {vcpus: 100}
)");
  auto run = [&](const std::string& name, const std::string& region,
                 const std::string& zone, const std::string& type) {
    return f.aws->run_instances(sim_request(name, region, zone, type));
  };
  REQUIRE(run("big", "us-east-1", "us-east-1a", "p4d.24xlarge")); // 96
  REQUIRE(run("s1", "us-east-1", "us-east-1b", "m5.large"));      // 98
  REQUIRE(run("s2", "us-east-1", "us-east-1a", "m5.large"));      // 100
  auto region = refusal_of(run("s3", "us-east-1", "us-east-1a", "m5.large"));
  CHECK(region.code == errc::quota);
  CHECK(region.scope == failure_scope::region);
  CHECK_THAT(region.text,
             Contains("aws/us-east-1 (simulated): quota exceeded: m5.large "
                      "needs 2 vCPUs, 100 of 100 in use"));
  CHECK_THAT(region.text, Contains("quota.vcpus of aws/us-east-1"));
  // Another region has room under the cloud's instance quota...
  REQUIRE(run("w1", "us-west-2", "us-west-2a", "m5.large"));
  REQUIRE(run("w2", "us-west-2", "us-west-2a", "m5.large"));
  // ... until the cloud's 5 instances are used.
  auto cloud = refusal_of(run("w3", "us-west-2", "us-west-2a", "m5.large"));
  CHECK(cloud.code == errc::quota);
  CHECK(cloud.scope == failure_scope::cloud);
  // Terminating gives quota back.
  REQUIRE(f.aws->terminate_instances("big"));
  REQUIRE(run("w3", "us-west-2", "us-west-2a", "m5.large"));
}

TEST_CASE("sim provider: injected failures, each with its scope") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            failures:
              - {error: no_capacity, times: 2}
          us-east-1b:
            failures:
              - {error: never_ready, times: 1}
      us-west-2:
        failures:
          - {error: quota, type: A100, spot: false}
  lambda:
    failures:
      - {error: auth, message: "the API key was revoked"}
)");
  auto req
    = [](const std::string& name, const std::string& region,
         const std::string& zone, const std::string& type, bool spot = false) {
        return sim_request(name, region, zone, type, spot);
      };
  SECTION("no capacity for the next N attempts, in the zone") {
    for (int i = 0; i < 2; ++i) {
      auto r = refusal_of(
        f.aws->run_instances(req("a", "us-east-1", "us-east-1a", "m5.large")));
      CHECK(r.code == errc::no_capacity);
      CHECK(r.scope == failure_scope::zone);
      CHECK_THAT(r.text, Contains("aws/us-east-1/us-east-1a (simulated): no "
                                  "on-demand capacity for m5.large"));
      CHECK_THAT(r.text,
                 Contains("[injected by the scenario at scenario.yaml:8:17]"));
    }
    REQUIRE(
      f.aws->run_instances(req("a", "us-east-1", "us-east-1a", "m5.large")));
  }
  SECTION("quota for one accelerator, on demand only, in the region") {
    auto r = refusal_of(f.aws->run_instances(
      req("q", "us-west-2", "us-west-2a", "p4d.24xlarge")));
    CHECK(r.code == errc::quota);
    CHECK(r.scope == failure_scope::region);
    // Other types and spot are not concerned.
    REQUIRE(
      f.aws->run_instances(req("q1", "us-west-2", "us-west-2a", "m5.large")));
    REQUIRE(f.aws->run_instances(
      req("q2", "us-west-2", "us-west-2a", "p4d.24xlarge", true)));
  }
  SECTION("auth blocks the whole cloud, with the scenario's message") {
    auto r = refusal_of(
      f.lambda->run_instances(req("l", "us-west-1", "", "gpu_8x_a100")));
    CHECK(r.code == errc::auth);
    CHECK(r.scope == failure_scope::cloud);
    CHECK_THAT(r.text, Contains("lambda/us-west-1 (simulated): the API key "
                                "was revoked"));
  }
  SECTION("an instance that never becomes ready times out in the zone") {
    auto r
      = f.aws->run_instances(req("n", "us-east-1", "us-east-1b", "m5.large"));
    REQUIRE(r);
    CHECK(r->instances[0].state == instance_state::pending);
    auto w = f.aws->wait_instances("n", instance_state::running, 10min);
    REQUIRE_FALSE(w);
    CHECK(code_of_error(w.error()) == errc::transient);
    CHECK(scope_of(w.error()) == failure_scope::zone);
    CHECK_THAT(text_of(w.error()), Contains("it never will be"));
    CHECK_FALSE(f.aws->ready_at("n"));
    f.advance_min(10);
    w = f.aws->wait_instances("n", instance_state::running, 10min);
    REQUIRE_FALSE(w);
    CHECK(code_of_error(w.error()) == errc::transient);
    CHECK_THAT(text_of(w.error()),
               Contains("aws/us-east-1/us-east-1b (simulated): cluster 'n' "
                        "did not become ready within 10m"));
    // Only once: the next cluster there boots.
    REQUIRE(f.aws->terminate_instances("n"));
    REQUIRE(
      f.aws->run_instances(req("n2", "us-east-1", "us-east-1b", "m5.large")));
    REQUIRE(f.aws->wait_instances("n2", instance_state::running, 1min));
  }
}

TEST_CASE("sim provider: a never-ready instance times out in real time") {
  sim_fixture f;
  f.settings.virtual_time = false;
  f.settings.wait_step = 10ms;
  f.open(R"(clouds:
  aws:
    failures: [{error: never_ready}]
)");
  REQUIRE(f.aws->run_instances(
    sim_request("n", "us-east-1", "us-east-1a", "m5.large")));
  auto start = std::chrono::steady_clock::now();
  auto w = f.aws->wait_instances("n", instance_state::running, 200ms);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(w);
  CHECK(code_of_error(w.error()) == errc::transient);
  CHECK(scope_of(w.error()) == failure_scope::zone);
  CHECK_THAT(text_of(w.error()), Contains("never ready"));
  CHECK(took >= 200ms);
}

TEST_CASE("sim provider: provisioning delay in virtual time never sleeps") {
  sim_fixture f;
  f.open(R"(provisioning_delay: 2m
clouds:
  aws:
    regions:
      us-west-2:
        provisioning_delay: 30s
)");
  const int64_t t0 = *f.clock;
  auto r = f.aws->run_instances(
    sim_request("d", "us-east-1", "us-east-1a", "m5.large", false, 2));
  REQUIRE(r);
  CHECK(r->instances[0].state == instance_state::pending);
  CHECK(f.aws->ready_at("d") == t0 + 120'000);
  auto start = std::chrono::steady_clock::now();
  auto w = f.aws->wait_instances("d", instance_state::running, 1h);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  REQUIRE_FALSE(w);
  CHECK(code_of_error(w.error()) == errc::transient);
  CHECK_THAT(text_of(w.error()),
             Contains("is not ready until " + std::to_string(t0 + 120'000)
                      + " (sim time, 2m from now)"));
  f.advance_ms(119'999);
  CHECK_FALSE(f.aws->wait_instances("d", instance_state::running, 1h));
  f.advance_ms(1);
  auto up = f.aws->wait_instances("d", instance_state::running, 1h);
  REQUIRE(up);
  CHECK(up->instances.size() == 2);
  CHECK(up->instances[1].state == instance_state::running);
  CHECK_FALSE(f.aws->ready_at("d"));
  // The region's own delay wins over the scenario's.
  REQUIRE(f.aws->run_instances(
    sim_request("w", "us-west-2", "us-west-2a", "m5.large")));
  CHECK(f.aws->ready_at("w") == *f.clock + 30'000);
}

TEST_CASE("sim provider: provisioning delay in real time sleeps until "
          "ready") {
  sim_fixture f;
  f.settings.virtual_time = false;
  f.settings.wait_step = 10ms;
  f.settings.now_ms = sim_wall_clock_ms;
  f.open("provisioning_delay: 300ms\n");
  auto start = std::chrono::steady_clock::now();
  REQUIRE(f.aws->run_instances(
    sim_request("d", "us-east-1", "us-east-1a", "m5.large")));
  auto up = f.aws->wait_instances("d", instance_state::running, 10s);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(up);
  CHECK(up->instances[0].state == instance_state::running);
  CHECK(took >= 290ms);
  CHECK(took < 5s);
}

TEST_CASE("sim provider: run_instances is idempotent per attempt") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity: {m5.large: 2}
)");
  auto req
    = sim_request("c", "us-east-1", "us-east-1a", "m5.large", false, 2, 3);
  auto first = f.aws->run_instances(req);
  REQUIRE(first);
  CHECK(first->instances[0].idempotency_key == "c#3");
  CHECK(first->instances[1].id == "sim:aws:c#3:1");
  // A retry after a crash: the same instances, never a second copy (the
  // capacity of 2 would refuse one).
  auto again = f.aws->run_instances(req);
  REQUIRE(again);
  REQUIRE(again->instances.size() == 2);
  CHECK(again->instances[0].id == first->instances[0].id);
  CHECK(again->instances[1].id == first->instances[1].id);
  CHECK(live_instances(*f.aws) == 2);
  // A new attempt on the cluster that is up takes it over.
  req.attempt = 4;
  auto adopted = f.aws->run_instances(req);
  REQUIRE(adopted);
  CHECK(adopted->instances[0].id == first->instances[0].id);
  CHECK(adopted->instances[0].idempotency_key == "c#4");
  CHECK(live_instances(*f.aws) == 2);
  // Elsewhere is refused: the cluster exists here.
  auto moved = f.aws->run_instances(
    sim_request("c", "us-west-2", "us-west-2a", "m5.large", false, 2, 5));
  REQUIRE_FALSE(moved);
  CHECK(code_of_error(moved.error()) == errc::already_exists);
  CHECK_THAT(text_of(moved.error()),
             Contains("already has instances in aws/us-east-1/us-east-1a"));
  auto resized = f.aws->run_instances(
    sim_request("c", "us-east-1", "us-east-1a", "m5.large", false, 3, 6));
  REQUIRE_FALSE(resized);
  CHECK(code_of_error(resized.error()) == errc::invalid_argument);
}

TEST_CASE("sim provider: a half-provisioned 4-node request is rolled back") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity: {p4d.24xlarge: 2}
)");
  auto r = f.aws->run_instances(
    sim_request("big", "us-east-1", "us-east-1a", "p4d.24xlarge", false, 4));
  auto err = refusal_of(r);
  CHECK(err.code == errc::no_capacity);
  CHECK(err.scope == failure_scope::zone);
  CHECK_THAT(err.text, Contains("2 of 4 nodes were created, then terminated "
                                "again; no instance is left"));
  // Nothing leaked: no cluster, no instance, the capacity wholly free.
  auto q = f.aws->query_instances("big");
  REQUIRE_FALSE(q);
  CHECK(code_of_error(q.error()) == errc::not_found);
  CHECK(live_instances(*f.aws) == 0);
  REQUIRE(f.aws->run_instances(
    sim_request("one", "us-east-1", "us-east-1a", "p4d.24xlarge")));
  REQUIRE(f.aws->run_instances(
    sim_request("two", "us-east-1", "us-east-1a", "p4d.24xlarge")));
  // Nor on disk: a restarted world sees only what succeeded.
  f.close();
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity: {p4d.24xlarge: 2}
)");
  auto all = f.aws->list_clusters();
  REQUIRE(all);
  CHECK(all->size() == 2);
  CHECK_FALSE(f.aws->query_instances("big"));
}

TEST_CASE("sim provider: a request without a zone takes the first zone "
          "with room") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a: {capacity: {m5.large: 0}}
          us-east-1b: {capacity: {m5.large: 1}}
)");
  auto r = f.aws->run_instances(sim_request("c", "us-east-1", "", "m5.large"));
  REQUIRE(r);
  CHECK(r->zone == "us-east-1b");
  auto none = refusal_of(
    f.aws->run_instances(sim_request("d", "us-east-1", "", "m5.large")));
  CHECK(none.code == errc::no_capacity);
  // Every zone refused: the region is out.
  CHECK(none.scope == failure_scope::region);
  CHECK_THAT(none.text, Contains("no zone could take m5.large"));
}

TEST_CASE("sim provider: stop, start and terminate release and take "
          "capacity") {
  sim_fixture f;
  f.open(R"(provisioning_delay: 1m
clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity: {m5.large: 1}
)");
  auto req = [](const std::string& name, uint32_t attempt) {
    return sim_request(name, "us-east-1", "us-east-1a", "m5.large", false, 1,
                       attempt);
  };
  auto first = f.aws->run_instances(req("a", 1));
  REQUIRE(first);
  f.advance_min(1);
  REQUIRE(f.aws->wait_instances("a", instance_state::running, 1s));
  CHECK_FALSE(f.aws->run_instances(req("b", 1)));
  REQUIRE(f.aws->stop_instances("a"));
  REQUIRE(f.aws->stop_instances("a")); // idempotent
  auto stopped = f.aws->wait_instances("a", instance_state::stopped, 1s);
  REQUIRE(stopped);
  CHECK(stopped->instances[0].state == instance_state::stopped);
  // A stopped instance holds no capacity...
  REQUIRE(f.aws->run_instances(req("b", 1)));
  // ... so starting it again can find none.
  auto restart = f.aws->run_instances(req("a", 2));
  REQUIRE_FALSE(restart);
  CHECK(code_of_error(restart.error()) == errc::no_capacity);
  // It restarts only where its disks are.
  auto elsewhere = f.aws->run_instances(
    sim_request("a", "us-west-2", "us-west-2a", "m5.large", false, 1, 3));
  REQUIRE_FALSE(elsewhere);
  CHECK(code_of_error(elsewhere.error()) == errc::conflict);
  REQUIRE(f.aws->terminate_instances("b"));
  REQUIRE(f.aws->terminate_instances("b")); // idempotent
  auto restarted = f.aws->run_instances(req("a", 4));
  REQUIRE(restarted);
  // The same machine, pending again for the provisioning delay.
  CHECK(restarted->instances[0].id == first->instances[0].id);
  CHECK(restarted->instances[0].idempotency_key == "a#4");
  CHECK(restarted->instances[0].state == instance_state::pending);
  f.advance_min(1);
  REQUIRE(f.aws->wait_instances("a", instance_state::running, 1s));
  REQUIRE(f.aws->terminate_instances("a"));
  CHECK(code_of_error(f.aws->query_instances("a").error()) == errc::not_found);
  REQUIRE(f.aws->wait_instances("a", instance_state::terminated, 1s));
  CHECK(live_instances(*f.aws) == 0);
}

TEST_CASE("sim provider: spot instances cannot be stopped") {
  sim_fixture f;
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("s", "us-east-1", "us-east-1a", "m5.large", true)));
  auto r = f.aws->stop_instances("s");
  REQUIRE_FALSE(r);
  CHECK(code_of_error(r.error()) == errc::unsupported);
  CHECK_THAT(text_of(r.error()), Contains("cannot be stopped"));
  auto missing = f.aws->stop_instances("nope");
  REQUIRE_FALSE(missing);
  CHECK(code_of_error(missing.error()) == errc::not_found);
}

TEST_CASE("sim provider: bad requests are refused naming what is wrong") {
  sim_fixture f;
  f.open();
  auto text = [&](sim_provider& p, const provision_request& r) {
    auto out = p.run_instances(r);
    REQUIRE_FALSE(out);
    return text_of(out.error());
  };
  CHECK_THAT(text(*f.aws, sim_request("c", "us-esat-1", "", "m5.large")),
             Contains("did you mean 'us-east-1'?"));
  CHECK_THAT(
    text(*f.aws, sim_request("c", "us-east-1", "us-east-1z", "m5.large")),
    Contains("unknown zone 'us-east-1z'"));
  CHECK_THAT(
    text(*f.aws, sim_request("c", "us-west-2", "us-west-2a", "m5.xlarge")),
    Contains("'m5.xlarge' is not offered in aws/us-west-2"));
  CHECK_THAT(
    text(*f.lambda, sim_request("c", "us-east-1", "us-east-1a", "gpu_8x_a100")),
    Contains("lambda has no zones"));
  CHECK_THAT(
    text(*f.lambda, sim_request("c", "us-east-1", "", "gpu_8x_a100", true)),
    Contains("is not offered as spot there"));
  CHECK_THAT(
    text(*f.aws, sim_request("../x", "us-east-1", "us-east-1a", "m5.large")),
    Contains("cannot name a directory"));
  CHECK_THAT(text(*f.aws, sim_request("c", "us-east-1", "us-east-1a",
                                      "m5.large", false, 0)),
             Contains("asks for 0 nodes"));
}
