// Service and replica snapshots survive a round trip field by field, and a
// damaged one is refused naming what is wrong.

#include <catch2/catch.hpp>

#include "messages/msgpack_util.hpp"
#include "messages/result.hpp"
#include "optimizer/serve/service_snapshot.hpp"

using namespace sky::optimizer;

namespace {

sky::task::task_spec service_task(int replicas, std::string path) {
  sky::task::task_spec t;
  t.name = "web";
  t.run = "python3 -m http.server $SKYD_REPLICA_PORT";
  sky::task::service_spec svc;
  svc.readiness_probe.path = std::move(path);
  svc.readiness_probe.headers = {{"Authorization", "Bearer x"}};
  svc.replica_policy.min_replicas = replicas;
  svc.port = 8080;
  t.service = svc;
  return t;
}

} // namespace

TEST_CASE("serve snapshot: a service round-trips with its versions and "
          "autoscaler") {
  service_snapshot s;
  s.name = "web";
  s.state.latest = 2;
  s.state.mode = update_mode::blue_green;
  s.state.versions = {{1, 2, true}, {2, 3, false}};
  s.state.launch_failures = 2;
  s.state.last_launch_failure_ms = 1234;
  s.tasks = {service_task(2, "/"), service_task(3, "/health")};
  s.scaler.target = 3;
  s.scaler.above_since_ms = 99;
  s.status = service_status::ready;
  s.reason = "rolled back";
  s.next_replica_id = 7;
  s.lb_port = 30001;
  s.created_at_ms = 10;
  s.ready_since_ms = 20;
  auto back = decode_service_snapshot(encode(s));
  REQUIRE(back);
  CHECK(back->name == "web");
  CHECK(back->state.latest == 2);
  CHECK(back->state.mode == update_mode::blue_green);
  CHECK(back->state.versions == s.state.versions);
  CHECK(back->state.launch_failures == 2);
  CHECK(back->state.last_launch_failure_ms == 1234);
  CHECK(back->tasks == s.tasks);
  CHECK(back->scaler == s.scaler);
  CHECK(back->status == service_status::ready);
  CHECK(back->reason == "rolled back");
  CHECK(back->next_replica_id == 7);
  CHECK(back->lb_port == 30001);
  CHECK(back->created_at_ms == 10);
  CHECK(back->ready_since_ms == 20);
  REQUIRE(task_of(*back, 2));
  CHECK(task_of(*back, 2)->service->readiness_probe.path == "/health");
  CHECK_FALSE(task_of(*back, 3));
}

TEST_CASE("serve snapshot: a replica round-trips") {
  replica_snapshot s;
  s.service = "web";
  s.port = 41234;
  auto& r = s.r;
  r.id = 4;
  r.version = 2;
  r.status = replica_status::failed_initial_delay;
  r.spot = true;
  r.cluster = replica_cluster_name("web", 4);
  r.endpoint = "127.0.0.1:41234";
  r.infra = "aws/us-east-1/us-east-1a";
  r.started_at_ms = 1;
  r.first_ready_ms = 2;
  r.failing_since_ms = 3;
  r.status_since_ms = 4;
  r.cause = teardown_cause::failure;
  r.cluster_left = true;
  r.reason = "not ready within the initial delay";
  auto back = decode_replica_snapshot(encode(s));
  REQUIRE(back);
  CHECK(back->service == "web");
  CHECK(back->port == 41234);
  CHECK(back->r == r);
  CHECK(r.cluster == "web-4");
  CHECK(replica_entity("web", 4) == "replica.web.4");
  CHECK(service_entity("web") == "service.web");
}

TEST_CASE("serve snapshot: damaged snapshots are refused with the field") {
  CHECK_FALSE(decode_service_snapshot("not msgpack"));
  replica_snapshot s;
  s.service = "web";
  auto bytes = encode(s);
  // Rewrite the stored status to a name no version of skyd wrote.
  auto at = bytes.find("PENDING");
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 7, "PENDINX");
  auto bad = decode_replica_snapshot(bytes);
  REQUIRE_FALSE(bad);
  CHECK(sky::describe(bad.error()).message.find("unknown status 'PENDINX'")
        != std::string::npos);
}
