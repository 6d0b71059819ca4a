#include <catch2/catch.hpp>

#include <csignal>
#include <variant>

#include "cluster_fixture.hpp"
#include "messages/cluster_snapshot.hpp"
#include "messages/msgpack_util.hpp"

using namespace sky;
using namespace sky::actors;
using namespace std::chrono_literals;

using fixture = testing::cluster_fixture;
using testing::task_of;

TEST_CASE("a launch provisions, runs setup then run, and ends SUCCEEDED") {
  fixture f;
  auto job = f.launch("c1", "setup: echo SETUP\nrun: echo RUN\n");
  REQUIRE(std::holds_alternative<uint64_t>(job));
  CHECK(std::get<uint64_t>(job) == 1);
  CHECK(f.status("c1").status == "UP");
  CHECK(f.status("c1").placement.provider == "local");
  REQUIRE(f.local->running_count() == 1);
  const auto& setup = f.local->processes.begin()->second;
  CHECK(setup.script == "echo SETUP");
  CHECK(setup.env.at("SKYPILOT_SETUP_NODE_RANK") == "0");
  CHECK(f.queue("c1").at(0).status == "SETTING_UP");
  f.local->finish(0, "SETUP");
  f.advance(50ms);
  CHECK(f.queue("c1").at(0).status == "RUNNING");
  REQUIRE(f.local->running_count() == 1);
  auto& run = f.local->processes.rbegin()->second;
  CHECK(run.env.at("SKYPILOT_NODE_RANK") == "0");
  CHECK(run.env.at("SKYPILOT_NUM_NODES") == "1");
  CHECK(run.env.at("SKYPILOT_TASK_ID").find("_c1_1") != std::string::npos);
  f.local->finish(0, "RUN");
  f.advance(100ms);
  auto q = f.queue("c1");
  REQUIRE(q.size() == 1);
  CHECK(q[0].status == "SUCCEEDED");
  CHECK(q[0].exit_code == 0);
  CHECK(f.kinds("cluster.c1")
        == std::vector<std::string>{"cluster.launch_requested",
                                    "cluster.provisioning", "cluster.up",
                                    "cluster.job_submitted", "cluster.idle"});
  CHECK(f.kinds("job.c1.1")
        == std::vector<std::string>{"job.submitted", "job.setting_up",
                                    "job.processes", "job.running",
                                    "job.processes", "job.finished"});
}

TEST_CASE("failover blocks the failed place and lands on the next candidate") {
  fixture f;
  f.aws->fail_next_run("us-east-1", providers::provider_error(
                                      errc::no_capacity, failure_scope::zone,
                                      "no m5.2xlarge capacity"));
  auto job = f.launch("big", "resources: {infra: aws, cpus: 8}\nrun: x\n");
  REQUIRE(std::holds_alternative<uint64_t>(job));
  auto s = f.status("big");
  CHECK(s.status == "UP");
  CHECK(s.placement.region == "us-west-2");
  CHECK(s.placement.hourly_price == Approx(0.4));
  CHECK(f.aws->calls.at(0).find("us-east-1") != std::string::npos);
  CHECK(f.aws->calls.at(1).find("us-west-2") != std::string::npos);
  CHECK(f.kinds("cluster.big")
        == std::vector<std::string>{
          "cluster.launch_requested", "cluster.provisioning",
          "cluster.provision_failed", "cluster.provisioning", "cluster.up",
          "cluster.job_submitted"});
}

TEST_CASE("when every candidate fails the launch fails and nothing remains") {
  fixture f;
  for (auto region : {"us-east-1", "us-west-2"})
    f.aws->fail_next_run(
      region, providers::provider_error(
                errc::no_capacity, failure_scope::region, "out of capacity"));
  auto job = f.launch("none", "resources: {infra: aws, cpus: 8}\nrun: x\n");
  REQUIRE(std::holds_alternative<std::string>(job));
  CHECK(std::get<std::string>(job).find("no place can run the task")
        != std::string::npos);
  CHECK(
    f.ask<protocol::status_reply>(status_atom_v, protocol::clusters_request{})
      .clusters.empty());
  CHECK(f.kinds("cluster.none").back() == "cluster.launch_failed");
}

TEST_CASE("a failing rank fails a multi-node job and stops the other ranks") {
  fixture f;
  REQUIRE(std::holds_alternative<uint64_t>(
    f.launch("mn", "num_nodes: 2\nrun: work\n")));
  REQUIRE(f.local->running_count() == 2);
  // Rank 1 fails; rank 0 keeps running until the job stops it.
  for (auto& [pid, p] : f.local->processes)
    if (p.rank == 1) {
      p.state = providers::process_state::exited;
      p.exit_code = 3;
    }
  f.advance(50ms);
  auto q = f.queue("mn");
  CHECK(q.at(0).status == "FAILED");
  CHECK(q.at(0).exit_code == 3);
  CHECK(f.local->running_count() == 0);
  for (const auto& [pid, p] : f.local->processes)
    if (p.rank == 0)
      CHECK(p.signals == std::vector<int>{SIGTERM});
}

TEST_CASE("jobs queue by resources and start in submission order") {
  fixture f;
  // The fake local machine has 8 vCPUs; each job asks for 3.
  REQUIRE(std::holds_alternative<uint64_t>(f.launch("q", "run: first\n")));
  f.local->finish(0);
  f.advance(100ms);
  for (int i = 0; i < 4; ++i) {
    f.client->send(
      f.registry, exec_atom_v, std::string{"q"},
      task_of("resources: {cpus: 3}\nrun: job" + std::to_string(i) + "\n"));
    f.ds.run();
    f.client->receive([](uint64_t) {});
  }
  auto q = f.queue("q");
  // Newest first: jobs 5, 4 pending; 3, 2 running.
  CHECK(q.at(0).status == "PENDING");
  CHECK(q.at(1).status == "PENDING");
  CHECK(q.at(2).status == "RUNNING");
  CHECK(q.at(3).status == "RUNNING");
  f.local->finish(0, "job0");
  f.advance(100ms);
  q = f.queue("q");
  CHECK(q.at(0).status == "PENDING");
  CHECK(q.at(1).status == "RUNNING"); // job 4 took job 2's place
  // A job that can never fit is refused, not queued.
  f.client->send(f.registry, exec_atom_v, std::string{"q"},
                 task_of("resources: {cpus: 64}\nrun: x\n"));
  f.ds.run();
  f.client->receive([](uint64_t) { FAIL("accepted"); },
                    [](caf::error& err) {
                      CHECK(describe(err).message.find("64 vCPUs")
                            != std::string::npos);
                    });
}

TEST_CASE("cancel ends pending and running jobs") {
  fixture f;
  REQUIRE(std::holds_alternative<uint64_t>(
    f.launch("cx", "resources: {cpus: 8}\nrun: long\n")));
  f.client->send(f.registry, exec_atom_v, std::string{"cx"},
                 task_of("resources: {cpus: 8}\nrun: waits\n"));
  f.ds.run();
  f.client->receive([](uint64_t id) { CHECK(id == 2); });
  auto out = f.ask<protocol::outcomes_reply>(
    cancel_atom_v, protocol::cancel_request{"cx", {1, 2, 9}, false});
  REQUIRE(out.results.size() == 3);
  CHECK(out.results[0].status == "CANCELLING");
  CHECK(out.results[1].status == "CANCELLED");
  CHECK_FALSE(out.results[2].ok);
  f.advance(100ms);
  auto q = f.queue("cx");
  CHECK(q.at(0).status == "CANCELLED");
  CHECK(q.at(1).status == "CANCELLED");
  CHECK(f.local->running_count() == 0);
}

TEST_CASE("autostop stops an idle cluster after its idle time, not before") {
  fixture f;
  REQUIRE(std::holds_alternative<uint64_t>(
    f.launch("idle", "run: x\n", autostop_info{1, false})));
  f.local->finish(0);
  f.advance(100ms);
  CHECK(f.status("idle").status == "UP");
  f.advance(58s);
  CHECK(f.status("idle").status == "UP");
  f.advance(2s);
  CHECK(f.status("idle").status == "STOPPED");
  CHECK(f.local->calls.back() == "stop idle");
}

TEST_CASE("autostop with down tears the cluster down") {
  fixture f;
  REQUIRE(std::holds_alternative<uint64_t>(
    f.launch("gone", "run: x\n", autostop_info{0, true})));
  f.local->finish(0);
  f.advance(100ms);
  CHECK(
    f.ask<protocol::status_reply>(status_atom_v, protocol::clusters_request{})
      .clusters.empty());
  CHECK(f.local->calls.back() == "terminate gone");
  CHECK(f.kinds("cluster.gone").back() == "cluster.terminated");
  CHECK(f.storage->load_snapshots("")->size() == 0);
}

TEST_CASE("a restarted registry restores clusters and re-attaches jobs") {
  fixture f;
  REQUIRE(std::holds_alternative<uint64_t>(f.launch("r", "run: keep\n")));
  f.client->send(f.registry, exec_atom_v, std::string{"r"},
                 task_of("resources: {cpus: 8}\nrun: queued\n"));
  f.ds.run();
  f.client->receive([](uint64_t) {});
  CHECK(f.local->processes.size() == 1);
  // skyd dies: every actor of the old registry goes away (the registry
  // stops its clusters, which stop their job actors; processes live on).
  caf::anon_send_exit(f.registry, caf::exit_reason::user_shutdown);
  f.ds.run();
  f.registry = f.make_registry();
  auto q = f.queue("r");
  REQUIRE(q.size() == 2);
  CHECK(q[1].status == "RUNNING");
  CHECK(q[0].status == "PENDING");
  // The running job's process is the same one: nothing started twice.
  CHECK(f.local->processes.size() == 1);
  f.local->finish(0, "keep");
  f.advance(100ms);
  q = f.queue("r");
  CHECK(q[1].status == "SUCCEEDED");
  CHECK(q[0].status == "RUNNING"); // the pending job started afterwards
  CHECK(f.local->processes.size() == 2);
}

TEST_CASE("a launch killed before its first attempt restarts as INIT and "
          "can be torn down") {
  // Found by the crash harness (tests/crash): skyd died between
  // cluster.launch_requested and the first cluster.provisioning, so the
  // snapshot names no provider; the restored cluster stayed INIT ("provider
  // '' is not configured") and every `down` failed.
  fixture f;
  cluster_snapshot snap;
  snap.name = "early";
  snap.phase = cluster_phase::provisioning;
  f.restart_with(snap);
  auto st = f.status("early");
  CHECK(st.status == "INIT");
  CHECK(st.reason.find("before the launch reached any infra")
        != std::string::npos);
  CHECK(f.kinds("cluster.early").back() == "cluster.lost");
  auto down = f.ask<protocol::outcomes_reply>(
    down_atom_v, protocol::clusters_request{{"early"}, false});
  REQUIRE(down.results.size() == 1);
  CHECK(down.results[0].ok);
  CHECK(
    f.ask<protocol::status_reply>(status_atom_v, protocol::clusters_request{})
      .clusters.empty());
  CHECK(f.kinds("cluster.early").back() == "cluster.terminated");
  CHECK(f.local->calls.empty()); // no provider was asked for anything
  CHECK(f.aws->calls.empty());
  CHECK(f.storage->load_snapshots("cluster.")->empty());
}

TEST_CASE("reuse refuses a task that does not fit and exec needs UP") {
  fixture f;
  REQUIRE(std::holds_alternative<uint64_t>(
    f.launch("small", "resources: {cpus: 2}\nrun: x\n")));
  auto again = f.launch("small", "resources: {cpus: 4}\nrun: x\n");
  REQUIRE(std::holds_alternative<std::string>(again));
  CHECK(std::get<std::string>(again).find("task needs 4 vCPUs per node")
        != std::string::npos);
  auto ok = f.launch("small", "resources: {cpus: 1}\nrun: y\n");
  CHECK(std::holds_alternative<uint64_t>(ok));
  auto stopped = f.ask<protocol::outcomes_reply>(
    stop_atom_v, protocol::clusters_request{{"small"}, false});
  REQUIRE(stopped.results.at(0).ok);
  CHECK(stopped.results.at(0).status == "STOPPED");
  f.client->send(f.registry, exec_atom_v, std::string{"small"},
                 task_of("run: x\n"));
  f.ds.run();
  f.client->receive([](uint64_t) { FAIL("exec on STOPPED accepted"); },
                    [](caf::error& err) {
                      CHECK(describe(err).message.find("STOPPED")
                            != std::string::npos);
                    });
  CHECK(f.queue("small").at(0).status == "CANCELLED");
  auto bad = f.launch("1bad", "run: x\n");
  REQUIRE(std::holds_alternative<std::string>(bad));
  CHECK(std::get<std::string>(bad).find("must start with a letter")
        != std::string::npos);
}

TEST_CASE("start-up reconciliation terminates instances no cluster owns and "
          "keeps the others") {
  fixture f;
  auto launched = f.launch("mine", "run: keep\n");
  INFO((std::get_if<std::string>(&launched)
          ? *std::get_if<std::string>(&launched)
          : std::string{}));
  REQUIRE(std::holds_alternative<uint64_t>(launched));
  // An instance a provider holds for a cluster skyd has no record of (a
  // crash inside a rollback, or state restored from an old backup).
  providers::cluster_record ghost;
  ghost.provider = "aws";
  ghost.cluster = "ghost";
  ghost.instances.push_back({});
  f.aws->clusters["ghost"] = ghost;
  caf::anon_send_exit(f.registry, caf::exit_reason::user_shutdown);
  f.ds.run();
  f.registry = f.make_registry();
  f.ds.run();
  CHECK(std::count(f.aws->calls.begin(), f.aws->calls.end(), "terminate ghost")
        == 1);
  CHECK(f.aws->clusters.count("ghost") == 0);
  CHECK(
    std::count(f.local->calls.begin(), f.local->calls.end(), "terminate mine")
    == 0);
  auto report = f.ask<reconcile_report>(reconcile_atom_v);
  CHECK(report.finished_at_ms != 0);
  CHECK(report.providers == 2);
  CHECK(report.provider_clusters == 2);
  CHECK(report.orphans == std::vector<std::string>{"aws/ghost"});
  CHECK(report.problems.empty());
  CHECK(f.kinds("daemon").back() == "daemon.reconciled");
  CHECK(f.status("mine").status == "UP");
}

TEST_CASE("a managed job's cluster is its job's: the user's verbs are refused, "
          "-a skips it, its owner tears it down") {
  fixture f;
  const std::string job_owner = managed_job_owner(7);
  REQUIRE(std::holds_alternative<uint64_t>(f.launch("mine", "run: keep\n")));
  REQUIRE(std::holds_alternative<uint64_t>(
    f.launch("job-7", "run: keep\n", {}, job_owner)));
  CHECK(f.status("job-7").owner == "managed_job.7");
  CHECK(f.status("mine").owner.empty());
  const std::string refused
    = "cluster 'job-7' belongs to managed job 7; cancel the job with skyctl "
      "jobs cancel 7";

  auto user_down = [&](std::vector<std::string> names, bool all) {
    return f.ask<protocol::outcomes_reply>(
      down_atom_v, protocol::clusters_request{std::move(names), all});
  };
  for (auto verb : {0, 1, 2}) {
    protocol::clusters_request req{{"job-7"}, false};
    auto r = verb == 0   ? f.ask<protocol::outcomes_reply>(down_atom_v, req)
             : verb == 1 ? f.ask<protocol::outcomes_reply>(stop_atom_v, req)
                         : f.ask<protocol::outcomes_reply>(start_atom_v, req);
    REQUIRE(r.results.size() == 1);
    CHECK_FALSE(r.results[0].ok);
    CHECK(r.results[0].message == refused);
  }
  CHECK(f.refusal(exec_atom_v, std::string{"job-7"}, task_of("run: x\n"))
        == refused);
  CHECK(f.refusal(autostop_atom_v,
                  protocol::autostop_request{"job-7", 5, true, false})
        == refused);
  CHECK(f.refusal(cancel_atom_v, protocol::cancel_request{"job-7", {}, true})
        == refused);
  auto relaunch = f.launch("job-7", "run: x\n");
  REQUIRE(std::holds_alternative<std::string>(relaunch));
  CHECK(std::get<std::string>(relaunch) == refused);
  // Reading verbs still see it.
  CHECK(f.queue("job-7").size() == 1);
  CHECK(f.queue("job-7").at(0).status == "RUNNING");
  // `queue` without names: the user's clusters only.
  auto everyone
    = f.ask<protocol::queue_reply>(queue_atom_v, protocol::queue_request{});
  REQUIRE(everyone.jobs.size() == 1);
  CHECK(everyone.jobs[0].cluster == "mine");

  // down -a: the user's clusters only.
  auto all = user_down({}, true);
  REQUIRE(all.results.size() == 1);
  CHECK(all.results[0].cluster == "mine");
  CHECK(all.results[0].ok);
  CHECK(f.status("job-7").status == "UP");
  CHECK(f.queue("job-7").at(0).status == "RUNNING");

  // The owner survives a restart.
  f.restart();
  CHECK(f.status("job-7").owner == "managed_job.7");
  CHECK(user_down({"job-7"}, false).results.at(0).message == refused);

  // A managed job never launches on, nor tears down, a user's cluster that
  // carries its cluster's name.
  REQUIRE(std::holds_alternative<uint64_t>(f.launch("u", "run: keep\n")));
  auto foreign = f.launch("u", "run: x\n", {}, managed_job_owner(8));
  REQUIRE(std::holds_alternative<std::string>(foreign));
  CHECK(std::get<std::string>(foreign)
        == "cluster 'u' belongs to the user, not to managed job 8");
  auto left = f.ask<protocol::outcomes_reply>(
    down_atom_v, protocol::clusters_request{{"u"}, false},
    managed_job_owner(8));
  REQUIRE(left.results.size() == 1);
  CHECK(left.results[0].ok);
  CHECK(left.results[0].message.find("left alone") != std::string::npos);
  CHECK(f.status("u").status == "UP");

  // The owner's own teardown works.
  auto down = f.ask<protocol::outcomes_reply>(
    down_atom_v, protocol::clusters_request{{"job-7"}, false}, job_owner);
  REQUIRE(down.results.size() == 1);
  CHECK(down.results[0].ok);
  CHECK(down.results[0].message.empty());
  auto rest
    = f.ask<protocol::status_reply>(status_atom_v, protocol::clusters_request{})
        .clusters;
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].name == "u");
}

TEST_CASE("a cluster recorded before owners existed is the user's, and a "
          "managed job may still tear it down") {
  fixture f;
  cluster_snapshot snap;
  snap.name = "old-3";
  snap.phase = cluster_phase::provisioning;
  snap.owner.reset(); // as decoded from a snapshot without the field
  f.restart_with(snap);
  CHECK(f.status("old-3").owner.empty());
  // The user's: a managed job's launch on it is refused.
  auto launched = f.launch("old-3", "run: x\n", {}, managed_job_owner(3));
  REQUIRE(std::holds_alternative<std::string>(launched));
  CHECK(std::get<std::string>(launched).find("belongs to the user")
        != std::string::npos);
  auto down = f.ask<protocol::outcomes_reply>(
    down_atom_v, protocol::clusters_request{{"old-3"}, false},
    managed_job_owner(3));
  REQUIRE(down.results.size() == 1);
  CHECK(down.results[0].ok);
  CHECK(down.results[0].message.empty());
  CHECK(
    f.ask<protocol::status_reply>(status_atom_v, protocol::clusters_request{})
      .clusters.empty());
}

namespace {

// A worker pool whose tasks wait until (flush_atom): a provider call that
// is slow to answer.
struct held_pool_state {
  static inline const char* name = "held_pool";
  std::vector<std::pair<blocking_task, caf::response_promise>> held;
};

caf::behavior held_pool(caf::stateful_actor<held_pool_state>* self) {
  return {
    [=](blocking_task& task) {
      auto promise = self->make_response_promise();
      self->state.held.emplace_back(std::move(task), promise);
      return promise;
    },
    [=](flush_atom) {
      auto held = std::move(self->state.held);
      self->state.held.clear();
      for (auto& [task, promise] : held) {
        task.fn();
        promise.deliver(done_atom_v);
      }
      // From now on, at once.
      self->become([](blocking_task& task) {
        task.fn();
        return done_atom_v;
      });
    },
  };
}

} // namespace

TEST_CASE("a teardown accepted while a restored cluster still asks its "
          "provider leaves no job actor behind") {
  // Found by managed_jobs_bench: `jobs cancel -a` right after a restart
  // tore clusters down whose restore then re-attached their jobs; the
  // job actors outlived their clusters and kept skyd from stopping.
  fixture f;
  REQUIRE(std::holds_alternative<uint64_t>(f.launch("r", "run: keep\n")));
  caf::anon_send_exit(f.registry, caf::exit_reason::user_shutdown);
  f.ds.run();
  f.extra.push_back(f.pool);
  f.pool = f.ds.sys.spawn(held_pool);
  f.registry = f.make_registry(); // r's query_instances is held
  f.client->send(f.registry, down_atom_v,
                 protocol::clusters_request{{"r"}, false});
  f.ds.run();
  caf::anon_send(f.pool, flush_atom_v); // the query, then the terminate
  f.ds.run();
  f.client->receive([](protocol::outcomes_reply& r) {
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].ok);
  });
  f.advance(1s);
  // No job actor polled the torn-down nodes (it would record the job's
  // end after the cluster's removal).
  auto kinds = f.kinds("job.r.");
  CHECK(std::count(kinds.begin(), kinds.end(), "job.finished") == 0);
  CHECK(kinds.back() == "job.removed");
  CHECK(f.local->running_count() == 0);
}
