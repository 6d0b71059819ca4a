// The autoscaler under simulated time: request rates, hysteresis measured
// in time, scale-from-zero, the spot/on-demand split and scale-down order.

#include <catch2/catch.hpp>

#include "optimizer/serve/autoscaler.hpp"

using namespace sky::optimizer;

namespace {

autoscale_policy qps_policy(int min, int max, double per_replica) {
  autoscale_policy p;
  p.min_replicas = min;
  p.max_replicas = max;
  p.target_qps_per_replica = per_replica;
  p.upscale_delay_ms = 30'000;
  p.downscale_delay_ms = 60'000;
  return p;
}

replica live(uint64_t id, replica_status s, uint64_t version = 1) {
  replica r;
  r.id = id;
  r.status = s;
  r.version = version;
  return r;
}

} // namespace

TEST_CASE("serve autoscaler: the request rate is the count in the window "
          "over the window") {
  request_rate rate{10'000};
  CHECK(rate.qps(0) == 0.0);
  rate.add(1'000, 50);
  rate.add(1'500, 50); // same second
  rate.add(9'999, 100);
  CHECK(rate.qps(10'000) == Approx(20.0));
  // At 11.0 s the second [1, 2) leaves the window.
  CHECK(rate.qps(11'000) == Approx(10.0));
  CHECK(rate.qps(20'000) == 0.0);
  SECTION("late reports inside the window count, older ones do not") {
    rate.add(30'000, 10);
    rate.add(25'000, 10);
    rate.add(15'000, 1000); // 15 s older than the newest: outside
    CHECK(rate.qps(30'500) == Approx(2.0));
  }
}

TEST_CASE("serve autoscaler: raw target is ceil(qps / per replica) within "
          "min and max") {
  auto p = qps_policy(1, 5, 5.0);
  struct row {
    double qps;
    int want;
  };
  for (auto [qps, want] : {row{0, 1}, row{4.9, 1}, row{5, 1}, row{5.1, 2},
                           row{10, 2}, row{24, 5}, row{1000, 5}}) {
    INFO("qps " << qps);
    CHECK(raw_target(p, qps) == want);
  }
  autoscale_policy fixed;
  fixed.min_replicas = fixed.max_replicas = 3;
  CHECK(raw_target(fixed, 500) == 3);
}

TEST_CASE("serve autoscaler: up after the upscale delay, down after the "
          "downscale delay, both measured in time") {
  auto p = qps_policy(1, 4, 5.0);
  auto s = initial_autoscaler(p, 0);
  REQUIRE(s.target == 1);
  s = autoscale(p, s, 20, 1'000); // wants 4
  CHECK(s.target == 1);
  CHECK(s.above_since_ms == 1'000);
  s = autoscale(p, s, 20, 30'999);
  CHECK(s.target == 1);
  s = autoscale(p, s, 20, 31'000);
  CHECK(s.target == 4);
  CHECK_FALSE(s.above_since_ms);
  SECTION("one quiet decision resets the upscale clock") {
    auto t = autoscale(p, initial_autoscaler(p, 0), 20, 0);
    t = autoscale(p, t, 5, 10'000); // wants 1 = target
    CHECK_FALSE(t.above_since_ms);
    t = autoscale(p, t, 20, 20'000);
    t = autoscale(p, t, 20, 40'000);
    CHECK(t.target == 1); // only 20 s above since the reset
    t = autoscale(p, t, 20, 50'000);
    CHECK(t.target == 4);
  }
  SECTION("down only after the downscale delay") {
    s = autoscale(p, s, 0, 40'000);
    CHECK(s.target == 4);
    CHECK(s.below_since_ms == 40'000);
    s = autoscale(p, s, 0, 99'999);
    CHECK(s.target == 4);
    s = autoscale(p, s, 0, 100'000);
    CHECK(s.target == 1);
  }
  SECTION("the decision interval does not change when it scales") {
    auto fine = initial_autoscaler(p, 0);
    auto coarse = fine;
    for (int64_t t = 0; t <= 30'000; t += 1'000)
      fine = autoscale(p, fine, 20, t);
    for (int64_t t = 0; t <= 30'000; t += 15'000)
      coarse = autoscale(p, coarse, 20, t);
    CHECK(fine.target == 4);
    CHECK(coarse.target == 4);
  }
}

TEST_CASE("serve autoscaler: scale from zero is immediate, to zero waits") {
  auto p = qps_policy(0, 3, 2.0);
  auto s = initial_autoscaler(p, 0);
  REQUIRE(s.target == 0);
  s = autoscale(p, s, 0, 5'000);
  CHECK(s.target == 0);
  s = autoscale(p, s, 0.1, 6'000);
  CHECK(s.target == 1);
  s = autoscale(p, s, 0, 7'000);
  CHECK(s.target == 1);
  s = autoscale(p, s, 0, 67'000);
  CHECK(s.target == 0);
}

TEST_CASE("serve autoscaler: a policy changed by an update clips the target "
          "at once") {
  autoscaler_state s;
  s.target = 6;
  auto smaller = qps_policy(1, 2, 1.0);
  CHECK(autoscale(smaller, s, 100, 1).target == 2);
  auto larger_min = qps_policy(4, 8, 1.0);
  s.target = 1;
  CHECK(autoscale(larger_min, s, 0, 1).target == 4);
}

TEST_CASE("serve autoscaler: spot and on-demand counts") {
  autoscale_policy p;
  p.spot = true;
  autoscaler_state s;
  s.target = 3;
  SECTION("spot only") {
    CHECK(wanted_by_kind(p, s, 0) == replica_counts{3, 0});
  }
  SECTION("not spot: everything on-demand, overprovision included") {
    p.spot = false;
    p.num_overprovision = 1;
    CHECK(wanted_by_kind(p, s, 0) == replica_counts{0, 4});
  }
  SECTION("a static base of on-demand") {
    p.base_ondemand = 1;
    CHECK(wanted_by_kind(p, s, 0) == replica_counts{2, 1});
    CHECK(wanted_by_kind(p, s, 2) == replica_counts{2, 1});
  }
  SECTION("dynamic fallback covers spot that is not ready, then goes") {
    p.dynamic_ondemand_fallback = true;
    CHECK(wanted_by_kind(p, s, 0) == replica_counts{3, 3});
    CHECK(wanted_by_kind(p, s, 2) == replica_counts{3, 1});
    CHECK(wanted_by_kind(p, s, 3) == replica_counts{3, 0});
  }
  SECTION("on-demand never covers overprovisioning") {
    p.dynamic_ondemand_fallback = true;
    p.num_overprovision = 2;
    CHECK(wanted_by_kind(p, s, 0) == replica_counts{5, 3});
  }
  SECTION("a base larger than the target") {
    p.base_ondemand = 5;
    CHECK(wanted_by_kind(p, s, 0) == replica_counts{0, 3});
  }
}

TEST_CASE("serve autoscaler: scale-down picks the least useful replicas "
          "first") {
  std::vector<replica> rs{
    live(1, replica_status::ready),        live(2, replica_status::ready),
    live(3, replica_status::starting),     live(4, replica_status::pending),
    live(5, replica_status::not_ready),    live(6, replica_status::ready, 2),
    live(7, replica_status::shutting_down)};
  CHECK(pick_scale_down(rs, 1) == std::vector<uint64_t>{4});
  CHECK(pick_scale_down(rs, 3) == std::vector<uint64_t>{4, 3, 5});
  // Among READY ones: the older version, then the newest replica.
  CHECK(pick_scale_down(rs, 6) == std::vector<uint64_t>{4, 3, 5, 2, 1, 6});
  // A replica already going is never picked again.
  CHECK(pick_scale_down(rs, 10).size() == 6);
}

TEST_CASE("serve autoscaler: policy_of reads the YAML's replica_policy") {
  sky::task::replica_policy_spec spec;
  spec.min_replicas = 2;
  spec.max_replicas = 5;
  spec.target_qps_per_replica = 3.5;
  spec.upscale_delay_seconds = 10;
  spec.downscale_delay_seconds = 20;
  spec.num_overprovision = 1;
  spec.base_ondemand_fallback_replicas = 1;
  spec.dynamic_ondemand_fallback = true;
  auto p = policy_of(spec, true);
  CHECK(p.min_replicas == 2);
  CHECK(p.max_replicas == 5);
  CHECK(p.target_qps_per_replica == 3.5);
  CHECK(p.upscale_delay_ms == 10'000);
  CHECK(p.downscale_delay_ms == 20'000);
  CHECK(p.num_overprovision == 1);
  CHECK(p.base_ondemand == 1);
  CHECK(p.dynamic_ondemand_fallback);
  sky::task::replica_policy_spec fixed;
  fixed.min_replicas = 2;
  CHECK(policy_of(fixed, false).max_replicas == 2);
}
