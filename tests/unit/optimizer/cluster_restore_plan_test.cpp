// reconcile_restored: what a cluster does after a skyd restart, step by
// step as the actor feeds it what it observed (the provider's answer, the
// removal of an interrupted attempt). Each row checks the concrete step,
// the event to record and the snapshot.

#include <catch2/catch.hpp>

#include "optimizer/cluster/cluster_restore_plan.hpp"

using namespace sky;
using namespace sky::optimizer;
using step = restore_step;

namespace {

constexpr int64_t now = 9'000;

cluster_snapshot restored(cluster_status status,
                          cluster_phase phase = cluster_phase::none) {
  cluster_snapshot s;
  s.name = "c";
  s.status = std::string{to_string(status)};
  s.phase = phase;
  s.placement.provider = "aws";
  s.nodes = {{0, "i-0", "10.0.0.1"}};
  s.launched_at_ms = 500;
  return s;
}

// A first launch cut short: nothing ran yet.
cluster_snapshot first_launch() {
  auto s = restored(cluster_status::init, cluster_phase::provisioning);
  s.launched_at_ms = 0;
  return s;
}

cluster_snapshot retrying(int64_t retry_at = 20'000) {
  auto s = first_launch();
  s.retrying = retrying_launch{"task", true, std::nullopt, "tid", retry_at};
  return s;
}

restore_observed known() {
  restore_observed o;
  o.provider_known = true;
  return o;
}

restore_observed answered(bool all_running, cluster_phase queried) {
  auto o = known();
  o.all_running = all_running;
  o.queried_phase = queried;
  return o;
}

} // namespace

TEST_CASE("restored clusters with nothing in flight") {
  SECTION("UP: ask the provider") {
    auto p = reconcile_restored(restored(cluster_status::up), known(), now);
    CHECK(p.step == step::query);
    CHECK(p.record_kind.empty());
  }
  SECTION("UP and all running: re-attach without recording") {
    auto p = reconcile_restored(restored(cluster_status::up),
                                answered(true, cluster_phase::none), now);
    CHECK(p.step == step::adopt_up);
    CHECK(p.record_kind.empty());
    CHECK(p.snap.status == "UP");
  }
  SECTION("AUTOSTOPPING and all running: UP again, recorded") {
    auto p = reconcile_restored(restored(cluster_status::autostopping),
                                answered(true, cluster_phase::none), now);
    CHECK(p.step == step::adopt_up);
    CHECK(p.record_kind == "cluster.up");
    CHECK(p.snap.status == "UP");
    CHECK(p.snap.launched_at_ms == 500);
  }
  SECTION("UP and instances gone: INIT, jobs end") {
    auto p = reconcile_restored(restored(cluster_status::up),
                                answered(false, cluster_phase::none), now);
    CHECK(p.step == step::end_jobs_lost);
    CHECK(p.record_kind == "cluster.lost");
    CHECK(p.snap.status == "INIT");
    CHECK(p.snap.reason == "its instances are gone; launch it again");
  }
  SECTION("STOPPED and INIT run nothing") {
    CHECK(
      reconcile_restored(restored(cluster_status::stopped), known(), now).step
      == step::nothing);
    CHECK(reconcile_restored(restored(cluster_status::init), known(), now).step
          == step::nothing);
  }
  SECTION("a provider this skyd lacks: INIT with the reason, unrecorded") {
    auto p = reconcile_restored(restored(cluster_status::up), {}, now);
    CHECK(p.step == step::keep);
    CHECK(p.record_kind.empty());
    CHECK(p.snap.status == "INIT");
    CHECK(p.snap.reason == "provider 'aws' is not configured in this skyd");
  }
}

TEST_CASE("restored clusters with an operation in flight") {
  SECTION("a stop is carried out again") {
    auto p = reconcile_restored(
      restored(cluster_status::autostopping, cluster_phase::stopping), known(),
      now);
    CHECK(p.step == step::resume_stop);
    CHECK(p.snap.phase == cluster_phase::none);
    CHECK(p.snap.status == "AUTOSTOPPING");
  }
  SECTION("a teardown is carried out again") {
    auto p = reconcile_restored(
      restored(cluster_status::up, cluster_phase::terminating), known(), now);
    CHECK(p.step == step::resume_teardown);
    CHECK(p.snap.phase == cluster_phase::none);
  }
  SECTION("a launch that reached no provider is lost, nothing to remove") {
    auto s = first_launch();
    s.placement.provider.clear();
    auto p = reconcile_restored(s, {}, now);
    CHECK(p.step == step::record_lost);
    CHECK(p.record_kind == "cluster.lost");
    CHECK(p.snap.phase == cluster_phase::none);
    CHECK(p.snap.reason
          == "skyd restarted before the launch reached any infra; launch it "
             "again");
  }
  SECTION("a first launch cut short: remove its attempt, then lost") {
    auto s = first_launch();
    CHECK(reconcile_restored(s, known(), now).step == step::query);
    auto p = reconcile_restored(s, answered(false, cluster_phase::provisioning),
                                now);
    CHECK(p.step == step::remove_attempt);
    CHECK(p.record_kind.empty());
    auto seen = answered(false, cluster_phase::provisioning);
    seen.attempt_removed = true;
    p = reconcile_restored(s, seen, now);
    CHECK(p.step == step::end_jobs_lost);
    CHECK(p.snap.reason
          == "skyd restarted while provisioning; launch it again");
    CHECK(p.snap.phase == cluster_phase::none);
  }
  SECTION("a relaunch of a cluster that ran keeps its instances") {
    auto s = restored(cluster_status::init, cluster_phase::provisioning);
    auto p = reconcile_restored(s, answered(false, cluster_phase::provisioning),
                                now);
    CHECK(p.step == step::end_jobs_lost);
  }
  SECTION("a start cut short: lost, the disks stay") {
    auto s = restored(cluster_status::stopped, cluster_phase::starting);
    auto p
      = reconcile_restored(s, answered(false, cluster_phase::starting), now);
    CHECK(p.step == step::end_jobs_lost);
    CHECK(p.snap.reason == "skyd restarted while starting; launch it again");
  }
  SECTION("a start whose instances all run: UP, recorded") {
    auto s = restored(cluster_status::stopped, cluster_phase::starting);
    auto p
      = reconcile_restored(s, answered(true, cluster_phase::starting), now);
    CHECK(p.step == step::adopt_up);
    CHECK(p.record_kind == "cluster.up");
    CHECK(p.snap.phase == cluster_phase::none);
  }
  SECTION("a teardown accepted while the query was out owns the cluster") {
    auto s = restored(cluster_status::up, cluster_phase::terminating);
    auto p = reconcile_restored(s, answered(true, cluster_phase::none), now);
    CHECK(p.step == step::drop);
  }
}

TEST_CASE("a restored --retry-until-up launch") {
  SECTION("its task cannot be read back: lost with why") {
    auto seen = known();
    seen.unreadable_launch = "bad task";
    auto p = reconcile_restored(retrying(), seen, now);
    CHECK(p.step == step::record_lost);
    CHECK_FALSE(p.snap.retrying);
    CHECK(p.snap.status == "INIT");
    CHECK(p.snap.reason.find("could not read the launch back (bad task)")
          != std::string::npos);
  }
  SECTION("no attempt reached a provider: the rounds go on") {
    auto s = retrying();
    s.placement.provider.clear();
    auto p = reconcile_restored(s, known(), now);
    CHECK(p.step == step::resume_rounds);
    CHECK(p.record_kind == "cluster.launch_resumed");
    CHECK(p.enqueue_launch);
    CHECK(p.snap.phase == cluster_phase::provisioning);
  }
  SECTION("an attempt reached a provider: ask it first") {
    auto p = reconcile_restored(retrying(), known(), now);
    CHECK(p.step == step::query);
    CHECK(p.enqueue_launch);
    CHECK(p.record_kind.empty());
  }
  SECTION("the attempt's instances all run: adopted, UP now") {
    auto p = reconcile_restored(
      retrying(), answered(true, cluster_phase::provisioning), now);
    CHECK(p.step == step::adopt_launch);
    CHECK(p.record_kind == "cluster.up");
    CHECK_FALSE(p.snap.retrying);
    CHECK(p.snap.status == "UP");
    CHECK(p.snap.launched_at_ms == now);
    CHECK_FALSE(p.enqueue_launch);
  }
  SECTION("half made: removed, then the next round at its deadline") {
    auto p = reconcile_restored(
      retrying(), answered(false, cluster_phase::provisioning), now);
    CHECK(p.step == step::remove_attempt);
    auto seen = answered(false, cluster_phase::provisioning);
    seen.attempt_removed = true;
    p = reconcile_restored(retrying(), seen, now);
    CHECK(p.step == step::resume_rounds);
    CHECK_FALSE(p.enqueue_launch);
    REQUIRE(p.snap.retrying);
    CHECK(p.snap.retrying->retry_at_ms == 20'000);
  }
  SECTION("a teardown accepted meanwhile drops the answer") {
    auto s = retrying();
    s.phase = cluster_phase::terminating;
    auto p
      = reconcile_restored(s, answered(true, cluster_phase::provisioning), now);
    CHECK(p.step == step::drop);
  }
}
