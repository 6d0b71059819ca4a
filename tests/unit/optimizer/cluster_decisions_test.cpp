// decide_cluster: the gates of launch, start, stop and down, and the
// --retry-until-up backoff. Each row states the facts, the event and the
// concrete step, record and snapshot it must give.

#include <catch2/catch.hpp>

#include "messages/task/parse_task.hpp"
#include "messages/task/task_codec.hpp"
#include "optimizer/cluster/cluster_decisions.hpp"

using namespace sky;
using namespace sky::optimizer;
namespace ev = sky::optimizer::cl_event;
using step = cluster_step;

namespace {

task::task_spec task_from(const std::string& yaml) {
  auto p = task::parse_task_yaml(yaml, "t.yaml");
  REQUIRE(p);
  return p->tasks.at(0);
}

// A recorded cluster "c" on AWS with two nodes, in `status`.
cluster_facts cluster_in(cluster_status status,
                         cluster_phase phase = cluster_phase::none) {
  cluster_facts f;
  f.recorded = true;
  f.provider_known = true;
  f.snap.name = "c";
  f.snap.status = std::string{to_string(status)};
  f.snap.phase = phase;
  f.snap.placement.provider = "aws";
  f.snap.placement.region = "us-east-1";
  f.snap.placement.instance_type = "m6i.large";
  f.snap.placement.num_nodes = 2;
  f.snap.placement.cpus = 2;
  f.snap.placement.memory_gib = 8;
  f.snap.nodes = {{0, "i-0", "10.0.0.1"}, {1, "i-1", "10.0.0.2"}};
  f.snap.launched_at_ms = 500;
  f.snap.attempts = 3;
  f.snap.autostop = {10, false};
  return f;
}

// A cluster actor just created by a launch: nothing recorded yet.
cluster_facts brand_new() {
  cluster_facts f;
  f.snap.name = "c";
  return f;
}

// An INIT cluster whose launch failed before anything was made.
cluster_facts failed_launch() {
  auto f = cluster_in(cluster_status::init);
  f.snap.nodes.clear();
  f.snap.launched_at_ms = 0;
  f.snap.reason = "no capacity";
  return f;
}

std::string message_of(const caf::error& err) {
  return describe(err).message;
}

errc code_of(const caf::error& err) {
  return describe(err).code;
}

const task::task_spec& small_task() {
  static const auto task = task_from("run: echo hi\n");
  return task;
}

cluster_decision launch(const cluster_facts& f,
                        const task::task_spec& t = small_task(),
                        bool retry_until_up = false,
                        std::optional<autostop_info> autostop = {}) {
  return decide_cluster(
    f, ev::launch_requested{t, true, autostop, retry_until_up, "tid", "owner"},
    1'000);
}

cluster_decision stop(const cluster_facts& f,
                      stop_cause cause = stop_cause::user) {
  return decide_cluster(f, ev::stop_requested{cause}, 1'000);
}

cluster_decision down(const cluster_facts& f,
                      stop_cause cause = stop_cause::user) {
  return decide_cluster(f, ev::down_requested{cause}, 1'000);
}

cluster_decision start(const cluster_facts& f) {
  return decide_cluster(f, ev::start_requested{}, 1'000);
}

} // namespace

TEST_CASE("cluster launch gates") {
  SECTION("the first launch of a new cluster takes its owner and provisions") {
    auto d = launch(brand_new());
    CHECK(d.step == step::provision);
    CHECK(d.record_kind == "cluster.launch_requested");
    CHECK(d.snap.owner == std::optional<std::string>{"owner"});
    CHECK(d.snap.status == "INIT");
    CHECK(d.snap.phase == cluster_phase::provisioning);
    CHECK_FALSE(d.snap.retrying);
  }
  SECTION("a second launch of a new cluster waits for the first") {
    auto f = brand_new();
    f.waiting_launches = 1;
    auto d = launch(f);
    CHECK(d.step == step::queue_launch);
    CHECK(d.record_kind.empty());
    CHECK_FALSE(d.snap.owner);
    CHECK(d.snap.phase == cluster_phase::none);
  }
  SECTION("--retry-until-up keeps the launch in the snapshot") {
    auto d = launch(brand_new(), small_task(), true, autostop_info{5, true});
    CHECK(d.step == step::provision);
    REQUIRE(d.snap.retrying);
    CHECK(d.snap.retrying->task == task::encode_task(small_task()));
    CHECK(d.snap.retrying->task_id == "tid");
    CHECK(d.snap.retrying->run_setup);
    REQUIRE(d.snap.retrying->autostop);
    CHECK(d.snap.retrying->autostop->idle_minutes == 5);
    CHECK(d.snap.retrying->retry_at_ms == 0);
  }
  SECTION("a provisioning or start in flight queues the launch") {
    CHECK(
      launch(cluster_in(cluster_status::init, cluster_phase::provisioning)).step
      == step::queue_launch);
    CHECK(
      launch(cluster_in(cluster_status::stopped, cluster_phase::starting)).step
      == step::queue_launch);
  }
  SECTION("a stop or teardown in flight refuses the launch") {
    auto d = launch(cluster_in(cluster_status::up, cluster_phase::stopping));
    CHECK(d.step == step::refuse);
    CHECK(code_of(d.error) == errc::conflict);
    CHECK(message_of(d.error) == "cluster 'c' is stopping");
    d = launch(cluster_in(cluster_status::up, cluster_phase::terminating));
    CHECK(d.step == step::refuse);
    CHECK(message_of(d.error) == "cluster 'c' is terminating");
  }
  SECTION("an UP cluster is reused when the task fits, with its autostop") {
    auto d = launch(cluster_in(cluster_status::up), small_task(), false,
                    autostop_info{30, true});
    CHECK(d.step == step::reuse);
    CHECK(d.record_kind.empty());
    CHECK(d.snap.autostop.idle_minutes == 30);
    CHECK(d.snap.autostop.down);
  }
  SECTION("reuse without -i keeps the cluster's autostop") {
    auto d = launch(cluster_in(cluster_status::up));
    CHECK(d.step == step::reuse);
    CHECK(d.snap.autostop.idle_minutes == 10);
  }
  SECTION("an UP cluster the task does not fit refuses it and says why") {
    auto d = launch(cluster_in(cluster_status::up),
                    task_from("resources: {accelerators: A100:8}\n"));
    CHECK(d.step == step::refuse);
    CHECK(code_of(d.error) == errc::conflict);
    CHECK(message_of(d.error).find("task needs A100:8") != std::string::npos);
  }
  SECTION("a STOPPED cluster starts where its disks are") {
    auto d = launch(cluster_in(cluster_status::stopped));
    CHECK(d.step == step::start_in_place);
    CHECK_FALSE(d.relaunch_in_place);
    CHECK(d.record_kind.empty());
  }
  SECTION("an INIT cluster that still has nodes relaunches in place") {
    auto d = launch(cluster_in(cluster_status::init));
    CHECK(d.step == step::start_in_place);
    CHECK(d.relaunch_in_place);
  }
  SECTION("an INIT cluster without nodes provisions again") {
    auto d = launch(failed_launch());
    CHECK(d.step == step::provision);
    CHECK(d.snap.reason.empty());
    CHECK(d.snap.phase == cluster_phase::provisioning);
    CHECK_FALSE(d.snap.owner); // only the first launch sets it
  }
  SECTION("INIT nodes of a cluster that never came up are not restarted") {
    auto f = cluster_in(cluster_status::init);
    f.snap.launched_at_ms = 0;
    CHECK(launch(f).step == step::provision);
  }
}

TEST_CASE("cluster start gates") {
  SECTION("busy while anything is in flight") {
    auto d = start(cluster_in(cluster_status::up, cluster_phase::stopping));
    CHECK(d.step == step::refuse);
    CHECK(message_of(d.error)
          == "cluster 'c' is stopping; cannot start it now");
  }
  SECTION("an UP cluster is already started") {
    auto d = start(cluster_in(cluster_status::up));
    CHECK(d.step == step::finish);
    CHECK(d.snap.attempts == 3);
  }
  SECTION("an INIT cluster without nodes must be launched again") {
    auto d = start(failed_launch());
    CHECK(d.step == step::fail);
    CHECK(code_of(d.error) == errc::conflict);
    CHECK(message_of(d.error) == "cluster 'c' is INIT (no capacity)");
    CHECK(describe(d.error).hint == "launch it again: skyctl launch -c c");
  }
  SECTION("no provider configured") {
    auto f = cluster_in(cluster_status::stopped);
    f.provider_known = false;
    auto d = start(f);
    CHECK(d.step == step::fail);
    CHECK(code_of(d.error) == errc::unavailable);
    CHECK(message_of(d.error) == "no provider 'aws'");
  }
  SECTION("a STOPPED cluster starts: one more attempt, phase starting") {
    auto d = start(cluster_in(cluster_status::stopped));
    CHECK(d.step == step::start);
    CHECK(d.record_kind == "cluster.starting");
    CHECK(d.snap.attempts == 4);
    CHECK(d.snap.phase == cluster_phase::starting);
    CHECK(d.snap.status == "STOPPED");
  }
  SECTION("an INIT cluster with nodes starts in place") {
    auto d = start(cluster_in(cluster_status::init));
    CHECK(d.step == step::start);
    CHECK(d.snap.phase == cluster_phase::starting);
  }
}

TEST_CASE("cluster stop gates") {
  SECTION("busy while anything is in flight") {
    auto d = stop(cluster_in(cluster_status::init, cluster_phase::starting));
    CHECK(d.step == step::refuse);
    CHECK(message_of(d.error) == "cluster 'c' is starting; cannot stop it now");
  }
  SECTION("a STOPPED cluster is already stopped") {
    CHECK(stop(cluster_in(cluster_status::stopped)).step == step::finish);
  }
  SECTION("a provider without stop refuses") {
    auto f = cluster_in(cluster_status::up);
    f.snap.placement.provider = "local";
    f.provider_can_stop = false;
    auto d = stop(f);
    CHECK(d.step == step::fail);
    CHECK(code_of(d.error) == errc::unsupported);
    CHECK(message_of(d.error) == "local clusters cannot be stopped");
  }
  SECTION("an unknown provider does not refuse (the stop fails later)") {
    auto f = cluster_in(cluster_status::up);
    f.provider_known = false;
    f.provider_can_stop = false;
    CHECK(stop(f).step == step::stop);
  }
  SECTION("spot clusters cannot be stopped") {
    auto f = cluster_in(cluster_status::up);
    f.snap.placement.use_spot = true;
    auto d = stop(f);
    CHECK(d.step == step::fail);
    CHECK(code_of(d.error) == errc::unsupported);
    CHECK(message_of(d.error).find("runs on spot instances")
          != std::string::npos);
  }
  SECTION("an INIT cluster without nodes has nothing to stop") {
    auto d = stop(failed_launch());
    CHECK(d.step == step::fail);
    CHECK(code_of(d.error) == errc::conflict);
    CHECK(message_of(d.error) == "cluster 'c' has no instances to stop");
  }
  SECTION("the user's stop of an UP cluster stays UP while stopping") {
    auto d = stop(cluster_in(cluster_status::up));
    CHECK(d.step == step::stop);
    CHECK(d.record_kind == "cluster.stopping");
    CHECK(d.reason == "stopped by the user");
    CHECK(d.snap.status == "UP");
    CHECK(d.snap.phase == cluster_phase::stopping);
  }
  SECTION("an autostop's stop shows AUTOSTOPPING, from the cause") {
    auto d = stop(cluster_in(cluster_status::up), stop_cause::autostop);
    CHECK(d.step == step::stop);
    CHECK(d.snap.status == "AUTOSTOPPING");
    CHECK(d.reason == "idle for 10 min (autostop)");
  }
  SECTION("an autostop of a cluster that is not UP keeps its status") {
    auto d = stop(cluster_in(cluster_status::init), stop_cause::autostop);
    CHECK(d.step == step::stop);
    CHECK(d.snap.status == "INIT");
  }
  SECTION("a stop resumed after a restart says so") {
    auto d = stop(cluster_in(cluster_status::autostopping),
                  stop_cause::restart_resume);
    CHECK(d.step == step::stop);
    CHECK(d.reason == "resuming a stop after a restart");
    CHECK(d.snap.status == "AUTOSTOPPING");
  }
}

TEST_CASE("cluster down gates") {
  SECTION("a teardown in flight refuses another") {
    auto d = down(cluster_in(cluster_status::up, cluster_phase::terminating));
    CHECK(d.step == step::refuse);
    CHECK(code_of(d.error) == errc::conflict);
    CHECK(message_of(d.error)
          == "cluster 'c' is terminating; cannot tear it down now");
  }
  SECTION("an attempt in flight makes the teardown wait for its answer") {
    auto f = cluster_in(cluster_status::init, cluster_phase::provisioning);
    f.attempt_in_flight = true;
    auto d = down(f);
    CHECK(d.step == step::wait_for_attempt);
    CHECK(d.snap.phase == cluster_phase::provisioning);
    CHECK(d.record_kind.empty());
  }
  SECTION("a cluster with nothing recorded is erased at once") {
    auto d = down(brand_new());
    CHECK(d.step == step::erase);
    CHECK(d.record_kind.empty());
    CHECK(d.snap.phase == cluster_phase::terminating);
    CHECK(d.reason == "torn down by the user");
  }
  SECTION("the user's teardown records its intent first") {
    auto d = down(cluster_in(cluster_status::stopped));
    CHECK(d.step == step::tear_down);
    CHECK(d.record_kind == "cluster.terminating");
    CHECK(d.snap.phase == cluster_phase::terminating);
    CHECK(d.reason == "torn down by the user");
  }
  SECTION("a launch being ranked (no attempt out) is torn down now") {
    auto d
      = down(cluster_in(cluster_status::init, cluster_phase::provisioning));
    CHECK(d.step == step::tear_down);
    CHECK(d.snap.phase == cluster_phase::terminating);
  }
  SECTION("autostop --down and a resumed teardown give their reasons") {
    CHECK(down(cluster_in(cluster_status::up), stop_cause::autostop).reason
          == "idle for 10 min (autostop)");
    CHECK(
      down(cluster_in(cluster_status::up), stop_cause::restart_resume).reason
      == "resuming a teardown after a restart");
    // A teardown never shows AUTOSTOPPING.
    CHECK(down(cluster_in(cluster_status::up), stop_cause::autostop).snap.status
          == "UP");
  }
}

TEST_CASE("a launch round without candidates") {
  auto f = cluster_in(cluster_status::init, cluster_phase::provisioning);
  f.snap.retrying = retrying_launch{};
  SECTION("the first ranking of a launch finds nothing: the task's fault") {
    auto d = decide_cluster(f, ev::no_candidates{true, 0, "aws: no A100"}, 0);
    CHECK(d.step == step::fail_launch);
    CHECK(code_of(d.error) == errc::no_capacity);
    CHECK(message_of(d.error)
          == "no place can run the task now:\naws: no A100");
    CHECK(describe(d.error).hint
          == "change the task's resources or enable more infra (skyctl "
             "check)");
  }
  SECTION("after attempts, without --retry-until-up, the launch fails") {
    auto d = decide_cluster(f, ev::no_candidates{false, 3, "full"}, 0);
    CHECK(d.step == step::fail_launch);
    CHECK(describe(d.error).hint == "retry later, or use --retry-until-up");
  }
  SECTION("--retry-until-up waits and records the deadline") {
    auto d = decide_cluster(f, ev::no_candidates{true, 1, "full"}, 7'000);
    CHECK(d.step == step::retry_later);
    CHECK(d.record_kind == "cluster.retry_scheduled");
    CHECK(d.retry_wait_ms == 5'000);
    REQUIRE(d.snap.retrying);
    CHECK(d.snap.retrying->retry_at_ms == 12'000);
  }
  SECTION("a retry without the launch in the snapshot still waits") {
    f.snap.retrying.reset();
    auto d = decide_cluster(f, ev::no_candidates{true, 9, "full"}, 7'000);
    CHECK(d.step == step::retry_later);
    CHECK(d.retry_wait_ms == 10'000);
    CHECK_FALSE(d.snap.retrying);
  }
}

TEST_CASE("the --retry-until-up backoff doubles every 8 attempts to 300 s") {
  struct row {
    uint32_t tries;
    int64_t wait_ms;
  };
  const row rows[]
    = {{1, 5'000},    {7, 5'000},    {8, 10'000},         {15, 10'000},
       {16, 20'000},  {24, 40'000},  {32, 80'000},        {40, 160'000},
       {48, 300'000}, {56, 300'000}, {1'000'000, 300'000}};
  for (const auto& r : rows) {
    CAPTURE(r.tries);
    CHECK(retry_until_up_wait_ms(r.tries) == r.wait_ms);
  }
}
