// Managed job scenarios on simulated clouds (docs/MANAGED_JOBS.md, issue 7
// "Done when"): preemption during setup, capacity gone in the job's region
// or everywhere, and tasks no enabled infra can run. Real skyd and skyctl
// processes; `skyctl sim preempt` and `skyctl sim capacity` steer the
// simulated clouds, so every scenario happens at a known point.
//
// In the default catalog only g4dn.xlarge offers T4 on aws, in us-east-1
// (3 zones), us-west-2 and eu-west-1; us-east-1 and us-west-2 tie on price
// and us-east-1 ranks first (names break ties). A T4:1 job therefore starts
// in aws/us-east-1/use1-az1, and zeroing T4 capacity takes a place away
// whole.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "managed_jobs_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// aws only: no other cloud to fall back on, so where a job goes is the
// strategy's and the capacity's doing. `extra` adds config lines.
void sim_aws(const skyd_home& home, const std::string& extra = "") {
  home.write_config("sim:\n  clouds: [aws]\nevents:\n  sync: false\n" + extra);
}

// A T4 job that runs `sleep 600` on its first attempt (marker absent) and
// ends at once on the next.
std::vector<std::string> t4_job(const std::string& name,
                                const std::string& marker) {
  return {"-n",
          name,
          "--infra",
          "aws",
          "--gpus",
          "T4:1",
          "--",
          "if [ -e " + marker + " ]; then echo second attempt; exit 0; fi; "
            + "touch " + marker + "; echo first attempt; sleep 600"};
}

json wait_running(const skyd_home& home, uint64_t id,
                  const std::string& marker) {
  auto j = wait_for(home, id, [&](const json& row) {
    return row["status"] == "RUNNING" && std::filesystem::exists(marker);
  });
  INFO(j.dump());
  REQUIRE(j["status"] == "RUNNING");
  return j;
}

void capacity(const skyd_home& home, const std::string& place, int n) {
  auto r = home.skyctl({"sim", "capacity", place, "T4", std::to_string(n)});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

void preempt(const skyd_home& home, const json& row) {
  auto r = home.skyctl({"sim", "preempt", row["cluster"]});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

// "aws/us-east-1/use1-az1" -> "aws/us-east-1".
std::string region_of(const std::string& infra) {
  return infra.substr(0, infra.rfind('/'));
}

std::string read_text(const std::string& file) {
  std::ifstream in{file};
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

TEST_CASE("sim: a job preempted during its setup runs setup again on the "
          "new cluster and succeeds") {
  skyd_home home;
  sim_aws(home);
  auto setups = (home.path() / "setups").string();
  auto in_setup = (home.path() / "in-setup").string();
  auto runs = (home.path() / "runs").string();
  // The first setup never ends by itself: only the preemption ends it.
  auto yaml = write_file(home, "setup.yaml", R"(name: slowsetup
resources: {infra: aws, cpus: 8}
setup: |
  echo setup >> )" + setups + R"(
  if [ ! -e )" + in_setup + R"( ]; then
    touch )" + in_setup + R"(
    echo "first setup"
    sleep 600
  fi
  echo "setup again"
run: |
  echo run >> )" + runs + R"(
  echo "run done"
)");
  auto id = launch_detached(home, {yaml});
  auto setting_up = wait_running(home, id, in_setup);
  REQUIRE(wait_for_log(home, id, "first setup\n"));
  preempt(home, setting_up);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  // It went through RECOVERING, too briefly to catch by polling `jobs
  // queue` (the relaunch and the short second attempt take well under a
  // second, and the job's end is pushed): the recorded events say so.
  auto ev = home.skyctl({"events", "--topic", "managed_job.", "-o", "json"});
  CHECK(ev.out.find("\"RECOVERING\"") != std::string::npos);
  // Setup ran on both clusters; run only on the second.
  CHECK(read_text(setups) == "setup\nsetup\n");
  CHECK(read_text(runs) == "run\n");
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  INFO(logs);
  CHECK(logs.find("first setup\n") != std::string::npos);
  CHECK(logs.find("setup again\n") != std::string::npos);
  CHECK(logs.find("run done\n") != std::string::npos);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: EAGER_NEXT_REGION moves a preempted job out of its region "
          "when that region has no capacity left") {
  skyd_home home;
  sim_aws(home);
  auto marker = (home.path() / "first").string();
  auto id = launch_detached(home, t4_job("eager", marker));
  auto running = wait_running(home, id, marker);
  auto first = running["infra"].get<std::string>();
  CHECK(first == "aws/us-east-1/use1-az1");
  capacity(home, region_of(first), 0);
  REQUIRE(wait_for_log(home, id, "first attempt\n"));
  preempt(home, running);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  CHECK(region_of(j["infra"]) != region_of(first));
  CHECK(region_of(j["infra"]) == "aws/us-west-2");
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  INFO(logs);
  CHECK(logs.find("second attempt\n") != std::string::npos);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: FAILOVER relaunches a preempted job in its own region first, "
          "in another zone when its zone is full") {
  skyd_home home;
  sim_aws(home);
  auto marker = (home.path() / "first").string();
  auto args = t4_job("failover", marker);
  args.insert(args.begin(), {"--job-recovery", "FAILOVER"});
  auto id = launch_detached(home, args);
  auto running = wait_running(home, id, marker);
  auto first = running["infra"].get<std::string>();
  REQUIRE(first == "aws/us-east-1/use1-az1");
  capacity(home, first, 0);
  REQUIRE(wait_for_log(home, id, "first attempt\n"));
  preempt(home, running);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  // EAGER_NEXT_REGION would have left us-east-1 (see the test above).
  CHECK(region_of(j["infra"]) == "aws/us-east-1");
  CHECK(j["infra"] != first);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: FAILOVER goes anywhere when its own region has no capacity") {
  skyd_home home;
  sim_aws(home);
  auto marker = (home.path() / "first").string();
  auto args = t4_job("failover", marker);
  args.insert(args.begin(), {"--job-recovery", "FAILOVER"});
  auto id = launch_detached(home, args);
  auto running = wait_running(home, id, marker);
  auto first = running["infra"].get<std::string>();
  capacity(home, region_of(first), 0);
  REQUIRE(wait_for_log(home, id, "first attempt\n"));
  preempt(home, running);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  CHECK(region_of(j["infra"]) != region_of(first));
  // The narrowed first try was made, found nothing, and widened.
  auto ev = home.skyctl({"events", "--topic", "managed_job.", "-o", "json"});
  INFO(ev.out);
  CHECK(ev.out.find("in the first choice; trying anywhere")
        != std::string::npos);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: with no capacity anywhere and one launch round, a job ends "
          "FAILED_NO_RESOURCE") {
  skyd_home home;
  sim_aws(home, "jobs:\n  launch_rounds: 1\n  retry_gap_seconds: 0.2\n");
  capacity(home, "aws", 0);
  auto id = launch_detached(
    home, {"-n", "starved", "--infra", "aws", "--gpus", "T4:1", "--", "true"});
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "FAILED_NO_RESOURCE");
  CHECK(j["reason"].get<std::string>().find("after 1 launch round")
        != std::string::npos);
  CHECK(j["recoveries"] == 0);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: a relaunch with no capacity anywhere gives up after "
          "jobs.relaunch_rounds") {
  skyd_home home;
  sim_aws(home, "jobs:\n  relaunch_rounds: 2\n  retry_gap_seconds: 0.2\n");
  auto marker = (home.path() / "first").string();
  auto id = launch_detached(home, t4_job("lost", marker));
  auto running = wait_running(home, id, marker);
  capacity(home, "aws", 0);
  preempt(home, running);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "FAILED_NO_RESOURCE");
  CHECK(j["reason"].get<std::string>().find("after 2 launch rounds")
        != std::string::npos);
  CHECK(j["recoveries"] == 1);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: with launch rounds 0 a job without capacity keeps trying and "
          "launches once capacity appears") {
  skyd_home home;
  sim_aws(home, "jobs:\n  launch_rounds: 0\n  retry_gap_seconds: 0.2\n"
                "  max_retry_gap_seconds: 0.4\n");
  capacity(home, "aws", 0);
  auto id = launch_detached(home, {"-n", "patient", "--infra", "aws", "--gpus",
                                   "T4:1", "--", "echo finally"});
  // Several rounds go by without giving up.
  auto waiting = wait_for(home, id, [](const json& j) {
    return j["reason"].get<std::string>().find("(round 3)")
           != std::string::npos;
  });
  INFO(waiting.dump());
  REQUIRE(waiting["status"] == "STARTING");
  capacity(home, "aws", 4);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 0);
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  CHECK(logs.find("finally\n") != std::string::npos);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: a task no enabled infra can run ends FAILED_PRECHECKS at once "
          "with the reason") {
  skyd_home home;
  // The rounds would take minutes: a precheck failure must not wait.
  sim_aws(home, "jobs:\n  launch_rounds: 3\n  retry_gap_seconds: 600\n"
                "  max_retry_gap_seconds: 600\n");
  auto gpu = launch_detached(home, {"-n", "nogpu", "--infra", "aws", "--gpus",
                                    "NOSUCHGPU:1", "--", "true"});
  auto cloud = launch_detached(
    home, {"-n", "nocloud", "--infra", "azure", "--cpus", "2", "--", "true"});
  auto j = wait_for(
    home, gpu, [](const json& row) { return final_state(row["status"]); }, 20s);
  INFO(j.dump());
  CHECK(j["status"] == "FAILED_PRECHECKS");
  auto reason = j["reason"].get<std::string>();
  CHECK(reason.find("no enabled infra can run the task") != std::string::npos);
  CHECK(reason.find("NOSUCHGPU") != std::string::npos);
  j = wait_for(
    home, cloud, [](const json& row) { return final_state(row["status"]); },
    20s);
  INFO(j.dump());
  CHECK(j["status"] == "FAILED_PRECHECKS");
  CHECK(j["reason"].get<std::string>().find("azure: not enabled")
        != std::string::npos);
  CHECK(no_clusters(home));
}
