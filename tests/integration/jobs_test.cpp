#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json jobs_of(const skyd_home& home, const std::string& cluster) {
  auto r = home.skyctl({"queue", cluster, "-o", "json"});
  REQUIRE(r.exit_code == 0);
  auto jobs = json::parse(r.out)["jobs"];
  std::sort(jobs.begin(), jobs.end(), [](const json& a, const json& b) {
    return a["job_id"].get<uint64_t>() < b["job_id"].get<uint64_t>();
  });
  return jobs;
}

json job(const skyd_home& home, const std::string& cluster, uint64_t id) {
  for (const auto& j : jobs_of(home, cluster))
    if (j["job_id"] == id)
      return j;
  return nullptr;
}

bool terminal(const std::string& s) {
  return s == "SUCCEEDED" || s == "FAILED" || s == "FAILED_SETUP"
         || s == "FAILED_DRIVER" || s == "CANCELLED";
}

// Waits until the job is in one of the terminal states (or a timeout).
json wait_job(const skyd_home& home, const std::string& cluster, uint64_t id,
              std::chrono::seconds timeout = 30s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  json j;
  do {
    j = job(home, cluster, id);
    if (j.is_object() && terminal(j["status"]))
      return j;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < until);
  return j;
}

// Waits until a job wrote its pid to `file` (the file may exist before the
// number is in it).
pid_t read_pid(const std::filesystem::path& file) {
  pid_t pid = 0;
  for (int i = 0; i < 1000 && pid <= 0; ++i) {
    std::ifstream in{file};
    if (!(in >> pid))
      pid = 0;
    if (pid <= 0)
      std::this_thread::sleep_for(10ms);
  }
  return pid;
}

uint64_t exec_detached(const skyd_home& home, std::vector<std::string> args) {
  args.insert(args.begin(), {"exec", "-d"});
  auto r = home.skyctl(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto pos = r.out.find("Job ID: ");
  REQUIRE(pos != std::string::npos);
  return std::stoull(r.out.substr(pos + 8));
}

} // namespace

TEST_CASE("50 jobs queue on a cluster's resources and start in order") {
  skyd_home home;
  REQUIRE(home.skyctl({"launch", "-y", "-c", "q", "--cpus", "2", "--", "true"})
            .exit_code
          == 0);
  for (int i = 0; i < 50; ++i)
    exec_detached(home, {"q", "--cpus", "1", "--", "sleep 0.1"});
  auto last = wait_job(home, "q", 51, 90s);
  REQUIRE(last["status"] == "SUCCEEDED");
  auto jobs = jobs_of(home, "q");
  REQUIRE(jobs.size() == 51);
  struct span {
    int64_t start, end;
  };
  std::vector<span> spans;
  int64_t previous_start = 0;
  for (size_t i = 1; i < jobs.size(); ++i) {
    const auto& j = jobs[i];
    INFO("job " << j["job_id"]);
    CHECK(j["status"] == "SUCCEEDED");
    int64_t start = j["started_at"];
    int64_t end = j["ended_at"];
    CHECK(start >= previous_start); // submission order
    previous_start = start;
    spans.push_back({start, end});
  }
  // Never more than 2 at once (2 vCPUs, 1 each), and really 2 at a time.
  int max_overlap = 0;
  for (const auto& a : spans) {
    int overlap = 0;
    for (const auto& b : spans)
      overlap += b.start <= a.start && a.start < b.end;
    max_overlap = std::max(max_overlap, overlap);
  }
  CHECK(max_overlap == 2);
}

TEST_CASE("cancel ends a pending and a running job, process tree and all") {
  skyd_home home;
  REQUIRE(home.skyctl({"launch", "-y", "-c", "cx", "--cpus", "1", "--", "true"})
            .exit_code
          == 0);
  auto running = exec_detached(
    home, {"cx", "--cpus", "1", "--", "sleep 600 & echo $! > child; wait"});
  auto pending = exec_detached(home, {"cx", "--cpus", "1", "--", "echo no"});
  auto child = read_pid(home.path() / "nodes" / "cx" / "0" / "child");
  REQUIRE(child > 0);
  CHECK(job(home, "cx", pending)["status"] == "PENDING");
  auto c1 = home.skyctl({"cancel", "-y", "cx", std::to_string(pending)});
  CHECK(c1.exit_code == 0);
  CHECK(job(home, "cx", pending)["status"] == "CANCELLED");
  auto c2 = home.skyctl({"cancel", "-y", "cx", std::to_string(running)});
  CHECK(c2.exit_code == 0);
  CHECK(wait_job(home, "cx", running)["status"] == "CANCELLED");
  for (int i = 0; i < 200 && process_alive(child); ++i)
    std::this_thread::sleep_for(10ms);
  CHECK_FALSE(process_alive(child));
  auto missing = home.skyctl({"cancel", "-y", "cx", "99"});
  CHECK(missing.exit_code == 1);
  CHECK((missing.out + missing.err).find("does not exist")
        != std::string::npos);
}

TEST_CASE("a failing rank fails a 2-node job and stops the other rank") {
  skyd_home home;
  auto r = home.skyctl(
    {"launch", "-y", "-c", "mn", "--num-nodes", "2", "--",
     "if [ $SKYPILOT_NODE_RANK = 1 ]; then sleep 0.3; exit 5; fi; "
     "echo $$ > rank0; sleep 600"});
  CHECK(r.exit_code == 5);
  auto rank0 = read_pid(home.path() / "nodes" / "mn" / "0" / "rank0");
  REQUIRE(rank0 > 0);
  for (int i = 0; i < 300 && process_alive(rank0); ++i)
    std::this_thread::sleep_for(10ms);
  CHECK_FALSE(process_alive(rank0));
  auto j = job(home, "mn", 1);
  CHECK(j["status"] == "FAILED");
  CHECK(j["exit_code"] == 5);
}

TEST_CASE("logs follow a running job until it ends") {
  skyd_home home;
  REQUIRE(home.skyctl({"launch", "-y", "-c", "lg", "--", "true"}).exit_code
          == 0);
  auto id
    = exec_detached(home, {"lg", "--",
                           "for i in 1 2 3; do echo line $i; sleep 0.3; done; "
                           "exit 4"});
  child logs{{built_binary("bin/skyctl"), "logs", "lg", std::to_string(id)},
             home.env()};
  auto first = logs.read_line(10s);
  REQUIRE(first);
  CHECK(*first == "line 1");
  CHECK(logs.read_line(10s) == std::optional<std::string>{"line 2"});
  CHECK(logs.read_line(10s) == std::optional<std::string>{"line 3"});
  auto rc = logs.wait(20s);
  REQUIRE(rc);
  CHECK(*rc == 4);
  auto again = home.skyctl({"logs", "lg", std::to_string(id), "--no-follow"});
  CHECK(again.out == "line 1\nline 2\nline 3\n");
  auto status = home.skyctl({"logs", "lg", std::to_string(id), "--status"});
  CHECK(status.exit_code == 1);
  CHECK((status.out + status.err).find("FAILED") != std::string::npos);
}

TEST_CASE("a job survives kill -9 of skyd and is re-attached") {
  skyd_home home;
  REQUIRE(home.skyctl({"launch", "-y", "-c", "k", "--", "true"}).exit_code
          == 0);
  auto id = exec_detached(
    home, {"k", "--",
           "echo $$ > jobpid; for i in 1 2 3 4 5 6; do echo tick "
           "$i; sleep 0.3; done"});
  auto pid = read_pid(home.path() / "nodes" / "k" / "0" / "jobpid");
  REQUIRE(pid > 0);
  home.kill9();
  CHECK(process_alive(pid)); // the job does not depend on skyd
  // The next command starts a new skyd, which re-attaches.
  CHECK(job(home, "k", id)["status"] == "RUNNING");
  auto follow = home.skyctl({"logs", "k", std::to_string(id)});
  CHECK(follow.exit_code == 0);
  CHECK(follow.out.find("tick 1\n") != std::string::npos);
  CHECK(follow.out.find("tick 6\n") != std::string::npos);
  auto j = wait_job(home, "k", id);
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["exit_code"] == 0);
}

TEST_CASE("a job that ends while skyd is down gets its real final state") {
  skyd_home home;
  REQUIRE(home.skyctl({"launch", "-y", "-c", "d", "--", "true"}).exit_code
          == 0);
  auto id = exec_detached(home, {"d", "--", "sleep 0.3; echo done; exit 9"});
  home.kill9();
  std::this_thread::sleep_for(1s);
  auto j = wait_job(home, "d", id);
  INFO(j.dump());
  INFO(home.skyctl({"events", "--topic", "job.d."}).out);
  CHECK(j["status"] == "FAILED");
  CHECK(j["exit_code"] == 9);
  CHECK(home.skyctl({"logs", "d", std::to_string(id), "--no-follow"}).out
        == "done\n");
}

TEST_CASE("bad job requests are refused clearly") {
  skyd_home home;
  REQUIRE(home.skyctl({"launch", "-y", "-c", "b", "--cpus", "1", "--", "true"})
            .exit_code
          == 0);
  auto unknown = home.skyctl({"exec", "nope", "--", "true"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("cluster 'nope' does not exist") != std::string::npos);
  auto too_big = home.skyctl({"exec", "b", "--cpus", "2", "--", "true"});
  CHECK(too_big.exit_code == 1);
  CHECK(too_big.err.find("2 vCPUs") != std::string::npos);
  CHECK(jobs_of(home, "b").size() == 1); // refused, not queued
  auto no_job = home.skyctl({"logs", "b", "77"});
  CHECK(no_job.exit_code == 1);
  CHECK(no_job.err.find("job 77 does not exist") != std::string::npos);
  REQUIRE(home.skyctl({"stop", "-y", "b"}).exit_code == 0);
  auto stopped = home.skyctl({"exec", "b", "--", "true"});
  CHECK(stopped.exit_code == 1);
  CHECK(stopped.err.find("start it first") != std::string::npos);
}
