// Managed jobs end to end on the local infra: real skyd and skyctl
// processes, real job processes, kill -9 of skyd (docs/MANAGED_JOBS.md).

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "managed_jobs_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

pid_t read_pid(const std::string& file) {
  pid_t pid = 0;
  for (int i = 0; i < 3000 && pid <= 0; ++i) {
    std::ifstream in{file};
    if (!(in >> pid))
      pid = 0;
    if (pid <= 0)
      std::this_thread::sleep_for(10ms);
  }
  return pid;
}

} // namespace

TEST_CASE("a managed job succeeds, its cluster goes, its logs stay") {
  skyd_home home;
  auto yaml = write_file(home, "ok.yaml", R"(name: hello
run: |
  echo "task id $SKYPILOT_TASK_ID on $SKYPILOT_CLUSTER_NAME"
  echo second line
)");
  auto r = home.skyctl({"jobs", "launch", "-y", yaml}, 90s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("task id sky-managed-") != std::string::npos);
  CHECK(r.out.find("on hello-1\n") != std::string::npos);
  auto j = wait_final(home, 1);
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["name"] == "hello");
  CHECK(j["recoveries"] == 0);
  CHECK(j["cluster"] == "hello-1");
  CHECK(j["infra"] == "local");
  CHECK(no_clusters(home));
  auto logs = home.skyctl({"jobs", "logs", "1", "--no-follow"});
  CHECK(logs.exit_code == 0);
  CHECK(logs.out.find("second line\n") != std::string::npos);
  // Text table too.
  auto table = home.skyctl({"jobs", "queue"});
  CHECK(table.out.find("SUCCEEDED") != std::string::npos);
  CHECK(table.out.find("#RECOVERIES") != std::string::npos);
}

TEST_CASE("the end of a quiet managed job is pushed, not left to the "
          "archiver's backed-off reads") {
  skyd_home home;
  // Quiet for 8 s: by then the archiver reads 8 s apart (0.5 s, doubling
  // while nothing is written), so only the push on the cluster job's
  // job.finished sees the end within a few seconds.
  auto id = launch_detached(home, {"-n", "quiet", "--", "sleep 8; echo done"});
  auto j = wait_final(home, id);
  INFO(j.dump());
  REQUIRE(j["status"] == "SUCCEEDED");
  auto events = home.skyctl({"events", "-o", "json"});
  REQUIRE(events.exit_code == 0);
  int64_t finished = 0, succeeded = 0;
  std::istringstream lines{events.out};
  for (std::string line; std::getline(lines, line);) {
    auto e = json::parse(line);
    if (e["entity"] == "job.quiet-" + std::to_string(id) + ".1"
        && e["kind"] == "job.finished")
      finished = e["time"];
    if (e["kind"] == "managed_job.succeeded")
      succeeded = e["time"];
  }
  REQUIRE(finished > 0);
  REQUIRE(succeeded > 0);
  // Generous for a loaded machine; without the push it is about 7 s.
  CHECK(succeeded - finished < 4000);
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id), "--no-follow"});
  CHECK(logs.out.find("done\n") != std::string::npos);
}

TEST_CASE("user-code failures spend max_restarts_on_errors, then FAILED") {
  skyd_home home;
  auto yaml = write_file(home, "fail.yaml", R"(name: flaky
resources:
  job_recovery:
    max_restarts_on_errors: 1
run: |
  echo "attempt of $SKYPILOT_TASK_ID"
  exit 3
)");
  auto r = home.skyctl({"jobs", "launch", "-y", yaml}, 90s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  auto j = wait_final(home, 1);
  CHECK(j["status"] == "FAILED");
  CHECK(j["recoveries"] == 1);
  auto logs = home.skyctl({"jobs", "logs", "1", "--no-follow"}).out;
  CHECK(count(logs, "attempt of sky-managed-") == 2);
  CHECK(no_clusters(home));
}

TEST_CASE("an exit code in recover_on_exit_codes restarts with the same task "
          "id") {
  skyd_home home;
  auto marker = (home.path() / "first-done").string();
  auto yaml = write_file(home, "recover.yaml",
                         R"(name: rec
resources:
  job_recovery:
    recover_on_exit_codes: [33]
run: |
  echo "id=$SKYPILOT_TASK_ID"
  if [ ! -e )" + marker + R"( ]; then touch )"
                           + marker + R"(; exit 33; fi
  echo recovered
)");
  auto id = launch_detached(home, {yaml});
  auto j = wait_final(home, id);
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  INFO(logs);
  CHECK(count(logs, "id=" + j["task_id"].get<std::string>() + "\n") == 2);
  CHECK(logs.find("recovered\n") != std::string::npos);
  CHECK(no_clusters(home));
}

TEST_CASE("cancel of a RUNNING managed job leaves no process or cluster") {
  skyd_home home;
  auto pidfile = (home.path() / "pid").string();
  auto id = launch_detached(
    home, {"-n", "sleeper", "--", "echo $$ > " + pidfile + "; sleep 300"});
  auto pid = read_pid(pidfile);
  REQUIRE(pid > 0);
  CHECK(
    wait_for(home, id,
             [](const json& j) { return j["status"] == "RUNNING"; })["status"]
    == "RUNNING");
  auto c = home.skyctl({"jobs", "cancel", "-y", std::to_string(id)});
  INFO(c.out << c.err);
  CHECK(c.exit_code == 0);
  auto j = wait_final(home, id);
  CHECK(j["status"] == "CANCELLED");
  for (int i = 0; i < 100 && process_alive(pid); ++i)
    std::this_thread::sleep_for(50ms);
  CHECK_FALSE(process_alive(pid));
  CHECK(no_clusters(home));
  // A second cancel changes nothing.
  auto again = home.skyctl({"jobs", "cancel", "-y", std::to_string(id)});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("already CANCELLED") != std::string::npos);
}

TEST_CASE("cancel right after submission (PENDING or STARTING) cleans up") {
  skyd_home home;
  auto pidfile = (home.path() / "pid").string();
  auto id = launch_detached(
    home, {"-n", "early", "--", "echo $$ > " + pidfile + "; sleep 300"});
  auto c = home.skyctl({"jobs", "cancel", "-y", "-n", "early"});
  INFO(c.out << c.err);
  CHECK(c.exit_code == 0);
  auto j = wait_final(home, id);
  CHECK(j["status"] == "CANCELLED");
  CHECK(no_clusters(home));
  // If the task had started, it was stopped with its cluster.
  pid_t pid = 0;
  std::ifstream{pidfile} >> pid;
  if (pid > 0) {
    for (int i = 0; i < 100 && process_alive(pid); ++i)
      std::this_thread::sleep_for(50ms);
    CHECK_FALSE(process_alive(pid));
  }
}

TEST_CASE("a pipeline runs its tasks in order, each on its own cluster") {
  skyd_home home;
  auto yaml = write_file(home, "pipe.yaml", R"(name: pipe
---
name: one
run: echo "step one on $SKYPILOT_CLUSTER_NAME"
---
name: two
run: echo "step two on $SKYPILOT_CLUSTER_NAME"
---
name: three
run: echo "step three on $SKYPILOT_CLUSTER_NAME"
)");
  auto id = launch_detached(home, {yaml});
  auto j = wait_final(home, id);
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["tasks"] == 3);
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  INFO(logs);
  auto a = logs.find("step one on pipe-1-1\n");
  auto b = logs.find("step two on pipe-1-2\n");
  auto c = logs.find("step three on pipe-1-3\n");
  CHECK(a != std::string::npos);
  CHECK(b != std::string::npos);
  CHECK(c != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(no_clusters(home));
}

TEST_CASE("admission: at most max_concurrent_launches jobs launch at once, "
          "the rest wait in PENDING") {
  skyd_home home;
  // Simulated instances take 1.5 s to come up, so launches overlap.
  auto scenario = home.path() / "slow.yaml";
  std::ofstream{scenario} << "provisioning_delay: 1500ms\n";
  home.write_config("sim:\n  clouds: [aws]\n  scenario: " + scenario.string()
                    + "\nevents:\n  sync: false\njobs:\n"
                      "  max_concurrent_launches: 2\n");
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(launch_detached(
      home, {"-n", "adm", "--infra", "aws", "--cpus", "2", "--", "true"}));
  // Right after submission: two launching, three waiting.
  auto jobs = managed_jobs(home);
  size_t pending = 0, starting = 0;
  for (const auto& j : jobs) {
    pending += j["status"] == "PENDING";
    starting += j["status"] == "STARTING";
  }
  CHECK(starting == 2);
  CHECK(pending == 3);
  for (auto id : ids)
    CHECK(wait_final(home, id)["status"] == "SUCCEEDED");
  // Replay the jobs' states from the event log: never more than two in
  // STARTING or RECOVERING at once.
  auto ev = home.skyctl({"events", "--topic", "managed_job.", "-o", "json"});
  REQUIRE(ev.exit_code == 0);
  std::map<std::string, std::string> states;
  size_t most = 0;
  std::istringstream lines{ev.out};
  for (std::string line; std::getline(lines, line);) {
    auto e = json::parse(line);
    states[e["entity"]] = e["fields"]["state"];
    size_t launching = 0;
    for (const auto& [_, s] : states)
      launching += s == "STARTING" || s == "RECOVERING";
    most = std::max(most, launching);
  }
  INFO(ev.out);
  CHECK(most == 2);
  CHECK(states.size() == 5);
  CHECK(no_clusters(home));
}

TEST_CASE("a RUNNING managed job survives kill -9 of skyd and succeeds") {
  skyd_home home;
  auto pidfile = (home.path() / "pid").string();
  auto id = launch_detached(
    home, {"-n", "durable", "--",
           "echo $$ > " + pidfile
             + "; for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.4; "
               "done"});
  auto pid = read_pid(pidfile);
  REQUIRE(pid > 0);
  REQUIRE(
    wait_for(home, id,
             [](const json& j) { return j["status"] == "RUNNING"; })["status"]
    == "RUNNING");
  home.kill9();
  CHECK(process_alive(pid)); // the task does not depend on skyd
  // The next command starts a new skyd, which restores the job.
  auto j = managed_job(home, id);
  REQUIRE(j.is_object());
  CHECK(!final_state(j["status"]));
  j = wait_final(home, id);
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 0);
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  INFO(logs);
  CHECK(logs.find("tick 1\n") != std::string::npos);
  CHECK(logs.find("tick 8\n") != std::string::npos);
  CHECK(no_clusters(home));
}

TEST_CASE("a GPU this host does not have ends FAILED_PRECHECKS at once, not "
          "after launch rounds") {
  skyd_home home;
  // Free capacity of the local infra may come back; a GPU it does not have
  // never will. The default rounds (60 s apart) would take minutes.
  auto id = launch_detached(
    home, {"-n", "h100", "--infra", "local", "--gpus", "H100:1", "--", "true"});
  auto j = wait_for(
    home, id, [](const json& row) { return final_state(row["status"]); }, 20s);
  INFO(j.dump());
  CHECK(j["status"] == "FAILED_PRECHECKS");
  CHECK(j["reason"].get<std::string>().find(
          "local: can never run here: needs H100")
        != std::string::npos);
}

TEST_CASE("bad managed job requests are refused clearly") {
  skyd_home home;
  auto bad = home.skyctl(
    {"jobs", "launch", "-y", "--job-recovery", "SOMETIMES", "--", "true"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--job-recovery") != std::string::npos);
  auto none = home.skyctl({"jobs", "cancel", "-y"});
  CHECK(none.exit_code == 2);
  auto missing = home.skyctl({"jobs", "logs", "42", "--no-follow"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no managed job") != std::string::npos);
}

TEST_CASE("sim: a preempted managed job recovers on a new cluster with the "
          "same task id") {
  skyd_home home;
  home.write_config("sim:\n  clouds: [gcp, azure, aws]\nevents:\n  sync: "
                    "false\n");
  auto marker = (home.path() / "first-attempt").string();
  auto id = launch_detached(
    home, {"-n", "spot", "--infra", "aws", "--cpus", "8", "--",
           "echo \"id=$SKYPILOT_TASK_ID\"; if [ -e " + marker
             + " ]; then echo second attempt; exit 0; fi; touch " + marker
             + "; echo first attempt; sleep 600"});
  auto running = wait_for(home, id, [&](const json& j) {
    return j["status"] == "RUNNING" && std::filesystem::exists(marker);
  });
  REQUIRE(running["status"] == "RUNNING");
  auto first_infra = running["infra"].get<std::string>();
  // Output is copied while the job runs (a preempted node's own log is
  // gone with it): wait until the first attempt's line is kept.
  for (int i = 0; i < 100; ++i) {
    auto kept
      = home.skyctl({"jobs", "logs", std::to_string(id), "--no-follow"});
    if (kept.out.find("first attempt\n") != std::string::npos)
      break;
    std::this_thread::sleep_for(100ms);
  }
  auto p = home.skyctl({"sim", "preempt", running["cluster"]});
  INFO(p.out << p.err);
  REQUIRE(p.exit_code == 0);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  // EAGER_NEXT_REGION: the new cluster is outside the preempted region.
  CHECK(j["infra"] != first_infra);
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  INFO(logs);
  CHECK(count(logs, "id=" + j["task_id"].get<std::string>() + "\n") == 2);
  CHECK(logs.find("first attempt\n") != std::string::npos);
  CHECK(logs.find("second attempt\n") != std::string::npos);
  auto ev = home.skyctl({"events", "--topic", "managed_job.", "-o", "json"});
  CHECK(ev.out.find("\"RECOVERING\"") != std::string::npos);
  CHECK(no_clusters(home));
}

TEST_CASE("sim: a pipeline whose second task is preempted recovers that task "
          "and goes on") {
  skyd_home home;
  home.write_config("sim:\n  clouds: [aws]\nevents:\n  sync: false\n");
  auto marker = (home.path() / "two-started").string();
  auto yaml = write_file(home, "pipe.yaml", R"(name: pipe
---
name: one
resources: {infra: aws, cpus: 8}
run: echo "step one"
---
name: two
resources: {infra: aws, cpus: 8}
run: |
  if [ -e )" + marker + R"( ]; then echo "step two again"; exit 0; fi
  touch )" + marker + R"(
  echo "step two first"
  sleep 600
---
name: three
resources: {infra: aws, cpus: 8}
run: echo "step three"
)");
  auto id = launch_detached(home, {yaml});
  auto running = wait_for(home, id, [&](const json& j) {
    return j["status"] == "RUNNING" && j["task"] == 2
           && std::filesystem::exists(marker);
  });
  INFO(running.dump());
  REQUIRE(running["task"] == 2);
  for (int i = 0; i < 100; ++i) {
    auto kept
      = home.skyctl({"jobs", "logs", std::to_string(id), "--no-follow"});
    if (kept.out.find("step two first\n") != std::string::npos)
      break;
    std::this_thread::sleep_for(100ms);
  }
  auto p = home.skyctl({"sim", "preempt", running["cluster"]});
  INFO(p.out << p.err);
  REQUIRE(p.exit_code == 0);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  auto logs = home.skyctl({"jobs", "logs", std::to_string(id)}).out;
  INFO(logs);
  auto one = logs.find("step one\n");
  auto first = logs.find("step two first\n");
  auto again = logs.find("step two again\n");
  auto three = logs.find("step three\n");
  REQUIRE(one != std::string::npos);
  REQUIRE(first != std::string::npos);
  REQUIRE(again != std::string::npos);
  REQUIRE(three != std::string::npos);
  CHECK(one < first);
  CHECK(first < again);
  CHECK(again < three);
  CHECK(count(logs, "step one\n") == 1); // task one did not run again
  CHECK(no_clusters(home));
}

TEST_CASE("sim: cancel during RECOVERING ends CANCELLED with no cluster left") {
  skyd_home home;
  // Every new instance stays pending for 3 s: the relaunch after the
  // preemption is still in flight when the cancel arrives.
  auto scenario = write_file(home, "slow.yaml", "provisioning_delay: 3s\n");
  home.write_config("sim:\n  clouds: [aws]\n  scenario: " + scenario
                    + "\nevents:\n  sync: false\n");
  auto id = launch_detached(
    home, {"-n", "doomed", "--infra", "aws", "--cpus", "8", "--", "sleep 600"});
  auto running = wait_for(
    home, id, [](const json& j) { return j["status"] == "RUNNING"; });
  REQUIRE(running["status"] == "RUNNING");
  REQUIRE(home.skyctl({"sim", "preempt", running["cluster"]}).exit_code == 0);
  auto recovering = wait_for(
    home, id, [](const json& j) { return j["status"] == "RECOVERING"; }, 20s);
  INFO(recovering.dump());
  REQUIRE(recovering["status"] == "RECOVERING");
  auto c = home.skyctl({"jobs", "cancel", "-y", std::to_string(id)});
  INFO(c.out << c.err);
  CHECK(c.exit_code == 0);
  auto j = wait_final(home, id);
  INFO(j.dump());
  CHECK(j["status"] == "CANCELLED");
  CHECK(j["recoveries"] == 1);
  // The relaunch that was in flight is torn down too.
  for (int i = 0; i < 100 && !no_clusters(home); ++i)
    std::this_thread::sleep_for(100ms);
  CHECK(no_clusters(home));
}

TEST_CASE("a managed job's cluster is hidden from status and out of reach of "
          "the user's verbs") {
  skyd_home home;
  auto pidfile = (home.path() / "pid").string();
  auto id = launch_detached(
    home, {"-n", "owned", "--", "echo $$ > " + pidfile + "; sleep 300"});
  REQUIRE(
    wait_for(home, id,
             [](const json& j) { return j["status"] == "RUNNING"; })["status"]
    == "RUNNING");
  const std::string job = std::to_string(id);
  const std::string name = managed_job(home, id)["cluster"];
  REQUIRE(name == "owned-" + job);
  // A cluster of the user's beside it.
  auto mine = home.skyctl({"launch", "-y", "-d", "-c", "mine", "--", "true"});
  INFO(mine.out << mine.err);
  REQUIRE(mine.exit_code == 0);

  auto plain = home.skyctl({"status"});
  INFO(plain.out << plain.err);
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find("mine") != std::string::npos);
  CHECK(plain.out.find(name) == std::string::npos);
  CHECK(plain.out.find("1 managed job cluster hidden: skyctl status -a shows "
                       "it; skyctl jobs queue lists the jobs.")
        != std::string::npos);

  auto all = home.skyctl({"status", "-a"});
  CHECK(all.exit_code == 0);
  CHECK(all.out.find(name) != std::string::npos);
  CHECK(all.out.find("managed job " + job) != std::string::npos);
  CHECK(all.out.find("hidden") == std::string::npos);
  CHECK(home.skyctl({"status", name}).out.find(name) != std::string::npos);
  json owner;
  auto doc = json::parse(home.skyctl({"status", "-a", "-o", "json"}).out);
  for (const auto& c : doc["clusters"])
    if (c["name"] == name)
      owner = c["owner"];
  CHECK(owner == "managed_job." + job);

  // down -a tears down the user's cluster only; the job runs on.
  auto down_all = home.skyctl({"down", "-a", "-y"});
  INFO(down_all.out << down_all.err);
  CHECK(down_all.exit_code == 0);
  CHECK(down_all.out == "Cluster mine terminated.\n");
  CHECK(managed_job(home, id)["status"] == "RUNNING");
  auto after = home.skyctl({"status", "-a"}).out;
  CHECK(after.find(name) != std::string::npos);
  CHECK(after.find("mine") == std::string::npos);

  // By name: refused, naming the job and the fix.
  const std::string refused
    = "cluster '" + name + "' belongs to managed job " + job
      + "; cancel the job with skyctl jobs cancel " + job;
  for (std::vector<std::string> verb :
       {std::vector<std::string>{"down", name, "-y"},
        std::vector<std::string>{"stop", name, "-y"},
        std::vector<std::string>{"exec", name, "--", "true"},
        std::vector<std::string>{"autostop", name, "-i", "5"},
        std::vector<std::string>{"cancel", name, "-a", "-y"}}) {
    auto r = home.skyctl(verb);
    INFO(verb.front() << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(refused) != std::string::npos);
  }
  // Reading verbs work.
  auto queue = home.skyctl({"queue", name});
  CHECK(queue.exit_code == 0);
  CHECK(queue.out.find("RUNNING") != std::string::npos);
  auto running = managed_job(home, id);
  CHECK(running["status"] == "RUNNING");
  CHECK(running["recoveries"] == 0);

  auto c = home.skyctl({"jobs", "cancel", "-y", job});
  INFO(c.out << c.err);
  CHECK(c.exit_code == 0);
  CHECK(wait_final(home, id)["status"] == "CANCELLED");
  CHECK(no_clusters(home));
}
