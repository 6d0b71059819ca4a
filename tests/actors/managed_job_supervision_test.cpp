// The managed jobs registry when a supervisor dies abnormally: it is
// restarted from the job's last snapshot within a budget, then the job ends
// FAILED_CONTROLLER with its cluster torn down; a snapshot that cannot be
// read is shown FAILED_CONTROLLER and kept. Deterministic: a real cluster
// registry over fake providers, simulated time.

#include <catch2/catch.hpp>

#include <filesystem>

#include "actors/managed_job/managed_jobs.hpp"
#include "cluster_fixture.hpp"
#include "messages/task/parse_task.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::actors;
using namespace std::chrono_literals;

namespace {

struct managed_fixture : testing::cluster_fixture {
  sky::testing::temp_dir dir;
  caf::actor jobs;

  managed_fixture() { jobs = start_jobs(); }

  caf::actor start_jobs() {
    managed_job_deps deps;
    deps.log = log;
    deps.clusters = registry;
    deps.planner = planner_actor;
    deps.pool = pool;
    deps.dir = dir.path();
    auto clock = now;
    deps.now_ms = [clock] { return *clock; };
    auto a = ds.sys.spawn(managed_jobs, deps);
    extra.push_back(a);
    client->send(a, load_atom_v);
    ds.run();
    client->receive(
      [](bool) {},
      [](caf::error& err) { FAIL("load failed: " << describe(err).message); });
    return a;
  }

  uint64_t submit(const std::string& yaml) {
    auto p = task::parse_task_yaml(yaml, "t.yaml");
    REQUIRE(p);
    protocol::jobs_launch_request req;
    req.pipeline = *p;
    req.detach = true;
    client->send(jobs, launch_atom_v, req);
    ds.run();
    uint64_t id = 0;
    client->receive([&](protocol::managed_job_row& row) { id = row.job_id; },
                    [](caf::error& err) {
                      FAIL("submit failed: " << describe(err).message);
                    });
    return id;
  }

  protocol::managed_job_row row(uint64_t id) {
    client->send(jobs, queue_atom_v, protocol::jobs_queue_request{});
    ds.run();
    protocol::managed_job_row out;
    client->receive(
      [&](protocol::jobs_queue_reply& r) {
        for (auto& j : r.jobs)
          if (j.job_id == id)
            out = j;
      },
      [](caf::error& err) { FAIL("queue failed: " << describe(err).message); });
    return out;
  }

  caf::actor supervisor(uint64_t id) {
    client->send(jobs, caf::get_atom_v, id);
    ds.run();
    caf::actor out;
    client->receive([&](caf::actor& a) { out = a; }, [](caf::error&) {});
    return out;
  }

  // What a bug in the supervisor looks like from outside: it is gone with
  // an error.
  void kill_supervisor(uint64_t id) {
    auto sup = supervisor(id);
    REQUIRE(sup);
    caf::anon_send_exit(sup, caf::exit_reason::unhandled_exception);
    ds.run();
  }
};

constexpr const char* long_task = "resources: {infra: local}\nrun: train\n";

} // namespace

TEST_CASE("a supervisor that dies is replaced and its job goes on") {
  managed_fixture f;
  auto id = f.submit(long_task);
  f.advance(100ms);
  REQUIRE(f.row(id).status == "RUNNING");
  REQUIRE(f.local->running_count() == 1);
  auto first = f.supervisor(id);

  f.kill_supervisor(id);

  auto second = f.supervisor(id);
  REQUIRE(second);
  CHECK(second != first);
  CHECK(f.row(id).status == "RUNNING");
  // Resumed, not relaunched: the task's process is the one started before.
  CHECK(f.local->processes.size() == 1);
  CHECK(f.local->running_count() == 1);
  auto kinds = f.kinds("managed_job." + std::to_string(id));
  CHECK(
    std::count(kinds.begin(), kinds.end(), "managed_job.supervisor_restarted")
    == 1);

  // The new supervisor watches the task to its end and cleans up.
  f.local->finish(0, "train");
  f.advance(2s);
  f.advance(2s);
  auto r = f.row(id);
  CHECK(r.status == "SUCCEEDED");
  CHECK(f.local->clusters.empty());
  CHECK_FALSE(f.supervisor(id));
}

TEST_CASE("a supervisor that keeps dying ends its job FAILED_CONTROLLER with "
          "the cluster torn down") {
  managed_fixture f;
  auto id = f.submit(long_task);
  f.advance(100ms);
  REQUIRE(f.row(id).status == "RUNNING");
  REQUIRE(f.local->clusters.size() == 1);

  // The default budget: 3 restarts within 10 minutes.
  for (int i = 0; i < 3; ++i) {
    f.kill_supervisor(id);
    REQUIRE(f.row(id).status == "RUNNING");
  }
  f.kill_supervisor(id);
  f.advance(1s);

  auto r = f.row(id);
  CHECK(r.status == "FAILED_CONTROLLER");
  CHECK(r.reason.find("its supervisor failed (unhandled_exception)")
        != std::string::npos);
  CHECK(r.reason.find("restarted 3 times") != std::string::npos);
  CHECK(f.local->clusters.empty());
  CHECK(f.local->running_count() == 0);
  CHECK_FALSE(f.supervisor(id));
  auto kinds = f.kinds("managed_job." + std::to_string(id));
  REQUIRE(kinds.size() >= 2);
  CHECK(kinds[kinds.size() - 2] == "managed_job.failed_controller");
  CHECK(kinds.back() == "managed_job.cleaned_up");
}

TEST_CASE("restarts long ago do not count against a supervisor") {
  managed_fixture f;
  auto id = f.submit(long_task);
  f.advance(100ms);
  for (int i = 0; i < 3; ++i)
    f.kill_supervisor(id);
  f.advance(11min);
  f.kill_supervisor(id);
  CHECK(f.row(id).status == "RUNNING");
  CHECK(f.supervisor(id));
}

TEST_CASE("a managed job snapshot that cannot be read shows FAILED_CONTROLLER, "
          "is kept, and its id is not reused") {
  managed_fixture f;
  event_draft d;
  d.entity = "managed_job.7";
  d.kind = "managed_job.submitted";
  d.snapshot = snapshot_op::put;
  d.snapshot_value = "not a snapshot";
  REQUIRE(f.storage->append({d}));
  f.jobs = f.start_jobs();

  auto r = f.row(7);
  CHECK(r.job_id == 7);
  CHECK(r.status == "FAILED_CONTROLLER");
  CHECK(r.reason.find("cannot be read") != std::string::npos);
  CHECK(f.submit(long_task) == 8);
  auto kept = f.storage->load_snapshot("managed_job.7");
  REQUIRE(kept);
  CHECK(*kept == std::optional<std::string>{"not a snapshot"});
}

TEST_CASE("a job whose launch was cut short by a restart after its task was "
          "submitted carries on with that task instead of running it twice") {
  managed_fixture f;
  protocol::jobs_launch_request req;
  auto p = task::parse_task_yaml(long_task, "t.yaml");
  REQUIRE(p);
  req.pipeline = *p;
  req.detach = true;
  f.client->send(f.jobs, launch_atom_v, req);
  // Run until the cluster has recorded the task's job: the cluster's
  // answer to the launch is still on its way to the supervisor, whose
  // record says STARTING.
  while (f.kinds("job.").empty())
    REQUIRE(f.ds.sched.try_run_once());
  REQUIRE(f.kinds("managed_job.1").back() == "managed_job.launching");
  // skyd stops (the managed jobs go; the clusters are restored as they
  // were, as cluster_test checks) and starts again.
  caf::anon_send_exit(f.jobs, caf::exit_reason::user_shutdown);
  f.ds.run();
  f.client->receive([](protocol::managed_job_row&) {}, [](caf::error&) {},
                    caf::after(0s) >> [] {});
  f.jobs = f.start_jobs();
  f.advance(100ms);

  auto r = f.row(1);
  CHECK(r.status == "RUNNING");
  CHECK(f.local->processes.size() == 1); // not launched again
  CHECK(f.local->running_count() == 1);
  f.local->finish(0, "train");
  f.advance(2s);
  f.advance(2s);
  CHECK(f.row(1).status == "SUCCEEDED");
  CHECK(f.local->processes.size() == 1);
  CHECK(f.local->clusters.empty());
}
