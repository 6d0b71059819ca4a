// The service planner: launches to reach the target, scale-down, rolling
// and blue-green updates, rollback or freeze, launch backoff, bounded
// failure records and the service status.

#include <catch2/catch.hpp>

#include "optimizer/serve/service_plan.hpp"

using namespace sky::optimizer;

namespace {

replica rep(uint64_t id, replica_status s, uint64_t version = 1,
            bool spot = false) {
  replica r;
  r.id = id;
  r.status = s;
  r.version = version;
  r.spot = spot;
  r.endpoint = "127.0.0.1:" + std::to_string(9000 + id);
  if (s == replica_status::ready || s == replica_status::not_ready)
    r.first_ready_ms = 1;
  return r;
}

autoscale_policy fixed(int n) {
  autoscale_policy p;
  p.min_replicas = p.max_replicas = n;
  return p;
}

autoscaler_state target(int n) {
  autoscaler_state s;
  s.target = n;
  return s;
}

service_state one_version(bool ever_ready = true) {
  service_state s;
  s.versions = {{1, 1, ever_ready}};
  return s;
}

service_state updated(update_mode mode, int new_min = 2) {
  service_state s;
  s.latest = 2;
  s.mode = mode;
  s.versions = {{1, 2, true}, {2, new_min, false}};
  return s;
}

const plan_limits limits{10'000, 80'000, 3};

service_plan plan(const service_state& s, const std::vector<replica>& rs, int n,
                  int64_t now = 100'000) {
  return plan_service(s, rs, fixed(n), target(n), limits, now);
}

std::vector<uint64_t> removed(const service_plan& p, teardown_cause c) {
  std::vector<uint64_t> ids;
  for (const auto& r : p.removals)
    if (r.cause == c)
      ids.push_back(r.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

} // namespace

TEST_CASE("serve plan: a new service launches its target") {
  auto p = plan(one_version(false), {}, 2);
  CHECK(p.launches == std::vector<replica_launch>{{1, false}, {1, false}});
  CHECK(p.removals.empty());
  CHECK(p.status == service_status::no_replica);
  auto starting = plan(
    one_version(false),
    {rep(1, replica_status::provisioning), rep(2, replica_status::starting)},
    2);
  CHECK(starting.launches.empty());
  CHECK(starting.status == service_status::replica_init);
}

TEST_CASE("serve plan: a failed replica is replaced, its record stays, "
          "old failures are forgotten") {
  auto failed = rep(1, replica_status::failed_probing);
  auto p = plan(one_version(), {failed, rep(2, replica_status::ready)}, 2);
  CHECK(p.launches.size() == 1);
  CHECK(p.status == service_status::ready);
  CHECK(p.forget.empty());
  std::vector<replica> many;
  for (uint64_t id = 1; id <= 5; ++id)
    many.push_back(rep(id, replica_status::failed_probing));
  many.push_back(rep(6, replica_status::ready));
  auto bounded = plan(one_version(), many, 1);
  CHECK(bounded.forget == std::vector<uint64_t>{1, 2}); // keeps 3 newest
  auto going = many;
  going[0].cluster_left = true; // its teardown still runs: kept for now
  CHECK(plan(one_version(), going, 1).forget == std::vector<uint64_t>{2});
}

TEST_CASE("serve plan: scale-down removes the least useful replicas") {
  auto p = plan(one_version(),
                {rep(1, replica_status::ready), rep(2, replica_status::ready),
                 rep(3, replica_status::starting)},
                1);
  CHECK(removed(p, teardown_cause::scale_down) == std::vector<uint64_t>{2, 3});
  CHECK(p.launches.empty());
}

TEST_CASE("serve plan: spot with dynamic on-demand fallback") {
  service_state s = one_version();
  autoscale_policy pol = fixed(2);
  pol.spot = true;
  pol.dynamic_ondemand_fallback = true;
  SECTION("no spot ready: on-demand covers both") {
    auto p = plan_service(s,
                          {rep(1, replica_status::provisioning, 1, true),
                           rep(2, replica_status::provisioning, 1, true)},
                          pol, target(2), limits, 1);
    CHECK(p.launches == std::vector<replica_launch>{{1, false}, {1, false}});
  }
  SECTION("spot ready again: the on-demand ones go") {
    auto p = plan_service(s,
                          {rep(1, replica_status::ready, 1, true),
                           rep(2, replica_status::ready, 1, true),
                           rep(3, replica_status::ready, 1, false),
                           rep(4, replica_status::ready, 1, false)},
                          pol, target(2), limits, 1);
    CHECK(p.launches.empty());
    CHECK(removed(p, teardown_cause::scale_down)
          == std::vector<uint64_t>{3, 4});
  }
  SECTION("a preempted spot replica is replaced by spot, covered meanwhile") {
    auto p = plan_service(s,
                          {rep(1, replica_status::ready, 1, true),
                           rep(2, replica_status::preempted, 1, true),
                           rep(3, replica_status::ready, 1, false)},
                          pol, target(2), limits, 1);
    CHECK(p.launches == std::vector<replica_launch>{{1, true}});
    CHECK(p.removals.empty());
  }
}

TEST_CASE("serve plan: a rolling update keeps old replicas until new ones "
          "are ready") {
  auto s = updated(update_mode::rolling);
  std::vector<replica> rs{rep(1, replica_status::ready),
                          rep(2, replica_status::ready)};
  auto first = plan(s, rs, 2);
  CHECK(first.launches == std::vector<replica_launch>{{2, false}, {2, false}});
  CHECK(first.removals.empty());
  CHECK(first.routed_versions == std::vector<uint64_t>{1});
  rs.push_back(rep(3, replica_status::ready, 2));
  rs.push_back(rep(4, replica_status::starting, 2));
  auto half = plan(s, rs, 2);
  CHECK(half.launches.empty());
  CHECK(removed(half, teardown_cause::outdated) == std::vector<uint64_t>{2});
  CHECK(half.routed_versions == std::vector<uint64_t>{1, 2});
  CHECK(routed_endpoints(rs, half)
        == std::vector<std::string>{"127.0.0.1:9001", "127.0.0.1:9002",
                                    "127.0.0.1:9003"});
  rs[3].status = replica_status::ready;
  rs[3].first_ready_ms = 5;
  auto done = plan(s, rs, 2);
  CHECK(removed(done, teardown_cause::outdated) == std::vector<uint64_t>{1, 2});
  SECTION("old replicas that are not ready go first") {
    std::vector<replica> mixed{rep(1, replica_status::ready),
                               rep(2, replica_status::not_ready),
                               rep(3, replica_status::ready, 2)};
    auto p = plan(s, mixed, 2);
    CHECK(removed(p, teardown_cause::outdated) == std::vector<uint64_t>{2});
  }
}

TEST_CASE("serve plan: blue-green switches once the new version has its "
          "min ready") {
  auto s = updated(update_mode::blue_green, 2);
  std::vector<replica> rs{
    rep(1, replica_status::ready), rep(2, replica_status::ready),
    rep(3, replica_status::ready, 2), rep(4, replica_status::starting, 2)};
  auto before = plan(s, rs, 2);
  CHECK(before.routed_versions == std::vector<uint64_t>{1});
  CHECK(before.removals.empty());
  CHECK(routed_endpoints(rs, before)
        == std::vector<std::string>{"127.0.0.1:9001", "127.0.0.1:9002"});
  rs[3].status = replica_status::ready;
  auto after = plan(s, rs, 2);
  CHECK(after.routed_versions == std::vector<uint64_t>{2});
  CHECK(removed(after, teardown_cause::outdated)
        == std::vector<uint64_t>{1, 2});
  CHECK(routed_endpoints(rs, after)
        == std::vector<std::string>{"127.0.0.1:9003", "127.0.0.1:9004"});
}

TEST_CASE("serve plan: a new version that fails for good rolls back to the "
          "last ready one") {
  auto s = updated(update_mode::rolling);
  auto broken = rep(3, replica_status::failed_initial_delay, 2);
  std::vector<replica> rs{rep(1, replica_status::ready),
                          rep(2, replica_status::ready), broken,
                          rep(4, replica_status::starting, 2)};
  auto p = plan(s, rs, 2);
  REQUIRE(p.roll_back_to == 1u);
  CHECK(p.launches.empty());
  CHECK(p.removals.empty());
  CHECK(p.why.find("rolling back to version 1") != std::string::npos);
  CHECK(p.status == service_status::ready);
  SECTION("after the rollback the failed version's replicas go") {
    s.latest = 1;
    auto after = plan(s, rs, 2);
    CHECK_FALSE(after.roll_back_to);
    CHECK(removed(after, teardown_cause::outdated) == std::vector<uint64_t>{4});
    CHECK(after.launches.empty());
  }
  SECTION("a provisioning failure is retried, not rolled back") {
    rs[2].status = replica_status::failed_provision;
    CHECK_FALSE(plan(s, rs, 2).roll_back_to);
  }
  SECTION("a version that was ready once is not rolled back") {
    s.versions[1].ever_ready = true;
    CHECK_FALSE(plan(s, rs, 2).roll_back_to);
  }
}

TEST_CASE("serve plan: the first version failing for good freezes the "
          "service") {
  auto p = plan(one_version(false),
                {rep(1, replica_status::failed_initial_delay),
                 rep(2, replica_status::starting)},
                2);
  CHECK(p.frozen);
  CHECK(p.launches.empty());
  CHECK(p.removals.empty());
  CHECK(p.status == service_status::failed);
  CHECK(p.why.find("skyctl serve update") != std::string::npos);
}

TEST_CASE("serve plan: launches after failed ones back off exponentially") {
  auto s = one_version();
  s.launch_failures = 1;
  s.last_launch_failure_ms = 50'000;
  struct row {
    uint32_t failures;
    int64_t now;
    bool launches;
    int64_t not_before;
  };
  for (auto w : {row{1, 59'999, false, 60'000}, row{1, 60'000, true, 0},
                 row{2, 69'999, false, 70'000}, row{3, 89'999, false, 90'000},
                 row{4, 129'999, false, 130'000}, // capped at 80 s
                 row{9, 130'000, true, 0}}) {
    INFO(w.failures << " failures at " << w.now);
    s.launch_failures = w.failures;
    auto p = plan(s, {}, 1, w.now);
    CHECK(p.launches.empty() != w.launches);
    if (!w.launches)
      CHECK(p.launch_not_before_ms == w.not_before);
  }
}

TEST_CASE("serve plan: serve down removes every live replica") {
  auto s = one_version();
  s.shutting_down = true;
  auto p
    = plan(s,
           {rep(1, replica_status::ready), rep(2, replica_status::provisioning),
            rep(3, replica_status::failed)},
           2);
  CHECK(removed(p, teardown_cause::user) == std::vector<uint64_t>{1, 2});
  CHECK(p.launches.empty());
  CHECK(p.routed_versions.empty());
  CHECK(p.status == service_status::shutting_down);
}

TEST_CASE("serve plan: a service whose replicas were all lost after being "
          "ready is NO_REPLICA") {
  auto p = plan(one_version(true), {rep(1, replica_status::not_ready)}, 1);
  CHECK(p.status == service_status::no_replica);
  CHECK(p.launches.empty());
  CHECK(routed_endpoints({rep(1, replica_status::not_ready)}, p).empty());
}
