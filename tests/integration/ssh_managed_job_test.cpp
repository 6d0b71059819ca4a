// A managed job on an SSH pool survives the death of one of its machines: a
// real skyd and skyctl, three real sshd hosts on 127.0.0.2-4, each with a
// HOME of its own so that they look like separate machines
// (tests/unit/providers/ssh_test_util.hpp).

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
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
using sky::providers::testing::wait_until;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

void write_pool_file(const skyd_home& home, ssh_lab& lab) {
  std::ofstream out{home.path() / "ssh_node_pools.yaml"};
  out << "lab:\n  user: " << current_user()
      << "\n  identity_file: " << lab.key().string() << "\n  hosts:\n";
  for (size_t i = 0; i < 3; ++i)
    out << "    - ip: " << lab.host(i).ip
        << "\n      port: " << lab.host(i).port << "\n";
}

json managed_job(const skyd_home& home, uint64_t id) {
  auto r = home.skyctl({"jobs", "queue", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  auto queue = json::parse(r.out); // alive for the loop below
  for (const auto& j : queue["jobs"])
    if (j["job_id"] == id)
      return j;
  return nullptr;
}

template <class Pred>
json wait_for(const skyd_home& home, uint64_t id, Pred done,
              std::chrono::seconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  json j;
  do {
    j = managed_job(home, id);
    if (j.is_object() && done(j))
      return j;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < until);
  return j;
}

bool final_state(const std::string& s) {
  return s == "SUCCEEDED" || s == "CANCELLED" || s.rfind("FAILED", 0) == 0;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + 1))
    ++n;
  return n;
}

json events(const skyd_home& home, const std::string& topic) {
  auto r = home.skyctl({"events", "--topic", topic, "-o", "json"});
  REQUIRE(r.exit_code == 0);
  json out = json::array();
  std::istringstream lines{r.out};
  for (std::string line; std::getline(lines, line);)
    if (!line.empty())
      out.push_back(json::parse(line));
  return out;
}

} // namespace

TEST_CASE("a managed job on an SSH pool recovers onto the third host when "
          "one of its hosts dies") {
  if (!have_sshd()) {
    WARN("skipped: /usr/sbin/sshd is not installed");
    return;
  }
  ssh_lab lab{3, true, true};
  skyd_home home;
  // The dead host is noticed after 8 s of silence instead of 30.
  home.write_config("ssh:\n  loss_after_seconds: 8\n");
  write_pool_file(home, lab);
  // The hosts share this machine's disk: markers here tell an attempt
  // whether its rank ran before (attempt 1 waits forever, attempt 2 ends).
  auto marks = (home.path() / "marks").string();
  fs::create_directories(marks);
  auto yaml = home.path() / "mj.yaml";
  std::ofstream{yaml} << R"(name: mj
num_nodes: 2
resources:
  infra: ssh/lab
run: |
  ips=$(echo $SKYPILOT_NODE_IPS | tr '\n' ' ')
  m=)" << marks << R"(/rank-$SKYPILOT_NODE_RANK
  if [ -e $m ]; then
    echo "second attempt rank $SKYPILOT_NODE_RANK id=$SKYPILOT_TASK_ID ips $ips"
    exit 0
  fi
  echo "first attempt rank $SKYPILOT_NODE_RANK id=$SKYPILOT_TASK_ID ips $ips"
  touch $m
  sleep 600
)";
  auto r = home.skyctl({"jobs", "launch", "-y", "-d", yaml.string()}, 60s);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const uint64_t id = 1;

  // Both ranks run, on the first two hosts in pool order, and their first
  // lines are copied (a dead machine's own log goes with it).
  auto running = wait_for(
    home, id,
    [&](const json& j) {
      return j["status"] == "RUNNING" && fs::exists(marks + "/rank-0")
             && fs::exists(marks + "/rank-1");
    },
    60s);
  INFO(running.dump());
  REQUIRE(running["status"] == "RUNNING");
  std::string logs;
  for (int i = 0; i < 150; ++i) {
    logs = home.skyctl({"jobs", "logs", "1", "--no-follow"}).out;
    if (count(logs, "first attempt rank") == 2)
      break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(logs);
  REQUIRE(count(logs, "first attempt rank") == 2);
  CHECK(logs.find("ips 127.0.0.2 127.0.0.3") != std::string::npos);
  auto cluster = running["cluster"].get<std::string>();
  REQUIRE(fs::is_directory(lab.home_of(1) / ".skyd-nodes" / cluster / "1"));

  // Rank 1's machine dies: sshd and every process skyd started there.
  lab.crash_host(1);

  // Detection (the host stops answering past the loss threshold), RECOVERING,
  // a new cluster on the two hosts left, SUCCEEDED.
  auto j = wait_for(
    home, id, [](const json& x) { return final_state(x["status"]); }, 100s);
  INFO(j.dump());
  CHECK(j["status"] == "SUCCEEDED");
  CHECK(j["recoveries"] == 1);
  auto task_id = j["task_id"].get<std::string>();

  auto lost = events(home, "cluster.");
  bool node_lost = false;
  for (const auto& e : lost)
    if (e["kind"] == "cluster.node_lost" && e["fields"]["rank"] == 1)
      node_lost = true;
  CHECK(node_lost);
  auto mj = home.skyctl({"events", "--topic", "managed_job.", "-o", "json"});
  CHECK(mj.out.find("\"RECOVERING\"") != std::string::npos);
  CHECK(mj.out.find("lost node 1") != std::string::npos);

  // Both attempts in the logs, with the same task id; the second on the
  // surviving host and the third one, never on the dead one.
  auto all = home.skyctl({"jobs", "logs", "1", "--no-follow"});
  INFO(all.out << all.err);
  CHECK(count(all.out, "first attempt rank") == 2);
  CHECK(count(all.out, "second attempt rank") == 2);
  CHECK(count(all.out, "id=" + task_id + " ips") == 4);
  CHECK(count(all.out, "id=") == 4);
  CHECK(count(all.out, "second attempt rank 0 id=" + task_id
                         + " ips 127.0.0.2 127.0.0.4")
        == 1);
  // The job's cluster goes after the job ends; the dead host's directory
  // is still there (its cleanup waits until it answers again), the others
  // are cleaned.
  bool gone = wait_until(
    [&] {
      return home.skyctl({"status", "-a"}).out.find("No existing clusters")
             != std::string::npos;
    },
    30s);
  CHECK(gone);
  CHECK_FALSE(fs::exists(lab.home_of(0) / ".skyd-nodes" / cluster / "0"));
  CHECK_FALSE(fs::exists(lab.home_of(2) / ".skyd-nodes" / cluster / "1"));
  CHECK(fs::exists(lab.home_of(1) / ".skyd-nodes" / cluster / "1"));
}
