#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>

#include "providers/sim/preemption.hpp"
#include "sim_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

/// Collects what a provider pushes to its sink.
struct event_log {
  std::mutex mu;
  std::vector<provider_event> events;

  std::function<void(provider_event)> sink() {
    return [this](provider_event e) {
      std::lock_guard guard{mu};
      events.push_back(std::move(e));
    };
  }

  size_t size() {
    std::lock_guard guard{mu};
    return events.size();
  }
};

instance_state state_of(sim_provider& p, const std::string& cluster,
                        uint32_t rank = 0) {
  auto r = p.query_instances(cluster);
  REQUIRE(r);
  return r->instances.at(rank).state;
}

} // namespace

TEST_CASE("sim preemption: a spot instance is preempted N minutes after it "
          "starts") {
  sim_fixture f;
  f.open(R"(provisioning_delay: 1m
clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a:
            capacity: {spot: {p4d.24xlarge: 1}}
            preemption: {after: 10m}
)");
  event_log log;
  f.aws->set_event_sink(log.sink());
  const int64_t t0 = *f.clock;
  auto spot = [&](const std::string& name) {
    return f.aws->run_instances(
      sim_request(name, "us-east-1", "us-east-1a", "p4d.24xlarge", true));
  };
  REQUIRE(spot("s"));
  REQUIRE(f.aws->run_instances(
    sim_request("od", "us-east-1", "us-east-1a", "p4d.24xlarge", false)));
  // Started at t0 + 1m: preempted at t0 + 11m.
  CHECK(f.aws->next_preemption_at() == t0 + 11 * 60'000);
  CHECK(f.world->next_preemption_at() == t0 + 11 * 60'000);
  CHECK_FALSE(f.lambda->next_preemption_at());
  f.advance_ms(11 * 60'000 - 1);
  CHECK(state_of(*f.aws, "s") == instance_state::running);
  CHECK(log.size() == 0);
  f.advance_ms(1);
  // Noticed by whatever call comes next.
  CHECK(state_of(*f.aws, "s") == instance_state::terminated);
  REQUIRE(log.size() == 1);
  const auto& e = log.events[0];
  CHECK(e.what == provider_event::kind::preempted);
  CHECK(e.provider == "aws");
  CHECK(e.cluster == "s");
  CHECK(e.rank == 0);
  CHECK(e.at_ms == t0 + 11 * 60'000);
  CHECK_THAT(e.reason, Contains("aws (simulated): spot instance preempted 10m "
                                "after it started"));
  // Reported once only.
  CHECK(state_of(*f.aws, "s") == instance_state::terminated);
  CHECK(log.size() == 1);
  // Still listed (terminated) until torn down.
  auto all = f.aws->list_clusters();
  REQUIRE(all);
  CHECK(all->size() == 2);
  // On-demand instances are not preempted; the spot capacity is free again.
  CHECK(state_of(*f.aws, "od") == instance_state::running);
  CHECK_FALSE(f.aws->next_preemption_at());
  REQUIRE(spot("s2"));
  // A wait on a preempted cluster fails at once (failover, not a hang).
  auto w = f.aws->wait_instances("s", instance_state::running, 1h);
  REQUIRE_FALSE(w);
  CHECK(code_of_error(w.error()) == errc::no_capacity);
  // A new attempt replaces the preempted node with a new machine.
  auto old_id = f.aws->query_instances("s")->instances[0].id;
  REQUIRE(f.aws->terminate_instances("s2"));
  auto again = f.aws->run_instances(
    sim_request("s", "us-east-1", "us-east-1a", "p4d.24xlarge", true, 1, 2));
  REQUIRE(again);
  CHECK(again->instances[0].id != old_id);
  CHECK(again->instances[0].state == instance_state::pending);
}

TEST_CASE("sim preemption: check_preemptions applies what is due and "
          "pushes events") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    preemption: {after: 5m}
)");
  event_log log;
  f.aws->set_event_sink(log.sink());
  REQUIRE(f.aws->run_instances(
    sim_request("m", "us-east-1", "us-east-1a", "m5.large", true, 3)));
  CHECK(f.world->check_preemptions() == 0);
  f.advance_min(5);
  CHECK(f.world->check_preemptions() == 3);
  CHECK(log.size() == 3);
  CHECK(f.world->check_preemptions() == 0);
  std::vector<uint32_t> ranks;
  for (const auto& e : log.events)
    ranks.push_back(e.rank);
  std::sort(ranks.begin(), ranks.end());
  CHECK(ranks == std::vector<uint32_t>{0, 1, 2});
}

TEST_CASE("sim preemption: random preemptions repeat exactly for a seed") {
  auto run = [](uint64_t seed) {
    sim_fixture f;
    f.open("seed: " + std::to_string(seed) + R"(
clouds:
  aws:
    preemption: {rate_per_hour: 2}
)");
    event_log log;
    f.aws->set_event_sink(log.sink());
    const int64_t t0 = *f.clock;
    for (int i = 0; i < 20; ++i)
      REQUIRE(f.aws->run_instances(sim_request(
        "c" + std::to_string(i), "us-east-1", "us-east-1a", "m5.large", true)));
    // A day later every one has been preempted (2/h: a mean of 30 min).
    f.advance_min(24 * 60);
    CHECK(f.world->check_preemptions() == 20);
    std::vector<std::pair<std::string, int64_t>> times;
    for (const auto& e : log.events) {
      CHECK(e.at_ms > t0);
      CHECK(e.at_ms < t0 + 24 * 3'600'000);
      times.emplace_back(e.cluster, e.at_ms - t0);
    }
    std::sort(times.begin(), times.end());
    return times;
  };
  auto a = run(5);
  auto b = run(5);
  auto c = run(6);
  REQUIRE(a.size() == 20);
  CHECK(a == b);
  CHECK(a != c);
  // Not all the same: the lifetimes are drawn per instance.
  std::set<int64_t> distinct;
  for (const auto& [cluster, t] : a)
    distinct.insert(t);
  CHECK(distinct.size() > 15);
}

TEST_CASE("sim preemption: seeded lifetimes are exponential with the "
          "rate") {
  sim::preemption_rule rule;
  rule.rate_per_hour = 4;
  double total_hours = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    auto t = sim::preemption_time(rule, 11, "i" + std::to_string(i), 0);
    CHECK(t >= 0);
    total_hours += static_cast<double>(t) / 3.6e6;
  }
  // Mean 1/rate = 15 min; 4000 draws land well within 10 % of it.
  CHECK(total_hours / n == Approx(0.25).epsilon(0.1));
  sim::preemption_rule fixed;
  fixed.after_ms = 600'000;
  CHECK(sim::preemption_time(fixed, 1, "x", 1000) == 601'000);
}

TEST_CASE("sim preemption: skyctl sim preempt, a whole cluster or one "
          "node") {
  sim_fixture f;
  f.open();
  event_log log;
  f.aws->set_event_sink(log.sink());
  REQUIRE(f.aws->run_instances(
    sim_request("c", "us-east-1", "us-east-1a", "p4d.24xlarge", true, 3)));
  auto one = f.world->preempt("c", 1);
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].rank == 1);
  CHECK((*one)[0].at_ms == *f.clock);
  CHECK_THAT((*one)[0].reason, Contains("preempted by skyctl sim preempt"));
  CHECK(log.size() == 1);
  CHECK(state_of(*f.aws, "c", 0) == instance_state::running);
  CHECK(state_of(*f.aws, "c", 1) == instance_state::terminated);
  // The rest of the cluster.
  auto rest = f.world->preempt("c");
  REQUIRE(rest);
  CHECK(rest->size() == 2);
  CHECK(log.size() == 3);
  auto twice = f.world->preempt("c");
  REQUIRE_FALSE(twice);
  CHECK(code_of_error(twice.error()) == errc::conflict);
  auto unknown = f.world->preempt("nope");
  REQUIRE_FALSE(unknown);
  CHECK(code_of_error(unknown.error()) == errc::not_found);
  CHECK_THAT(text_of(unknown.error()), Contains("no simulated cluster 'nope'"));
  auto no_rank = f.world->preempt("c", 7);
  REQUIRE_FALSE(no_rank);
  CHECK(code_of_error(no_rank.error()) == errc::not_found);
}

TEST_CASE("sim preemption: replacing one preempted node keeps the others") {
  sim_fixture f;
  f.open();
  auto first = f.aws->run_instances(
    sim_request("c", "us-east-1", "us-east-1a", "m5.large", true, 2));
  REQUIRE(first);
  REQUIRE(f.world->preempt("c", 1));
  auto again = f.aws->run_instances(
    sim_request("c", "us-east-1", "us-east-1a", "m5.large", true, 2, 2));
  REQUIRE(again);
  CHECK(again->instances[0].id == first->instances[0].id);
  CHECK(again->instances[1].id != first->instances[1].id);
  CHECK(again->instances[1].id == "sim:aws:c#2:1");
  CHECK(again->instances[0].state == instance_state::running);
  CHECK(again->instances[1].state == instance_state::running);
}

TEST_CASE("sim preemption: a zone's rule for one type leaves its region's "
          "rule for others") {
  sim_fixture f;
  f.open(R"(clouds:
  aws:
    regions:
      us-east-1:
        preemption: {after: 1h}
        zones:
          us-east-1a:
            preemption: {after: 5m, type: A100}
)");
  const int64_t t0 = *f.clock;
  REQUIRE(f.aws->run_instances(
    sim_request("gpu", "us-east-1", "us-east-1a", "p4d.24xlarge", true)));
  CHECK(f.aws->next_preemption_at() == t0 + 5 * 60'000);
  REQUIRE(f.aws->terminate_instances("gpu"));
  REQUIRE(f.aws->run_instances(
    sim_request("cpu", "us-east-1", "us-east-1a", "m5.large", true)));
  CHECK(f.aws->next_preemption_at() == t0 + 60 * 60'000);
}
