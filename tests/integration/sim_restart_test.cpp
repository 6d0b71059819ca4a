// Simulated clouds across skyd restarts, and the virtual node mode end to
// end (jobs that "run" for a scripted sim duration without a process).

#include "sim_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using namespace sky::testing::sim_it;

namespace {

size_t count_kind(const std::vector<json>& events, const std::string& kind) {
  return static_cast<size_t>(
    std::count_if(events.begin(), events.end(),
                  [&](const json& e) { return e["kind"] == kind; }));
}

// The job of `cluster` with `id` from `queue -o json` (newest first).
json job_of(const skyd_home& home, const std::string& cluster, uint64_t id) {
  for (const auto& j : jobs_of(home, cluster))
    if (j["job_id"] == id)
      return j;
  return nullptr;
}

std::string status_of_job(const skyd_home& home, const std::string& cluster,
                          uint64_t id) {
  auto j = job_of(home, cluster, id);
  return j == nullptr ? "" : j["status"].get<std::string>();
}

} // namespace

TEST_CASE("sim: a --retry-until-up launch resumes after kill -9 of skyd and "
          "runs its job once capacity appears") {
  skyd_home home;
  simulate(home, R"(clouds:
  gcp: {capacity: {A100: 0}}
  azure: {capacity: {A100: 0}}
  aws: {capacity: {A100: 0}}
)");
  run_result first;
  std::thread launcher([&] {
    first = home.skyctl({"launch", "-y", "-c", "later", "--retry-until-up",
                         "--gpus", "A100:8", "--", "echo resumed"},
                        std::chrono::seconds(60));
  });
  // A round failed everywhere and the next one is scheduled: that launch
  // was acknowledged, so a crash must not lose it.
  bool scheduled = eventually([&] {
    return count_kind(events_of(home, "cluster.later"),
                      "cluster.retry_scheduled")
           >= 1;
  });
  REQUIRE(scheduled);
  home.kill9();
  launcher.join();
  CHECK(first.exit_code != 0); // its skyd went away

  // The next skyctl starts a new skyd; the launch goes on by itself.
  auto c = status_of(home, "later");
  REQUIRE(c != nullptr);
  CHECK(c["status"] == "INIT");
  auto cap = home.skyctl({"sim", "capacity", "aws/us-east-1", "A100", "8"});
  INFO(cap.err);
  REQUIRE(cap.exit_code == 0);
  REQUIRE(eventually([&] { return status_of(home, "later")["status"] == "UP"; },
                     std::chrono::seconds(30)));
  CHECK(status_of(home, "later")["placement"]["region"] == "us-east-1");
  REQUIRE(
    eventually([&] { return status_of_job(home, "later", 1) == "SUCCEEDED"; }));
  auto jobs = jobs_of(home, "later");
  CHECK(jobs.size() == 1); // submitted once, not once per skyd
  auto logs = home.skyctl({"logs", "later", "1"});
  CHECK(logs.out == "resumed\n");
  auto events = events_of(home, "cluster.later");
  CHECK(count_kind(events, "cluster.launch_resumed") == 1);
  CHECK(count_kind(events, "cluster.up") == 1);
}

TEST_CASE("sim: a launch without --retry-until-up interrupted by kill -9 "
          "removes its attempt's instances and says to launch again") {
  skyd_home home;
  // Provisioning takes long enough to kill skyd in the middle of it.
  simulate(home, R"(clouds:
  aws:
    provisioning_delay: 30s
)");
  run_result first;
  std::thread launcher([&] {
    first = home.skyctl({"launch", "-y", "-c", "slow", "--infra", "aws",
                         "--cpus", "2", "--", "echo hi"},
                        std::chrono::seconds(60));
  });
  REQUIRE(eventually([&] {
    return count_kind(events_of(home, "cluster.slow"), "cluster.provisioning")
           >= 1;
  }));
  home.kill9();
  launcher.join();
  auto c = status_of(home, "slow");
  REQUIRE(c != nullptr);
  REQUIRE(eventually([&] {
    auto s = status_of(home, "slow");
    return s["status"] == "INIT"
           && s["reason"].get<std::string>().find("launch it again")
                != std::string::npos;
  }));
  // The attempt's pending instances were removed at restart: nothing
  // half-made holds the simulated cloud's capacity.
  auto record = home.path() / "sim" / ".sim" / "clusters" / "aws" / "slow.json";
  CHECK_FALSE(std::filesystem::exists(record));
  auto down = home.skyctl({"down", "-y", "slow"});
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(status_of(home, "slow") == nullptr);
}

TEST_CASE("sim: virtual nodes run jobs for their scripted duration without "
          "a process") {
  skyd_home home;
  home.write_config("sim:\n  clouds: [gcp, azure, aws]\n  mode: virtual\n"
                    "events:\n  sync: false\n");
  auto r = home.skyctl({"launch", "-y", "-c", "v", "--infra", "aws", "--cpus",
                        "2", "--", "# sim: duration=1s exit=3\nexit 0"});
  INFO(r.err);
  // The job "ran" 1 s of sim time and ended with the scripted code.
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("started no process (sim.mode virtual)")
        != std::string::npos);
  REQUIRE(jobs_of(home, "v").size() == 1);
  CHECK(status_of_job(home, "v", 1) == "FAILED");
  CHECK(job_of(home, "v", 1)["exit_code"] == 3);

  // A job that runs until stopped: cancel ends it at once (128 + SIGTERM).
  auto d = home.skyctl(
    {"exec", "-d", "v", "--", "# sim: duration=forever\nsleep 1"});
  INFO(d.err);
  REQUIRE(d.exit_code == 0);
  REQUIRE(eventually([&] { return status_of_job(home, "v", 2) == "RUNNING"; }));
  auto cancel = home.skyctl({"cancel", "-y", "v", "2"});
  CHECK(cancel.exit_code == 0);
  REQUIRE(
    eventually([&] { return status_of_job(home, "v", 2) == "CANCELLED"; }));

  // Preempting a virtual node loses its running job, as on a real node.
  auto e = home.skyctl(
    {"exec", "-d", "v", "--", "# sim: duration=forever\nsleep 1"});
  REQUIRE(e.exit_code == 0);
  REQUIRE(eventually([&] { return status_of_job(home, "v", 3) == "RUNNING"; }));
  auto pre = home.skyctl({"sim", "preempt", "v"});
  INFO(pre.err);
  CHECK(pre.exit_code == 0);
  REQUIRE(
    eventually([&] { return status_of_job(home, "v", 3) == "FAILED_DRIVER"; }));
  CHECK(status_of(home, "v")["status"] == "INIT");
}
