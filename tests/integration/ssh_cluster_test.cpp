// `infra: ssh/<pool>` end to end: a real skyd and skyctl against three real
// sshd hosts on 127.0.0.2-4 (tests/unit/providers/ssh_test_util.hpp).

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"
#include "tests/unit/providers/ssh_test_util.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;
using sky::providers::testing::current_user;
using sky::providers::testing::have_sshd;
using sky::providers::testing::ssh_lab;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

#define SKIP_WITHOUT_SSHD()                                                    \
  if (!have_sshd()) {                                                          \
    WARN("skipped: /usr/sbin/sshd is not installed (scripts/setup installs "   \
         "openssh-server)");                                                   \
    return;                                                                    \
  }

namespace {

// The pool "lab": every host of `lab`, with its per-test key.
void write_pool_file(const skyd_home& home, ssh_lab& lab, size_t hosts = 3) {
  std::ofstream out{home.path() / "ssh_node_pools.yaml"};
  out << "lab:\n  user: " << current_user()
      << "\n  identity_file: " << lab.key().string() << "\n  hosts:\n";
  for (size_t i = 0; i < hosts; ++i)
    out << "    - ip: " << lab.host(i).ip
        << "\n      port: " << lab.host(i).port << "\n";
}

// Where rank `rank` of `cluster` lives on its host.
fs::path node_dir(ssh_lab& lab, const std::string& cluster, int rank) {
  return lab.home() / ".skyd-nodes" / cluster / std::to_string(rank);
}

json job(const skyd_home& home, const std::string& cluster, uint64_t id) {
  auto r = home.skyctl({"queue", cluster, "-o", "json"});
  REQUIRE(r.exit_code == 0);
  auto jobs = json::parse(r.out)["jobs"];
  for (const auto& j : jobs)
    if (j["job_id"] == id)
      return j;
  UNSCOPED_INFO("queue " << cluster << ": " << r.out << r.err);
  return nullptr;
}

json wait_job(const skyd_home& home, const std::string& cluster, uint64_t id,
              std::chrono::seconds timeout = 30s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  json j;
  do {
    j = job(home, cluster, id);
    if (j.is_object()) {
      std::string s = j["status"];
      if (s != "PENDING" && s != "SETTING_UP" && s != "RUNNING" && s != "INIT")
        return j;
    }
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < until);
  return j;
}

uint64_t exec_detached(const skyd_home& home, std::vector<std::string> args) {
  args.insert(args.begin(), {"exec", "-d"});
  auto r = home.skyctl(args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto pos = r.out.find("Job ID: ");
  REQUIRE(pos != std::string::npos);
  return std::stoull(r.out.substr(pos + 8));
}

pid_t read_pid(const fs::path& file) {
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

} // namespace

TEST_CASE("a 2-node cluster on an SSH pool: launch, exec, logs, cancel, "
          "refusals, down") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab{3, true};
  skyd_home home;
  write_pool_file(home, lab);

  auto r = home.skyctl({"launch", "-y", "-c", "s", "--infra", "ssh/lab",
                        "--num-nodes", "2", "--",
                        "echo rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES; "
                        "echo ips $SKYPILOT_NODE_IPS | tr '\\n' ' '; echo"},
                       60s);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("rank 0 of 2") != std::string::npos);
  CHECK(r.out.find("rank 1 of 2") != std::string::npos);
  CHECK(r.out.find("ips 127.0.0.2 127.0.0.3") != std::string::npos);
  // Whole hosts, in pool order: ranks 0 and 1 on the first two hosts.
  CHECK(fs::is_directory(node_dir(lab, "s", 0)));
  CHECK(fs::is_directory(node_dir(lab, "s", 1)));
  auto status = home.skyctl({"status", "-o", "json"});
  CHECK(status.out.find("\"ssh\"") != std::string::npos);

  { // check probes every pool host and shows who holds it
    auto c = home.skyctl({"check", "-o", "json"}, 30s);
    INFO(c.out << c.err);
    REQUIRE(c.exit_code == 0);
    int hosts = 0, held = 0;
    auto check = nlohmann::json::parse(c.out);
    for (const auto& row : check["infra"]) {
      if (row["name"].get<std::string>().rfind("ssh/lab/", 0) != 0)
        continue;
      ++hosts;
      CHECK(row["status"] == "enabled");
      held += row["detail"].get<std::string>().find("held by s")
                  != std::string::npos
                ? 1
                : 0;
    }
    CHECK(hosts == 3);
    CHECK(held == 2);
  }

  { // exec and logs
    auto e = home.skyctl(
      {"exec", "s", "--", "echo exec on $SKYPILOT_NODE_RANK"}, 30s);
    INFO(e.out << e.err);
    CHECK(e.exit_code == 0);
    // A task runs on one node unless it asks for more (SkyPilot's exec).
    CHECK(e.out.find("exec on 0") != std::string::npos);
    auto id = exec_detached(home, {"s", "--",
                                   "echo hello; sleep 0.5; "
                                   "echo bye; exit 3"});
    auto j = wait_job(home, "s", id);
    CHECK(j["status"] == "FAILED");
    CHECK(j["exit_code"] == 3);
    auto logs = home.skyctl({"logs", "s", std::to_string(id), "--no-follow"});
    INFO(logs.out << logs.err);
    CHECK(logs.out.find("hello") != std::string::npos);
    CHECK(logs.out.find("bye") != std::string::npos);
  }

  { // cancel of a running job
    auto id
      = exec_detached(home, {"s", "--", "sleep 600 & echo $! > child; wait"});
    auto child = read_pid(node_dir(lab, "s", 0) / "child");
    REQUIRE(child > 0);
    CHECK(job(home, "s", id)["status"] == "RUNNING");
    auto c = home.skyctl({"cancel", "-y", "s", std::to_string(id)});
    INFO(c.out << c.err);
    CHECK(c.exit_code == 0);
    CHECK(wait_job(home, "s", id)["status"] == "CANCELLED");
    for (int i = 0; i < 300 && process_alive(child); ++i)
      std::this_thread::sleep_for(10ms);
    CHECK_FALSE(process_alive(child));
  }

  { // refusals while hosts are held
    // Two hosts are held by s: a second 2-node cluster does not fit, and
    // the refusal names the hosts.
    auto t = home.skyctl({"launch", "-y", "-c", "t", "--infra", "ssh/lab",
                          "--num-nodes", "2", "--", "true"},
                         60s);
    INFO(t.out << t.err);
    CHECK(t.exit_code != 0);
    auto all = t.out + t.err;
    CHECK(all.find("ssh/lab") != std::string::npos);
    CHECK(all.find("127.0.0.2:" + std::to_string(lab.host(0).port)
                   + " (held by a cluster)")
          != std::string::npos);
    CHECK(all.find("1 of 3 available") != std::string::npos);
    // Too big for any host: the hosts and what they have.
    auto big = home.skyctl({"launch", "-y", "-c", "u", "--infra", "ssh",
                            "--cpus", "4096", "--", "true"},
                           60s);
    INFO(big.out << big.err);
    CHECK(big.exit_code != 0);
    auto all_big = big.out + big.err;
    CHECK(
      all_big.find("127.0.0.4:" + std::to_string(lab.host(2).port) + " (has ")
      != std::string::npos);
    CHECK(all_big.find("4096 vCPUs") != std::string::npos);
    // The third host still serves a 1-node cluster with `infra: ssh`.
    auto one = home.skyctl(
      {"launch", "-y", "-c", "one", "--infra", "ssh", "--", "echo single"},
      60s);
    INFO(one.out << one.err);
    CHECK(one.exit_code == 0);
    CHECK(one.out.find("single") != std::string::npos);
    CHECK(fs::is_directory(node_dir(lab, "one", 0)));
    CHECK(home.skyctl({"down", "-y", "one"}, 60s).exit_code == 0);
  }

  auto d = home.skyctl({"down", "-y", "s"}, 60s);
  INFO(d.out << d.err);
  CHECK(d.exit_code == 0);
  CHECK_FALSE(fs::exists(node_dir(lab, "s", 0)));
  CHECK_FALSE(fs::exists(node_dir(lab, "s", 1)));
  CHECK_FALSE(fs::exists(node_dir(lab, "one", 0)));
  // The hosts are free again: all three can be taken.
  auto again = home.skyctl({"launch", "-y", "-c", "w", "--infra", "ssh/lab",
                            "--num-nodes", "3", "--", "true"},
                           60s);
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(home.skyctl({"down", "-y", "w"}, 60s).exit_code == 0);
}

TEST_CASE("a job on an SSH cluster survives kill -9 of skyd") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab{3, true};
  skyd_home home;
  write_pool_file(home, lab);
  REQUIRE(
    home
      .skyctl({"launch", "-y", "-c", "k", "--infra", "ssh/lab", "--", "true"},
              60s)
      .exit_code
    == 0);
  auto id = exec_detached(
    home, {"k", "--",
           "echo $$ > jobpid; for i in 1 2 3 4 5 6 7 8; do echo tick $i; "
           "sleep 0.3; done"});
  auto pid = read_pid(node_dir(lab, "k", 0) / "jobpid");
  REQUIRE(pid > 0);
  home.kill9();
  CHECK(process_alive(pid)); // the job does not depend on skyd
  // The next command starts a new skyd, which re-attaches.
  auto follow = home.skyctl({"logs", "k", std::to_string(id)}, 60s);
  INFO(follow.out << follow.err);
  CHECK(follow.exit_code == 0);
  CHECK(follow.out.find("tick 1\n") != std::string::npos);
  CHECK(follow.out.find("tick 8\n") != std::string::npos);
  auto j = wait_job(home, "k", id);
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(home.skyctl({"down", "-y", "k"}, 60s).exit_code == 0);
  CHECK_FALSE(fs::exists(node_dir(lab, "k", 0)));
}

TEST_CASE("a bad SSH pool file stops skyd with file:line and the fix") {
  skyd_home home;
  std::ofstream{home.path() / "ssh_node_pools.yaml"}
    << "lab:\n  hosts:\n    - ip: 127.0.0.2\n      prot: 22\n";
  auto r = home.skyctl({"status"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("ssh_node_pools.yaml:4:") != std::string::npos);
  CHECK(r.err.find("prot") != std::string::npos);
  CHECK(r.err.find("did you mean 'port'") != std::string::npos);
  CHECK_FALSE(home.daemon_pid());
}
