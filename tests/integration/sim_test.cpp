// Simulated clouds end to end: real skyd and skyctl processes on a temporary
// SKYD_HOME whose config simulates gcp, azure and aws from the repository's
// own small catalog (data/catalogs, the default), with scenario files that
// make clouds fail in each way failover knows. Scenarios have no
// provisioning delay, so each launch takes well under a second.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sim_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using namespace sky::testing::sim_it;
using nlohmann::json;

namespace {

// A100:8 only in the third-cheapest region (docs/SIM.md's failover demo
// without its provisioning delay).
constexpr const char* a100_third = R"(seed: 1
clouds:
  gcp:
    regions:
      us-central1:
        capacity: {A100: 0}
      europe-west4:
        capacity: {A100: 0}
  azure:
    capacity: {A100: 0}
    regions:
      eastus:
        capacity: {A100: 16}
  aws:
    capacity: {A100: 0}
)";

} // namespace

TEST_CASE("sim: A100:8 lands in the third-cheapest region, showing both "
          "failures, and cost-report bills the catalog price") {
  skyd_home home;
  simulate(home, a100_third);
  auto r = home.skyctl(
    {"launch", "-y", "-c", "big", "--gpus", "A100:8", "--", "echo ran"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "ran\n");
  // One readable line per failed attempt, with the scope it blocked.
  CHECK(r.err.find("gcp/us-central1/us-central1-a a2-highgpu-8g (simulated): "
                   "no on-demand capacity for 8 A100")
        != std::string::npos);
  CHECK(r.err.find("gcp/europe-west4/europe-west4-a a2-highgpu-8g "
                   "(simulated): no on-demand capacity")
        != std::string::npos);
  CHECK(count(r.err, "(region blocked), trying the next candidate") == 2);
  auto c = status_of(home, "big");
  REQUIRE(c.is_object());
  CHECK(c["status"] == "UP");
  CHECK(c["placement"]["provider"] == "azure");
  CHECK(c["placement"]["region"] == "eastus");
  double price = catalog_price("azure", "Standard_ND96asr_v4", "eastus");
  CHECK(c["placement"]["hourly_price"].get<double>() == Approx(price));
  auto kinds = events_of(home, "cluster.big");
  CHECK(std::count_if(
          kinds.begin(), kinds.end(),
          [](const json& e) { return e["kind"] == "cluster.provision_failed"; })
        == 2);

  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto down = home.skyctl({"down", "-y", "big"});
  REQUIRE(down.exit_code == 0);
  // Torn down, still billed for the time it was UP.
  auto cost = home.skyctl({"cost-report", "-o", "json"});
  REQUIRE(cost.exit_code == 0);
  auto report = json::parse(cost.out);
  REQUIRE(report["clusters"].size() == 1);
  auto row = report["clusters"][0];
  CHECK(row["name"] == "big");
  CHECK(row["infra"] == "azure/eastus");
  CHECK(row["instance_type"] == "Standard_ND96asr_v4");
  CHECK(row["num_nodes"] == 1);
  CHECK(row["status"] == "TERMINATED");
  CHECK(row["hourly_price"].get<double>() == Approx(price));
  double hours = row["hours"].get<double>();
  // UP for at least the 300 ms slept, and not for minutes.
  CHECK(hours >= 0.3 / 3600);
  CHECK(hours < 60.0 / 3600);
  CHECK(row["total"].get<double>() == Approx(hours * price));
  CHECK(report["total"].get<double>() == Approx(hours * price));
  auto text = home.skyctl({"cost-report"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("big   azure/eastus  Standard_ND96asr_v4  1")
        != std::string::npos);
  CHECK(text.out.find("TERMINATED") != std::string::npos);
}

TEST_CASE("sim: a zone without capacity fails over to the region's next "
          "zone") {
  skyd_home home;
  simulate(home, R"(clouds:
  gcp:
    regions:
      us-central1:
        zones:
          us-central1-a:
            capacity: {A100: 0}
)");
  auto r = home.skyctl({"launch", "-y", "-c", "z", "--infra", "gcp", "--gpus",
                        "A100:8", "--", "true"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("gcp/us-central1/us-central1-a a2-highgpu-8g (simulated)")
        != std::string::npos);
  CHECK(count(r.err, "(zone blocked), trying the next candidate") == 1);
  auto c = status_of(home, "z");
  CHECK(c["placement"]["region"] == "us-central1");
  CHECK(c["placement"]["zone"] == "us-central1-b");
}

TEST_CASE("sim: an auth error blocks the whole cloud, a quota error the "
          "region") {
  skyd_home home;
  simulate(home, R"(clouds:
  gcp:
    failures:
      - error: auth
        message: "the service account key was revoked"
  azure:
    regions:
      eastus:
        quota: {gpus: 0}
)");
  auto r = home.skyctl(
    {"launch", "-y", "-c", "q", "--gpus", "A100:8", "--", "true"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // gcp once (auth: cloud blocked, europe-west4 never tried), azure/eastus
  // once (quota: region blocked), then azure/westus2.
  CHECK(count(r.err, "Launching on gcp/") == 1);
  CHECK(r.err.find("the service account key was revoked") != std::string::npos);
  CHECK(r.err.find("(cloud blocked)") != std::string::npos);
  CHECK(count(r.err, "Launching on azure/eastus") == 1);
  CHECK(r.err.find("quota") != std::string::npos);
  CHECK(r.err.find("(region blocked)") != std::string::npos);
  auto c = status_of(home, "q");
  CHECK(c["placement"]["provider"] == "azure");
  CHECK(c["placement"]["region"] == "westus2");
}

TEST_CASE("sim: a 2-node attempt that half fits is rolled back, nothing "
          "leaks") {
  skyd_home home;
  // One a2-highgpu-8g in us-central1-a: node 0 fits, node 1 does not.
  simulate(home, R"(clouds:
  gcp:
    regions:
      us-central1:
        zones:
          us-central1-a:
            capacity: {a2-highgpu-8g: 1}
)");
  auto r = home.skyctl({"launch", "-y", "-c", "two", "--infra", "gcp", "--gpus",
                        "A100:8", "--num-nodes", "2", "--",
                        "echo rank $SKYPILOT_NODE_RANK"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("partial provisioning: 1 of 2 nodes were created, then "
                   "terminated again; no instance is left")
        != std::string::npos);
  auto c = status_of(home, "two");
  CHECK(c["placement"]["zone"] == "us-central1-b");
  CHECK(c["placement"]["num_nodes"] == 2);
  CHECK(r.out.find("rank 1") != std::string::npos);
  // The simulator's own record: both live instances are in us-central1-b,
  // the node created in us-central1-a was terminated.
  auto state = home.path() / "sim" / ".sim" / "clusters" / "gcp" / "two.json";
  REQUIRE(std::filesystem::exists(state));
  auto doc = json::parse(std::ifstream{state});
  CHECK(doc["zone"] == "us-central1-b");
  size_t active = 0;
  for (const auto& inst : doc["instances"])
    if (inst["phase"] == "active")
      ++active;
  CHECK(active == 2);
  // Capacity was released: with the zone back, a 1-node launch fits there.
  auto one = home.skyctl({"launch", "-y", "-c", "one", "--infra",
                          "gcp/us-central1/us-central1-a", "--gpus", "A100:8",
                          "--", "true"});
  INFO(one.err);
  CHECK(one.exit_code == 0);
}

TEST_CASE("sim: spot preemption after a delay makes the cluster INIT and "
          "its job FAILED_DRIVER") {
  skyd_home home;
  simulate(home, R"(clouds:
  gcp:
    preemption: {after: 3s}
)");
  auto r = home.skyctl({"launch", "-y", "-d", "-c", "spot", "--infra", "gcp",
                        "--cpus", "8", "--use-spot", "--", "sleep 600"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(status_of(home, "spot")["placement"]["use_spot"] == true);
  // The sim watcher applies the preemption on time; the cluster reacts.
  REQUIRE(
    eventually([&] { return status_of(home, "spot")["status"] == "INIT"; }));
  auto c = status_of(home, "spot");
  CHECK(c["reason"].get<std::string>().find("node 0 was preempted")
        != std::string::npos);
  REQUIRE(eventually(
    [&] { return jobs_of(home, "spot")[0]["status"] == "FAILED_DRIVER"; }));
  auto events = events_of(home, "cluster.spot");
  auto preempted
    = std::find_if(events.begin(), events.end(), [](const json& e) {
        return e["kind"] == "cluster.preempted";
      });
  REQUIRE(preempted != events.end());
  CHECK((*preempted)["fields"]["rank"] == 0);
  CHECK((*preempted)["fields"]["provider"] == "gcp");

  // Relaunching replaces the node where the cluster is.
  auto zone = c["placement"]["zone"];
  auto again
    = home.skyctl({"launch", "-y", "-c", "spot", "--", "echo replaced"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out == "replaced\n");
  CHECK(again.err.find("where its nodes are") != std::string::npos);
  CHECK(status_of(home, "spot")["placement"]["zone"] == zone);
}

TEST_CASE("sim: preempt by hand, capacity by hand, and both refused where "
          "they do not apply") {
  skyd_home home;
  simulate(home, "seed: 3\n");
  auto r = home.skyctl({"launch", "-y", "-d", "-c", "hand", "--infra", "aws",
                        "--cpus", "8", "--", "sleep 600"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // A detached launch returns once the job is queued; preempted while
  // still PENDING it would be CANCELLED (the queue went with the cluster),
  // so wait until it runs.
  REQUIRE(eventually(
    [&] { return jobs_of(home, "hand")[0]["status"] == "RUNNING"; }));
  auto p = home.skyctl({"sim", "preempt", "hand", "0"});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  CHECK(p.out.find("Preempted node 0 of cluster 'hand' on aws (simulated)")
        != std::string::npos);
  REQUIRE(
    eventually([&] { return status_of(home, "hand")["status"] == "INIT"; }));
  auto ended = eventually(
    [&] { return jobs_of(home, "hand")[0]["status"] == "FAILED_DRIVER"; });
  INFO("jobs: " << jobs_of(home, "hand").dump());
  REQUIRE(ended);
  // Again: nothing left to preempt.
  auto twice = home.skyctl({"sim", "preempt", "hand"});
  CHECK(twice.exit_code == 1);
  CHECK(twice.err.find("no live instance") != std::string::npos);

  // A local cluster is not simulated.
  auto local = home.skyctl(
    {"launch", "-y", "-c", "loc", "--infra", "local", "--", "true"});
  REQUIRE(local.exit_code == 0);
  auto refused = home.skyctl({"sim", "preempt", "loc"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("is not on a simulated cloud") != std::string::npos);

  // Capacity by hand: 0 A100 in all of gcp, then a launch that needs them
  // goes elsewhere.
  auto cap = home.skyctl({"sim", "capacity", "gcp", "A100", "0"});
  INFO(cap.err);
  REQUIRE(cap.exit_code == 0);
  CHECK(cap.out.find("set to 0") != std::string::npos);
  auto bad = home.skyctl({"sim", "capacity", "gcp/us-centrl1", "A100", "1"});
  CHECK(bad.exit_code == 2); // bad input
  CHECK(bad.err.find("did you mean 'us-central1'") != std::string::npos);
  auto usage = home.skyctl({"sim", "capacity", "gcp", "A100", "many"});
  CHECK(usage.exit_code == 2);
  auto moved = home.skyctl(
    {"launch", "-y", "-c", "moved", "--gpus", "A100:8", "--", "true"});
  INFO(moved.err);
  REQUIRE(moved.exit_code == 0);
  CHECK(moved.err.find("(cloud blocked)") != std::string::npos);
  CHECK(status_of(home, "moved")["placement"]["provider"] == "azure");
}

TEST_CASE("sim: a stopped cluster restarts only where its disks are") {
  skyd_home home;
  simulate(home, "seed: 4\n");
  auto r = home.skyctl({"launch", "-y", "-c", "disk", "--infra",
                        "gcp/us-central1", "--gpus", "A100:8", "--", "true"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto zone = status_of(home, "disk")["placement"]["zone"].get<std::string>();
  REQUIRE(home.skyctl({"stop", "-y", "disk"}).exit_code == 0);
  CHECK(status_of(home, "disk")["status"] == "STOPPED");
  // Meanwhile the zone's capacity is gone: the start fails, never moves.
  REQUIRE(
    home.skyctl({"sim", "capacity", "gcp/us-central1/" + zone, "A100", "0"})
      .exit_code
    == 0);
  auto start = home.skyctl({"start", "-y", "disk"});
  CHECK(start.exit_code == 1);
  CHECK(start.err.find("no on-demand capacity") != std::string::npos);
  auto c = status_of(home, "disk");
  CHECK(c["status"] == "STOPPED");
  CHECK(c["placement"]["zone"] == zone);
  REQUIRE(home
            .skyctl({"sim", "capacity", "gcp/us-central1/" + zone, "A100",
                     "unlimited"})
            .exit_code
          == 0);
  auto again = home.skyctl({"start", "-y", "disk"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(status_of(home, "disk")["status"] == "UP");
  CHECK(status_of(home, "disk")["placement"]["zone"] == zone);
}

TEST_CASE("sim: --retry-until-up waits for capacity that appears later") {
  skyd_home home;
  simulate(home, R"(clouds:
  gcp: {capacity: {A100: 0}}
  azure: {capacity: {A100: 0}}
  aws: {capacity: {A100: 0}}
)");
  run_result launched;
  std::thread launcher([&] {
    launched = home.skyctl({"launch", "-y", "-c", "later", "--retry-until-up",
                            "--gpus", "A100:8", "--", "echo finally"},
                           std::chrono::seconds(60));
  });
  // The first round fails everywhere (each cloud's limit blocks the whole
  // cloud); then capacity appears in aws/us-east-1.
  bool waiting = eventually([&] {
    auto ev = events_of(home, "cluster.later");
    return std::count_if(ev.begin(), ev.end(),
                         [](const json& e) {
                           return e["kind"] == "cluster.provision_failed";
                         })
           >= 3;
  });
  CHECK(waiting);
  auto cap = home.skyctl({"sim", "capacity", "aws/us-east-1", "A100", "8"});
  CHECK(cap.exit_code == 0);
  launcher.join();
  INFO(launched.err);
  REQUIRE(launched.exit_code == 0);
  CHECK(launched.out == "finally\n");
  CHECK(launched.err.find("No candidate left; retrying in")
        != std::string::npos);
  CHECK(status_of(home, "later")["placement"]["region"] == "us-east-1");
}

TEST_CASE("sim: check lists every infra, and a bad scenario stops skyd with "
          "where the mistake is") {
  skyd_home home;
  simulate(home, "seed: 1\n");
  auto r = home.skyctl({"check"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("local       enabled") != std::string::npos);
  CHECK(r.out.find("gcp         enabled (simulated)") != std::string::npos);
  CHECK(r.out.find("lambda      not configured") != std::string::npos);
  CHECK(r.out.find("sim.clouds: [gcp, azure, aws, lambda]")
        != std::string::npos);
  CHECK(r.out.find("ssh         not configured") != std::string::npos);
  CHECK(r.out.find("slurm       not supported") != std::string::npos);
  auto j = home.skyctl({"check", "-o", "json"});
  REQUIRE(j.exit_code == 0);
  auto doc = json::parse(j.out);
  std::map<std::string, json> rows;
  for (const auto& row : doc["infra"])
    rows[row["name"]] = row;
  CHECK(rows.at("aws")["simulated"] == true);
  CHECK(rows.at("aws")["status"] == "enabled");
  CHECK(rows.at("aws")["detail"].get<std::string>().find(
          "data/catalogs/aws/vms.csv")
        != std::string::npos);
  CHECK(rows.at("local")["status"] == "enabled");
  CHECK(rows.at("lambda")["status"] == "not configured");
  CHECK(rows.at("kubernetes")["status"] == "not supported");
  CHECK(doc["sim_mode"] == "real");
  // An SSH pools file is counted (the SSH provider is not part of this
  // skyd yet).
  std::ofstream{home.path() / "ssh_node_pools.yaml"}
    << "pool-a:\n  hosts: [10.0.0.1]\npool-b:\n  hosts: [10.0.0.2]\n";
  auto ssh = json::parse(home.skyctl({"check", "-o", "json"}).out);
  for (const auto& row : ssh["infra"])
    if (row["name"] == "ssh")
      CHECK(row["detail"].get<std::string>().find("2 node pool(s)")
            != std::string::npos);
  REQUIRE(home.skyctl({"daemon", "stop"}).exit_code == 0);

  simulate(home, "clouds:\n  gcp:\n    regions:\n      us-centrl1: {}\n");
  auto bad = home.skyctl({"status"});
  CHECK(bad.exit_code == 3);
  CHECK(bad.err.find("sim.scenario: ") != std::string::npos);
  CHECK(bad.err.find("scenario.yaml:4:7: clouds.gcp.regions.us-centrl1: "
                     "unknown region 'us-centrl1' of gcp (did you mean "
                     "'us-central1'?)")
        != std::string::npos);
}

TEST_CASE("sim: without sim.clouds the sim verbs are refused with how to "
          "enable them") {
  skyd_home home;
  home.write_config("events:\n  sync: false\n");
  auto p = home.skyctl({"sim", "preempt", "x"});
  CHECK(p.exit_code == 1);
  CHECK(p.err.find("no simulated cloud is configured") != std::string::npos);
  CHECK(p.err.find("sim.clouds") != std::string::npos);
  auto c = home.skyctl({"sim", "capacity", "gcp", "A100", "1"});
  CHECK(c.exit_code == 1);
  auto check = home.skyctl({"check"});
  REQUIRE(check.exit_code == 0);
  CHECK(check.out.find("gcp         not configured") != std::string::npos);
}
