#include <catch2/catch.hpp>

#include "messages/task/parse_task.hpp"
#include "optimizer/cluster/autostop.hpp"
#include "optimizer/cluster/cluster_fit.hpp"

using namespace sky;
using namespace sky::optimizer;

namespace {

task::task_spec task_from(const std::string& yaml) {
  auto p = task::parse_task_yaml(yaml, "t.yaml");
  REQUIRE(p);
  return p->tasks.at(0);
}

placement_info gcp_a100() {
  placement_info p;
  p.provider = "gcp";
  p.region = "us-central1";
  p.zone = "us-central1-a";
  p.instance_type = "a2-highgpu-1g";
  p.num_nodes = 2;
  p.cpus = 12;
  p.memory_gib = 85;
  p.accelerator = "A100";
  p.accelerator_count = 1;
  return p;
}

std::string why(const result<void>& r) {
  REQUIRE_FALSE(r);
  CHECK(describe(r.error()).code == errc::conflict);
  return describe(r.error()).message;
}

} // namespace

TEST_CASE("a task fits a cluster that has at least what it asks") {
  auto c = gcp_a100();
  CHECK(fits_cluster(task_from("run: x\n"), "a", c));
  CHECK(fits_cluster(task_from("resources: {accelerators: a100:1, cpus: "
                               "8+}\nnum_nodes: 2\n"),
                     "a", c));
  CHECK(
    fits_cluster(task_from("resources: {infra: gcp/us-central1}\n"), "a", c));
  // One alternative fitting is enough.
  CHECK(fits_cluster(task_from("resources:\n  accelerators: {H100: 1, A100: "
                               "1}\n"),
                     "a", c));
}

TEST_CASE("a task that does not fit says what and where") {
  auto c = gcp_a100();
  CHECK(
    why(fits_cluster(task_from("resources: {accelerators: A100:8}\n"), "a", c))
      .find("task needs A100:8 per node; cluster 'a' has 2x(")
    == 0);
  CHECK(why(fits_cluster(task_from("num_nodes: 3\n"), "a", c))
          .find("task needs 3 nodes")
        != std::string::npos);
  CHECK(why(fits_cluster(task_from("resources: {infra: aws}\n"), "a", c))
          .find("infra aws")
        != std::string::npos);
  CHECK(why(fits_cluster(task_from("resources: {cpus: 16}\n"), "a", c))
          .find("16 vCPUs")
        != std::string::npos);
  CHECK(why(fits_cluster(task_from("resources: {use_spot: true}\n"), "a", c))
          .find("spot")
        != std::string::npos);
  CHECK(
    why(fits_cluster(task_from("resources: {memory: 8x, cpus: 12}\n"), "a", c))
      .find("96 GiB")
    != std::string::npos);
}

TEST_CASE("a local cluster that reserved nothing takes any size") {
  placement_info local;
  local.provider = "local";
  local.num_nodes = 1;
  CHECK(fits_cluster(task_from("resources: {cpus: 64, accelerators: "
                               "A100:8}\n"),
                     "l", local));
  local.reserved_cpus = 2;
  CHECK_FALSE(fits_cluster(task_from("resources: {cpus: 4}\n"), "l", local));
}

TEST_CASE("autostop fires after the idle time and not before") {
  autostop_info on{10, false};
  int64_t idle = 1'000'000;
  auto early = decide_autostop(cluster_status::up, on, idle, idle + 60'000);
  CHECK(early.action == autostop_action::none);
  REQUIRE(early.check_at_ms);
  CHECK(*early.check_at_ms == idle + 600'000);
  CHECK(decide_autostop(cluster_status::up, on, idle, idle + 600'000).action
        == autostop_action::stop);
  autostop_info down{0, true};
  CHECK(decide_autostop(cluster_status::up, down, idle, idle).action
        == autostop_action::down);
  // Busy, disabled or not UP: nothing to do, nothing to schedule.
  auto busy = decide_autostop(cluster_status::up, on, 0, idle);
  CHECK(busy.action == autostop_action::none);
  CHECK_FALSE(busy.check_at_ms);
  CHECK(decide_autostop(cluster_status::up, {}, idle, idle * 2).action
        == autostop_action::none);
  CHECK(decide_autostop(cluster_status::stopped, on, idle, idle * 2).action
        == autostop_action::none);
}
