#include <catch2/catch.hpp>

#include <sstream>

#include "messages/msgpack_util.hpp"
#include "skyctl/cost_report.hpp"

using namespace sky;
using namespace sky::cli;

namespace {

constexpr int64_t hour = 3'600'000;
constexpr int64_t t0 = 1'800'000'000'000;

struct log_builder {
  std::vector<event> events;
  uint64_t seq = 0;

  void add(const std::string& cluster, const std::string& kind, int64_t at,
           std::string fields = {}) {
    events.push_back(
      {++seq, at, "cluster." + cluster, kind, std::move(fields)});
  }
  void up(const std::string& cluster, int64_t at, double price,
          uint32_t nodes = 1, const std::string& type = "a2-highgpu-8g") {
    add(cluster, "cluster.up", at,
        map_writer{6}
          .add("infra", std::string{"gcp/us-central1/us-central1-a"})
          .add("resources", std::to_string(nodes) + "x(" + type + ")")
          .add("hourly_price", price)
          .add("instance_type", type)
          .add("num_nodes", nodes)
          .add("use_spot", false)
          .bytes());
  }
};

} // namespace

TEST_CASE("cost: a torn-down cluster is billed for the time it was UP") {
  log_builder log;
  log.add("a", "cluster.launch_requested", t0);
  log.add("a", "cluster.provisioning", t0,
          map_writer{2}
            .add("infra", std::string{"gcp/us-central1"})
            .add("hourly_price", 10.0)
            .bytes());
  log.up("a", t0 + hour / 2, 23.72, 2);
  log.add("a", "cluster.terminating", t0 + 2 * hour + hour / 2);
  log.add("a", "cluster.terminated", t0 + 2 * hour + hour / 2);
  auto rows = cost_report(log.events, t0 + 100 * hour);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].cluster == "a");
  CHECK(rows[0].infra == "gcp/us-central1/us-central1-a");
  CHECK(rows[0].instance_type == "a2-highgpu-8g");
  CHECK(rows[0].num_nodes == 2);
  CHECK(rows[0].hours == Approx(2.0));
  CHECK(rows[0].hourly_price == Approx(23.72));
  CHECK(rows[0].total == Approx(47.44));
  CHECK(rows[0].status == "TERMINATED");
  CHECK(rows[0].ended_at_ms == t0 + 2 * hour + hour / 2);
}

TEST_CASE("cost: stopped time is free, a cluster still UP is billed until "
          "now, preemption ends the bill") {
  log_builder log;
  log.up("s", t0, 2.0);
  log.add("s", "cluster.stopping", t0 + hour);
  log.add("s", "cluster.stopped", t0 + 2 * hour);
  log.add("s", "cluster.starting", t0 + 5 * hour);
  log.up("s", t0 + 6 * hour, 2.0);
  log.up("p", t0, 1.0);
  log.add("p", "cluster.preempted", t0 + 3 * hour);
  auto rows = cost_report(log.events, t0 + 7 * hour);
  REQUIRE(rows.size() == 2);
  // In order of first launch (in the log).
  CHECK(rows[0].cluster == "s");
  CHECK(rows[0].hours == Approx(3.0)); // 2 h, then 1 h until now
  CHECK(rows[0].total == Approx(6.0));
  CHECK(rows[0].status == "UP");
  CHECK(rows[0].ended_at_ms == 0);
  CHECK(rows[1].cluster == "p");
  CHECK(rows[1].hours == Approx(3.0));
  CHECK(rows[1].status == "INIT");
}

TEST_CASE("cost: a failed launch costs nothing; a name reused after down "
          "gives a row per incarnation") {
  log_builder log;
  log.add("f", "cluster.launch_requested", t0);
  log.add("f", "cluster.provisioning", t0);
  log.add("f", "cluster.provision_failed", t0);
  log.add("f", "cluster.launch_failed", t0);
  log.up("r", t0, 1.0);
  log.add("r", "cluster.terminated", t0 + hour);
  log.up("r", t0 + 2 * hour, 4.0, 1, "p4d.24xlarge");
  log.add("r", "cluster.terminated", t0 + 4 * hour);
  auto rows = cost_report(log.events, t0 + 10 * hour);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].total == Approx(1.0));
  CHECK(rows[1].instance_type == "p4d.24xlarge");
  CHECK(rows[1].total == Approx(8.0));
  auto j = cost_json(rows);
  CHECK(j["total"].get<double>() == Approx(9.0));
  CHECK(j["clusters"][1]["hours"].get<double>() == Approx(2.0));
  std::ostringstream out;
  print_cost(out, rows);
  CHECK(out.str().find("Total: $9.00") != std::string::npos);
  CHECK(out.str().find("p4d.24xlarge") != std::string::npos);
  std::ostringstream none;
  print_cost(none, {});
  CHECK(none.str() == "No cluster has been up yet.\n");
}
