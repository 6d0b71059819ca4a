#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;

namespace {

std::string example(const std::string& name) {
  return std::string{SKY_SOURCE_DIR} + "/examples/" + name;
}

std::string write_task(const skyd_home& home, const std::string& name,
                       const std::string& yaml) {
  auto file = home.path() / (name + ".yaml");
  std::ofstream{file} << yaml;
  return file.string();
}

json status_json(const skyd_home& home) {
  auto r = home.skyctl({"status", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out)["clusters"];
}

json cluster(const skyd_home& home, const std::string& name) {
  for (const auto& c : status_json(home))
    if (c["name"] == name)
      return c;
  return nullptr;
}

std::vector<std::string> event_kinds(const skyd_home& home,
                                     const std::string& topic) {
  auto r = home.skyctl({"events", "--topic", topic, "-o", "json"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> kinds;
  std::istringstream in{r.out};
  std::string line;
  while (std::getline(in, line))
    kinds.push_back(json::parse(line)["kind"]);
  return kinds;
}

} // namespace

TEST_CASE("launch runs hello.yaml on local and streams its output") {
  skyd_home home;
  auto r = home.skyctl({"launch", "-y", "-c", "hello", example("hello.yaml")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Setting up (once per node per launch).")
        != std::string::npos);
  CHECK(r.out.find("Hello from node 0 of 1") != std::string::npos);
  // Progress and the plan go to stderr, the task's output to stdout.
  CHECK(r.err.find("Considered resources") != std::string::npos);
  CHECK(r.out.find("Considered resources") == std::string::npos);
  auto c = cluster(home, "hello");
  REQUIRE(c.is_object());
  CHECK(c["status"] == "UP");
  CHECK(c["placement"]["provider"] == "local");
  CHECK(std::filesystem::is_directory(home.path() / "nodes" / "hello" / "0"));

  // A second launch on the UP cluster reuses it: no new provisioning.
  auto again = home.skyctl({"launch", "-y", "-c", "hello", "--", "echo again"});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out == "again\n");
  auto kinds = event_kinds(home, "cluster.hello");
  CHECK(std::count(kinds.begin(), kinds.end(), "cluster.provisioning") == 1);
  auto queue = home.skyctl({"queue", "hello", "-o", "json"});
  REQUIRE(queue.exit_code == 0);
  auto jobs = json::parse(queue.out)["jobs"];
  REQUIRE(jobs.size() == 2);
  for (const auto& j : jobs)
    CHECK(j["status"] == "SUCCEEDED");
}

TEST_CASE("the task's exit code is skyctl's and failures are recorded") {
  skyd_home home;
  auto r = home.skyctl(
    {"launch", "-y", "-c", "fails", "--", "echo partial; exit 42"});
  CHECK(r.exit_code == 42);
  CHECK(r.out == "partial\n");
  auto q = json::parse(home.skyctl({"queue", "fails", "-o", "json"}).out);
  CHECK(q["jobs"][0]["status"] == "FAILED");
  CHECK(q["jobs"][0]["exit_code"] == 42);
  auto setup = write_task(home, "badsetup", "setup: exit 3\nrun: echo never\n");
  auto s = home.skyctl({"launch", "-y", "-c", "fails", setup});
  CHECK(s.exit_code == 3);
  CHECK(s.out.find("never") == std::string::npos);
  q = json::parse(home.skyctl({"queue", "fails", "-o", "json"}).out);
  CHECK(q["jobs"][0]["status"] == "FAILED_SETUP");
}

TEST_CASE("a 2-node local cluster sees ranks 0 and 1 and both node IPs") {
  skyd_home home;
  auto r
    = home.skyctl({"launch", "-y", "-c", "dist", example("distributed.yaml")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("(head, rank=0) rank 0 of 2; head at 127.0.0.1")
        != std::string::npos);
  CHECK(r.out.find("(worker1, rank=1) rank 1 of 2; head at 127.0.0.1")
        != std::string::npos);
  CHECK(r.out.find("all nodes: 127.0.0.1 127.0.0.1") != std::string::npos);
  CHECK(cluster(home, "dist")["placement"]["num_nodes"] == 2);
}

TEST_CASE("stop kills the cluster's processes, start brings it back, down "
          "removes it") {
  skyd_home home;
  auto r = home.skyctl(
    {"launch", "-y", "-d", "-c", "life", "--", "echo $$ > pid; sleep 600"});
  REQUIRE(r.exit_code == 0);
  auto pid_file = home.path() / "nodes" / "life" / "0" / "pid";
  pid_t pid = 0;
  for (int i = 0; i < 1000 && pid <= 0; ++i) {
    std::ifstream in{pid_file};
    if (!(in >> pid))
      pid = 0;
    if (pid <= 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(pid > 0);
  CHECK(process_alive(pid));

  auto stop = home.skyctl({"stop", "-y", "life"});
  INFO(stop.out << stop.err);
  REQUIRE(stop.exit_code == 0);
  CHECK_FALSE(process_alive(pid));
  CHECK(cluster(home, "life")["status"] == "STOPPED");
  auto q = json::parse(home.skyctl({"queue", "life", "-o", "json"}).out);
  CHECK(q["jobs"][0]["status"] == "CANCELLED");
  auto exec = home.skyctl({"exec", "life", "--", "echo no"});
  CHECK(exec.exit_code == 1);
  CHECK(exec.err.find("STOPPED") != std::string::npos);

  REQUIRE(home.skyctl({"start", "-y", "life"}).exit_code == 0);
  CHECK(cluster(home, "life")["status"] == "UP");
  auto after = home.skyctl({"exec", "life", "--", "echo back"});
  CHECK(after.exit_code == 0);
  CHECK(after.out == "back\n");

  auto down = home.skyctl({"down", "-y", "life"});
  REQUIRE(down.exit_code == 0);
  CHECK(cluster(home, "life").is_null());
  CHECK_FALSE(std::filesystem::exists(home.path() / "nodes" / "life"));
  auto kinds = event_kinds(home, "cluster.life");
  for (auto k :
       {"cluster.launch_requested", "cluster.provisioning", "cluster.up",
        "cluster.stopping", "cluster.stopped", "cluster.starting",
        "cluster.terminating", "cluster.terminated"})
    CHECK(std::find(kinds.begin(), kinds.end(), k) != kinds.end());
}

TEST_CASE("bad launches get clear errors and skyd keeps serving") {
  skyd_home home;
  REQUIRE(home.skyctl({"daemon", "start"}).exit_code == 0);
  auto pid = home.daemon_pid();
  SECTION("invalid cluster names") {
    for (auto name : {"1abc", "has space", "a.b", "trailing-"}) {
      auto r = home.skyctl({"launch", "-y", "-c", name, "--", "true"});
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("invalid cluster name") != std::string::npos);
    }
  }
  SECTION("a name in use by a cluster with other resources") {
    REQUIRE(
      home.skyctl({"launch", "-y", "-c", "used", "--cpus", "1", "--", "true"})
        .exit_code
      == 0);
    auto r = home.skyctl(
      {"launch", "-y", "-c", "used", "--num-nodes", "2", "--", "true"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("task needs 2 nodes") != std::string::npos);
    CHECK(r.err.find("cluster 'used' has") != std::string::npos);
  }
  SECTION("more than this host has") {
    auto r = home.skyctl(
      {"launch", "-y", "-c", "huge", "--cpus", "4096", "--", "true"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("needs 4096 vCPUs") != std::string::npos);
    CHECK(cluster(home, "huge").is_null());
  }
  SECTION("infra that is not enabled") {
    auto task = write_task(home, "k8s",
                           "resources:\n  infra: k8s/my-context\nrun: x\n");
    auto r = home.skyctl({"launch", "-y", "-c", "kube", task});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("k8s") != std::string::npos);
  }
  SECTION("a YAML with a typo") {
    auto task = write_task(home, "typo", "resources:\n  cpu: 2\nrun: x\n");
    auto r = home.skyctl({"launch", "-y", task});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("typo.yaml:2:3") != std::string::npos);
    CHECK(r.err.find("did you mean 'cpus'") != std::string::npos);
  }
  CHECK(home.skyctl({"--no-autostart", "ping"}).exit_code == 0);
  CHECK(home.daemon_pid() == pid);
}
