// The tables and JSON of plan, status, queue and show-gpus.

#include <catch2/catch.hpp>

#include <limits>
#include <sstream>

#include "skyctl/render.hpp"

using namespace sky;
using namespace sky::cli;

namespace {

protocol::candidate_row row(std::string cloud, std::string region,
                            std::string type, double price,
                            bool chosen = false) {
  protocol::candidate_row c;
  c.cloud = std::move(cloud);
  c.region = std::move(region);
  c.instance_type = std::move(type);
  c.cpus = 8;
  c.memory_gib = 30.5;
  c.hourly_price = price;
  c.chosen = chosen;
  return c;
}

protocol::plan_reply one_task_plan() {
  protocol::task_plan t;
  t.name = "train";
  t.num_nodes = 1;
  auto a = row("gcp", "us-central1", "n1-standard-8", 0.38, true);
  a.accelerators = "V100:1";
  auto b = row("aws", "us-east-1", "p3.2xlarge", 3.06);
  b.zone = "us-east-1a";
  b.use_spot = true;
  b.accelerators = "V100:1";
  t.candidates = {a, b};
  t.excluded = {{"azure", "no credentials"}, {"local", "no V100 here"}};
  protocol::plan_reply plan;
  plan.tasks = {t};
  plan.total_hourly_price = 0.38;
  return plan;
}

std::string print(const protocol::plan_reply& plan, bool utf8 = true,
                  size_t max_rows = 20) {
  std::ostringstream out;
  print_plan(out, plan, plan_style{utf8, max_rows});
  return out.str();
}

constexpr int64_t now = 1'700'000'000'000;

} // namespace

TEST_CASE("the plan table marks the choice and lists exclusions") {
  auto text = print(one_task_plan());
  CHECK(text
        == "Considered resources (1 node):\n"
           "INFRA                     INSTANCE          vCPUs  Mem(GB)  "
           "GPUS    COST ($/h)  CHOSEN\n"
           "gcp/us-central1           n1-standard-8     8      30.5     "
           "V100:1  0.38        \u2714\n"
           "aws/us-east-1/us-east-1a  p3.2xlarge[Spot]  8      30.5     "
           "V100:1  3.06\n"
           "Not considered:\n"
           "  azure: no credentials\n"
           "  local: no V100 here\n");
  CHECK(print(one_task_plan(), false).find("0.38        *\n")
        != std::string::npos);
}

TEST_CASE("long plans are cut at the limit but keep the chosen row") {
  protocol::task_plan t;
  t.num_nodes = 2;
  for (int i = 0; i < 30; ++i)
    t.candidates.push_back(
      row("gcp", "r" + std::to_string(i), "n" + std::to_string(i), i, i == 25));
  protocol::plan_reply plan;
  plan.tasks = {t};
  auto text = print(plan, true, 20);
  CHECK(text.rfind("Considered resources (2 nodes):\n", 0) == 0);
  CHECK(text.find("gcp/r19 ") != std::string::npos);
  CHECK(text.find("gcp/r20 ") == std::string::npos);
  CHECK(text.find("gcp/r25 ") != std::string::npos);
  CHECK(text.find("... and 9 more (-o json lists all)\n") != std::string::npos);
}

TEST_CASE("a task with no candidate says so and is infeasible") {
  protocol::task_plan t;
  t.num_nodes = 1;
  t.excluded = {{"gcp", "no H100 in the catalog"}};
  protocol::plan_reply plan;
  plan.tasks = {t};
  CHECK_FALSE(plan_feasible(plan));
  CHECK(print(plan)
        == "No resources satisfy the task (1 node).\n"
           "Not considered:\n"
           "  gcp: no H100 in the catalog\n");
  CHECK(plan_feasible(one_task_plan()));
  CHECK_FALSE(plan_feasible(protocol::plan_reply{}));
}

TEST_CASE("a pipeline prints one table per task and the total") {
  auto plan = one_task_plan();
  auto second = plan.tasks.front();
  second.name = "eval";
  second.excluded.clear();
  plan.tasks.push_back(second);
  plan.total_hourly_price = 0.76;
  auto text = print(plan);
  CHECK(text.find("Considered resources for task 'train' (1 node):\n")
        != std::string::npos);
  CHECK(text.find("\nConsidered resources for task 'eval' (1 node):\n")
        != std::string::npos);
  CHECK(text.find("Total hourly price of the chosen resources: $0.76\n")
        != std::string::npos);
}

TEST_CASE("plan JSON has the documented shapes") {
  auto plan = one_task_plan();
  auto single = plan_json(plan);
  CHECK(single.size() == 2);
  REQUIRE(single["candidates"].size() == 2);
  const auto& c = single["candidates"][0];
  std::vector<std::string> keys;
  for (const auto& [k, v] : c.items())
    keys.push_back(k);
  CHECK(keys
        == std::vector<std::string>{
          "cloud", "region", "zone", "instance_type", "accelerators", "cpus",
          "memory_gib", "use_spot", "num_nodes", "hourly_price", "chosen"});
  CHECK(c["chosen"] == true);
  CHECK(single["candidates"][1]["use_spot"] == true);
  CHECK(single["excluded"][0]
        == nlohmann::ordered_json{{"infra", "azure"},
                                  {"reason", "no credentials"}});
  plan.tasks.push_back(plan.tasks.front());
  auto pipeline = plan_json(plan);
  REQUIRE(pipeline["tasks"].size() == 2);
  CHECK(pipeline["tasks"][0]["name"] == "train");
  CHECK(pipeline["tasks"][0]["candidates"].size() == 2);
  CHECK(pipeline["total_hourly_price"] == 0.38);
}

TEST_CASE("relative times read like sky's") {
  CHECK(time_ago(0, now) == "-");
  CHECK(time_ago(now - 3'000, now) == "a few secs ago");
  CHECK(time_ago(now + 5'000, now) == "a few secs ago");
  CHECK(time_ago(now - 42'000, now) == "42 secs ago");
  CHECK(time_ago(now - 60'000, now) == "1 min ago");
  CHECK(time_ago(now - 5 * 60'000 - 59'000, now) == "5 mins ago");
  CHECK(time_ago(now - 3'600'000, now) == "1 hr ago");
  CHECK(time_ago(now - 7 * 3'600'000, now) == "7 hrs ago");
  CHECK(time_ago(now - 3 * 86'400'000LL, now) == "3 days ago");
  CHECK(time_ago(now - 65 * 86'400'000LL, now) == "2 months ago");
  CHECK(time_ago(now - 800 * 86'400'000LL, now) == "2 years ago");
}

TEST_CASE("numbers print without trailing zeros") {
  CHECK(number_text(8) == "8");
  CHECK(number_text(0.5) == "0.5");
  CHECK(number_text(30.25) == "30.25");
  CHECK(number_text(1.10) == "1.1");
  CHECK(number_text(std::numeric_limits<double>::quiet_NaN()) == "-");
}

TEST_CASE("status lists clusters like sky status") {
  std::ostringstream empty;
  print_status(empty, {}, now);
  CHECK(empty.str() == "No existing clusters.\n");

  cluster_summary c;
  c.name = "dev";
  c.status = "UP";
  c.placement.provider = "gcp";
  c.placement.region = "us-central1";
  c.placement.instance_type = "n1-standard-8";
  c.placement.cpus = 8;
  c.placement.memory_gib = 30;
  c.placement.hourly_price = 0.38;
  c.autostop = {10, true};
  c.launched_at_ms = now - 5 * 60'000;
  cluster_summary l;
  l.name = "box";
  l.status = "INIT";
  l.placement.provider = "local";
  l.reason = "node 1 stopped answering";
  std::ostringstream out;
  print_status(out, protocol::status_reply{{c, l}}, now);
  CHECK(out.str()
        == "NAME  INFRA            RESOURCES                           "
           "STATUS  AUTOSTOP    LAUNCHED    PRICE/H\n"
           "dev   gcp/us-central1  1x(n1-standard-8, cpus=8, mem=30G)  "
           "UP      10m (down)  5 mins ago  $0.38\n"
           "box   local            1x(-)                               "
           "INIT    -           -           -\n"
           "Cluster box: node 1 stopped answering\n");
}

namespace {

cluster_summary local_cluster(std::string name, std::string owner = {}) {
  cluster_summary c;
  c.name = std::move(name);
  c.status = "UP";
  c.placement.provider = "local";
  c.owner = std::move(owner);
  return c;
}

} // namespace

TEST_CASE("status hides managed job clusters and says so in a footer") {
  auto mine = local_cluster("dev");
  auto job = local_cluster("train-7", "managed_job.7");
  protocol::status_reply reply{
    {mine, job, local_cluster("eval-9", "managed_job.9")}};
  auto hidden = hide_managed_clusters(reply);
  CHECK(hidden == 2);
  REQUIRE(reply.clusters.size() == 1);
  CHECK(reply.clusters[0].name == "dev");
  std::ostringstream out;
  print_status(out, reply, now, hidden);
  CHECK(out.str()
        == "NAME  INFRA  RESOURCES  STATUS  AUTOSTOP  LAUNCHED  PRICE/H\n"
           "dev   local  1x(-)      UP      -         -         -\n"
           "2 managed job clusters hidden: skyctl status -a shows them; "
           "skyctl jobs queue lists the jobs.\n");

  // Only job clusters: no table, the footer still tells where they are.
  protocol::status_reply only{{job}};
  hidden = hide_managed_clusters(only);
  std::ostringstream one;
  print_status(one, only, now, hidden);
  CHECK(one.str()
        == "No existing clusters.\n"
           "1 managed job cluster hidden: skyctl status -a shows it; "
           "skyctl jobs queue lists the jobs.\n");

  // Nothing hidden: no footer.
  protocol::status_reply plain{{mine}};
  CHECK(hide_managed_clusters(plain) == 0);
  std::ostringstream none;
  print_status(none, plain, now);
  CHECK(none.str().find("hidden") == std::string::npos);
  CHECK(none.str().find("OWNER") == std::string::npos);
}

TEST_CASE("status -a shows which managed job owns a cluster") {
  std::ostringstream out;
  print_status(
    out,
    protocol::status_reply{
      {local_cluster("dev"), local_cluster("train-7", "managed_job.7")}},
    now);
  CHECK(out.str()
        == "NAME     INFRA  RESOURCES  STATUS  AUTOSTOP  LAUNCHED  PRICE/H  "
           "OWNER\n"
           "dev      local  1x(-)      UP      -         -         -        "
           "-\n"
           "train-7  local  1x(-)      UP      -         -         -        "
           "managed job 7\n");
}
TEST_CASE("the queue groups jobs per cluster") {
  job_summary a;
  a.cluster = "dev";
  a.job_id = 2;
  a.name = "train";
  a.status = "RUNNING";
  a.submitted_at_ms = now - 120'000;
  a.started_at_ms = now - 90'000;
  a.resources = "1x[A100:1]";
  job_summary b = a;
  b.job_id = 1;
  b.name = "";
  b.status = "FAILED";
  b.ended_at_ms = now - 30'000;
  b.exit_code = 3;
  job_summary c = a;
  c.cluster = "other";
  c.job_id = 1;
  c.status = "PENDING";
  c.started_at_ms = 0;
  protocol::queue_reply reply{{a, b, c}};
  std::ostringstream out;
  print_queue(out, reply, {"dev", "idle"}, now);
  CHECK(out.str()
        == "Job queue of cluster dev\n"
           "ID  NAME   SUBMITTED   STARTED    DURATION  RESOURCES   "
           "STATUS   EXIT\n"
           "2   train  2 mins ago  1 min ago  1m 30s    1x[A100:1]  "
           "RUNNING  -\n"
           "1   -      2 mins ago  1 min ago  1m 0s     1x[A100:1]  "
           "FAILED   3\n"
           "\n"
           "Job queue of cluster other\n"
           "ID  NAME   SUBMITTED   STARTED  DURATION  RESOURCES   STATUS   "
           "EXIT\n"
           "1   train  2 mins ago  -        -         1x[A100:1]  PENDING  "
           "-\n"
           "\n"
           "Job queue of cluster idle\n"
           "No jobs.\n");
  std::ostringstream none;
  print_queue(none, {}, {}, now);
  CHECK(none.str() == "No jobs.\n");
}

TEST_CASE("queue JSON uses Unix milliseconds and nulls") {
  job_summary j;
  j.cluster = "dev";
  j.job_id = 7;
  j.command = "python train.py";
  j.status = "PENDING";
  j.submitted_at_ms = now;
  auto json = queue_json(protocol::queue_reply{{j}});
  REQUIRE(json["jobs"].size() == 1);
  const auto& o = json["jobs"][0];
  CHECK(o["job_id"] == 7);
  CHECK(o["command"] == "python train.py");
  CHECK(o["submitted_at"] == now);
  CHECK(o["started_at"].is_null());
  CHECK(o["ended_at"].is_null());
  CHECK(o["exit_code"].is_null());
  j.exit_code = 0;
  CHECK(queue_json(protocol::queue_reply{{j}})["jobs"][0]["exit_code"] == 0);
}

TEST_CASE("show-gpus lists accelerators, and offers with a filter") {
  protocol::gpu_row a100;
  a100.name = "A100";
  a100.counts = {1, 2, 8};
  a100.device_memory_gib = 40;
  protocol::gpu_offer_row offer;
  offer.cloud = "gcp";
  offer.region = "us-central1";
  offer.count = 1;
  offer.instance_type = "a2-highgpu-1g";
  offer.vcpus = 12;
  offer.memory_gib = 85;
  offer.price = 3.6731;
  a100.offers = {offer};
  protocol::gpu_row t4;
  t4.name = "T4";
  t4.counts = {0.5, 1};
  protocol::show_gpus_reply reply{{a100, t4}};
  std::ostringstream list;
  print_gpus(list, reply, false);
  CHECK(list.str()
        == "GPU   QTY      MEMORY\n"
           "A100  1, 2, 8  40GB\n"
           "T4    0.5, 1   -\n");
  std::ostringstream detail;
  print_gpus(detail, reply, true);
  CHECK(detail.str()
        == "GPU   QTY  CLOUD  REGION       INSTANCE_TYPE  vCPUs  HOST_MEMORY  "
           "HOURLY_PRICE  HOURLY_SPOT_PRICE\n"
           "A100  1    gcp    us-central1  a2-highgpu-1g  12     85GB         "
           "$ 3.673       -\n"
           "\n"
           "No offers of T4 on the enabled infra.\n");
}
