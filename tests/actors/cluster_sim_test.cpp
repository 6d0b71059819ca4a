// Clusters over the real sim provider (virtual nodes, virtual time) under
// CAF's deterministic scheduler: failover for each error kind, rollback of
// a half-provisioned cluster, --retry-until-up, preemptions reaching
// the cluster actor as events, and virtual processes' ends pushed to their
// job actors (the polls only a fallback).

#include <catch2/catch.hpp>

#include <functional>
#include <variant>

#include "actors/cluster/cluster_registry.hpp"
#include "actors/sim/sim_watch.hpp"
#include "actors/core/worker_pool.hpp"
#include "deterministic.hpp"
#include "messages/task/parse_task.hpp"
#include "storage/memory_event_log.hpp"
#include "tests/unit/providers/sim_test_util.hpp"

using namespace sky;
using namespace sky::actors;
using namespace std::chrono_literals;

namespace {

struct sim_cluster_fixture {
  providers::testing::sim_fixture sim;
  testing::deterministic_system ds;
  std::shared_ptr<storage::memory_event_log> storage
    = std::make_shared<storage::memory_event_log>();
  event_log_actor log = ds.sys.spawn(event_log, storage);
  caf::actor pool = ds.sys.spawn(worker_pool, size_t{0});
  caf::actor planner_actor;
  caf::actor registry;
  caf::actor watch;
  caf::scoped_actor client{ds.sys};

  explicit sim_cluster_fixture(const std::string& scenario,
                               const std::function<void(cluster_deps&)>& tweak
                               = {}) {
    sim.open(scenario);
    planner_settings ps;
    ps.catalog = sim.catalog;
    ps.clouds = {"aws", "lambda"};
    planner_actor = ds.sys.spawn(planner, ps);
    cluster_deps deps;
    deps.log = log;
    deps.planner = planner_actor;
    deps.pool = pool;
    auto set = std::make_shared<provider_set>();
    set->by_name["aws"] = sim.aws;
    set->by_name["lambda"] = sim.lambda;
    deps.providers = set;
    auto clock = sim.clock;
    deps.now_ms = [clock] { return *clock; };
    if (tweak)
      tweak(deps);
    registry = ds.sys.spawn(cluster_registry, deps);
    // As root_supervisor does: provider events go to the registry.
    for (auto& p : {sim.aws, sim.lambda})
      p->set_event_sink([r = registry](providers::provider_event ev) {
        caf::anon_send(r, node_event_atom_v, std::move(ev));
      });
    client->send(registry, load_atom_v);
    ds.run();
    client->receive([](bool) {});
  }

  ~sim_cluster_fixture() {
    for (auto& p : {sim.aws, sim.lambda})
      p->set_event_sink({});
    for (auto& a : {watch, registry, planner_actor, pool})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(log, caf::exit_reason::user_shutdown);
    ds.run();
  }

  // The sim clock and the actor clock move together.
  void advance(caf::timespan t) {
    sim.advance_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(t).count());
    ds.advance(t);
  }

  void send_launch(const std::string& name, const std::string& yaml,
                   bool retry_until_up = false) {
    auto parsed = task::parse_task_yaml(yaml, "t.yaml");
    REQUIRE(parsed);
    launch_order order;
    order.task = parsed->tasks.at(0);
    order.retry_until_up = retry_until_up;
    client->send(registry, launch_atom_v, name, order);
    ds.run();
  }

  // The launch's reply, if it has come: a job id or the error text.
  std::variant<std::monostate, uint64_t, std::string> reply() {
    std::variant<std::monostate, uint64_t, std::string> out;
    client->receive([&](uint64_t id) { out = id; },
                    [&](caf::error& err) { out = describe(err).message; },
                    caf::after(0s) >> [] {});
    return out;
  }

  uint64_t launch(const std::string& name, const std::string& yaml) {
    send_launch(name, yaml);
    auto r = reply();
    if (auto* err = std::get_if<std::string>(&r))
      FAIL("launch failed: " << *err);
    REQUIRE(std::holds_alternative<uint64_t>(r));
    return std::get<uint64_t>(r);
  }

  cluster_summary status(const std::string& name) {
    client->send(registry, status_atom_v,
                 protocol::clusters_request{{name}, false});
    ds.run();
    protocol::status_reply reply;
    client->receive([&](protocol::status_reply& r) { reply = std::move(r); });
    REQUIRE(reply.clusters.size() == 1);
    return reply.clusters[0];
  }

  std::vector<job_summary> queue(const std::string& name) {
    client->send(registry, queue_atom_v, protocol::queue_request{{name}});
    ds.run();
    protocol::queue_reply reply;
    client->receive([&](protocol::queue_reply& r) { reply = std::move(r); });
    return reply.jobs;
  }

  std::vector<event> events(const std::string& entity) {
    std::vector<event> out;
    auto all = storage->read(1, 100000);
    REQUIRE(all);
    for (const auto& ev : *all)
      if (ev.entity == entity)
        out.push_back(ev);
    return out;
  }

  size_t count(const std::string& entity, const std::string& kind) {
    auto evs = events(entity);
    return std::count_if(evs.begin(), evs.end(),
                         [&](const event& e) { return e.kind == kind; });
  }
};

constexpr const char* cpu_task
  = "resources: {infra: aws, cpus: 2}\nrun: |\n  # sim: duration=forever\n  "
    "train\n";

// A job of `duration` on a virtual node; the fallback polls of a watched
// job back off to `fallback`, those of an unwatched one never come in the
// test's time (so only a pushed end can be seen early).
struct pushed_end_fixture : sim_cluster_fixture {
  explicit pushed_end_fixture(caf::timespan fallback)
    : sim_cluster_fixture{"seed: 1\n", [fallback](cluster_deps& deps) {
                            deps.job_poll_max = std::chrono::hours(24);
                            deps.job_poll_max_watched = fallback;
                          }} {}

  void launch_job(const std::string& duration) {
    launch("j", "resources: {infra: aws, cpus: 2}\nrun: |\n  # sim: duration="
                  + duration + "\n  train\n");
    REQUIRE(queue("j").at(0).status == "RUNNING");
  }

  std::string job_status() { return queue("j").at(0).status; }
};

} // namespace

TEST_CASE("sim failover: a zone without capacity blocks the zone, the "
          "region's next zone is tried") {
  sim_cluster_fixture f{R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a: {capacity: {m5.large: 0}}
)"};
  f.launch("c", cpu_task);
  auto s = f.status("c");
  CHECK(s.status == "UP");
  CHECK(s.placement.region == "us-east-1");
  CHECK(s.placement.zone == "us-east-1b");
  CHECK(f.count("cluster.c", "cluster.provision_failed") == 1);
}

TEST_CASE("sim failover: a region quota blocks the region") {
  sim_cluster_fixture f{R"(clouds:
  aws:
    regions:
      us-east-1: {quota: {instances: 0}}
)"};
  f.launch("c", cpu_task);
  auto s = f.status("c");
  CHECK(s.placement.region == "us-west-2");
  // us-east-1b is never tried: the whole region was blocked at once.
  CHECK(f.count("cluster.c", "cluster.provision_failed") == 1);
}

TEST_CASE("sim failover: an auth error blocks the whole cloud") {
  sim_cluster_fixture f{R"(clouds:
  lambda:
    failures:
      - error: auth
)"};
  // lambda is the cheapest A100:8 in both its regions; one try is enough.
  f.launch("g", "resources: {accelerators: A100:8}\nrun: |\n  # sim: "
                "duration=1s\n  x\n");
  auto s = f.status("g");
  CHECK(s.placement.provider == "aws");
  CHECK(f.count("cluster.g", "cluster.provision_failed") == 1);
}

TEST_CASE("sim failover: a half-provisioned 4-node cluster is rolled back "
          "and nothing leaks") {
  sim_cluster_fixture f{R"(clouds:
  aws:
    regions:
      us-east-1:
        zones:
          us-east-1a: {capacity: {m5.large: 2}}
)"};
  f.launch("four", "num_nodes: 4\nresources: {infra: aws, cpus: 2}\nrun: |\n  "
                   "# sim: duration=forever\n  x\n");
  auto s = f.status("four");
  CHECK(s.placement.zone == "us-east-1b");
  CHECK(s.placement.num_nodes == 4);
  auto failed = f.events("cluster.four");
  auto it = std::find_if(failed.begin(), failed.end(), [](const event& e) {
    return e.kind == "cluster.provision_failed";
  });
  REQUIRE(it != failed.end());
  CHECK(it->fields.find("2 of 4 nodes were created, then terminated again")
        != std::string::npos);
  // The simulator holds exactly the four nodes in us-east-1b.
  auto clusters = f.sim.world->list("aws");
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].zone == "us-east-1b");
  size_t running = 0;
  for (const auto& inst : clusters[0].instances)
    if (inst.state == providers::instance_state::running)
      ++running;
  CHECK(running == 4);
  // The two us-east-1a instances no longer hold capacity: two fit there.
  auto two = f.sim.aws->run_instances(providers::testing::sim_request(
    "other", "us-east-1", "us-east-1a", "m5.large", false, 2));
  CHECK(two);
}

TEST_CASE("sim: --retry-until-up lands once capacity appears") {
  sim_cluster_fixture f{"clouds:\n  aws: {capacity: {m5.large: 0}}\n"};
  f.send_launch("r", cpu_task, true);
  CHECK(std::holds_alternative<std::monostate>(f.reply()));
  CHECK(f.status("r").status == "INIT");
  auto failures = f.count("cluster.r", "cluster.provision_failed");
  CHECK(failures >= 1);
  REQUIRE(f.sim.world->set_capacity("aws", "us-west-2", "", "m5.large", false,
                                    int64_t{4}));
  f.advance(5s); // the first back-off
  auto r = f.reply();
  REQUIRE(std::holds_alternative<uint64_t>(r));
  auto s = f.status("r");
  CHECK(s.status == "UP");
  CHECK(s.placement.region == "us-west-2");
}

TEST_CASE("sim: a scheduled spot preemption reaches the cluster actor as an "
          "event: INIT, job FAILED_DRIVER, recorded") {
  sim_cluster_fixture f{"clouds:\n  aws:\n    preemption: {after: 10m}\n"};
  f.launch("spot", "resources: {infra: aws, cpus: 2, use_spot: true}\nrun: "
                   "|\n  # sim: duration=forever\n  x\n");
  f.advance(100ms);
  CHECK(f.status("spot").status == "UP");
  REQUIRE(f.queue("spot").at(0).status == "RUNNING");
  // Spot instances cannot be stopped: refused, nothing ended.
  f.client->send(f.registry, stop_atom_v,
                 protocol::clusters_request{{"spot"}, false});
  f.ds.run();
  protocol::outcomes_reply stopped;
  f.client->receive([&](protocol::outcomes_reply& r) { stopped = r; });
  REQUIRE(stopped.results.size() == 1);
  CHECK_FALSE(stopped.results[0].ok);
  CHECK(stopped.results[0].message.find("cannot be stopped")
        != std::string::npos);
  CHECK(f.status("spot").status == "UP");
  CHECK(f.queue("spot").at(0).status == "RUNNING");
  // The watcher asks the world when the preemption is due.
  f.watch = f.ds.sys.spawn(sim_watch, f.sim.world, f.pool,
                           caf::timespan{std::chrono::seconds(1)});
  f.ds.run();
  f.advance(9min);
  CHECK(f.status("spot").status == "UP");
  f.advance(1min);
  f.advance(1s);
  auto s = f.status("spot");
  CHECK(s.status == "INIT");
  CHECK(s.reason.find("node 0 was preempted") != std::string::npos);
  CHECK(f.queue("spot").at(0).status == "FAILED_DRIVER");
  CHECK(f.count("cluster.spot", "cluster.preempted") == 1);
}

TEST_CASE("sim: a preempted node is replaced where the cluster is when it is "
          "launched again") {
  sim_cluster_fixture f{"seed: 1\n"};
  f.launch("p", cpu_task);
  auto zone = f.status("p").placement.zone;
  auto events = f.sim.world->preempt("p", 0);
  REQUIRE(events);
  f.ds.run();
  CHECK(f.status("p").status == "INIT");
  CHECK(f.queue("p").at(0).status == "FAILED_DRIVER");
  // A launch relaunches in place (never elsewhere: the other nodes, and
  // here the cluster's disks, are there).
  f.launch("p", "resources: {infra: aws, cpus: 2}\nrun: x\n");
  auto s = f.status("p");
  CHECK(s.status == "UP");
  CHECK(s.placement.zone == zone);
  CHECK(f.count("cluster.p", "cluster.starting") == 1);
}

TEST_CASE("sim: a virtual job's end is pushed to its job actor, not left to "
          "the slow fallback poll") {
  pushed_end_fixture f{std::chrono::hours(1)};
  f.launch_job("10m");
  // The watcher looks when the scripted end is due (next_due_at).
  f.watch = f.ds.sys.spawn(sim_watch, f.sim.world, f.pool,
                           caf::timespan{std::chrono::hours(1)});
  f.ds.run();
  // Second by second (the sim clock moves before the actor clock, so big
  // steps would let a poll see the future). The job's own polls back off
  // (50 ms doubling: at about 1, 2, 3, 4, 5, 7, 11, 18, 31, 57, 109, 212,
  // 417 and 827 s); none comes near the end at 600 s.
  for (int s = 1; s < 600; ++s)
    f.advance(1s);
  CHECK(f.job_status() == "RUNNING");
  f.advance(1s);
  CHECK(f.job_status() == "SUCCEEDED");
  CHECK(f.count("job.j.1", "job.finished") == 1);
}

TEST_CASE("sim: a cancelled virtual job ends at once through its notice") {
  pushed_end_fixture f{std::chrono::hours(1)};
  f.launch_job("forever");
  f.advance(10min);
  CHECK(f.job_status() == "RUNNING");
  f.client->send(f.registry, cancel_atom_v,
                 protocol::cancel_request{"j", {1}, false});
  f.ds.run();
  f.client->receive([](protocol::outcomes_reply&) {});
  // No time passes: the end of the SIGTERMed process is pushed; the first
  // poll after the signal would only come 50 ms later.
  CHECK(f.job_status() == "CANCELLED");
}

TEST_CASE("sim: without the push (no sim_watch looks at the end), the "
          "fallback poll still sees the job's end, at job_poll_max_watched") {
  pushed_end_fixture f{std::chrono::minutes(1)};
  f.launch_job("10m");
  // Second by second (the sim clock moves before the actor clock, so big
  // steps would let a poll see the future): the polls back off 50 ms,
  // 100 ms, ... 51.2 s, then come every minute; with no cap the one after
  // ~410 s would come after ~820 s.
  int seen_at = 0;
  for (int s = 1; s <= 700 && seen_at == 0; ++s) {
    f.advance(1s);
    if (f.job_status() != "RUNNING")
      seen_at = s;
  }
  CHECK(f.job_status() == "SUCCEEDED");
  CHECK(seen_at >= 600);
  CHECK(seen_at <= 661);
}
