#pragma once

// A cluster registry over fake providers (a fixed-capacity "local" and an
// "aws" with two regions) on CAF's deterministic scheduler, with an
// in-memory event log: the base of the cluster and managed job actor tests.

#include <catch2/catch.hpp>

#include <variant>

#include "actors/cluster/cluster_registry.hpp"
#include "actors/core/worker_pool.hpp"
#include "deterministic.hpp"
#include "fake_provider.hpp"
#include "messages/cluster_snapshot.hpp"
#include "messages/task/parse_task.hpp"
#include "storage/memory_event_log.hpp"

namespace sky::testing {

using namespace std::chrono_literals;
using namespace sky::actors;

// Two regions of a simulated aws, m5.2xlarge cheaper in us-east-1.
constexpr const char* aws_csv
  = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
    "Price,SpotPrice,Region,AvailabilityZone,Arch\n"
    "m5.2xlarge,,,8,32,,0.384,0.1,us-east-1,us-east-1a,x86_64\n"
    "m5.2xlarge,,,8,32,,0.400,0.1,us-west-2,us-west-2a,x86_64\n";

inline std::shared_ptr<const optimizer::catalog> test_catalog() {
  optimizer::catalog_builder b;
  b.add_vms_csv("aws", aws_csv, "aws/vms.csv");
  return std::make_shared<const optimizer::catalog>(std::move(b).finish().cat);
}

inline task::task_spec task_of(const std::string& yaml) {
  auto p = task::parse_task_yaml(yaml, "t.yaml");
  REQUIRE(p);
  return p->tasks.at(0);
}

struct cluster_fixture {
  deterministic_system ds;
  std::shared_ptr<storage::memory_event_log> storage
    = std::make_shared<storage::memory_event_log>();
  std::shared_ptr<fake_provider> local
    = std::make_shared<fake_provider>("local", true);
  std::shared_ptr<fake_provider> aws = std::make_shared<fake_provider>("aws");
  std::shared_ptr<int64_t> now = std::make_shared<int64_t>(1'800'000'000'000);
  event_log_actor log = ds.sys.spawn(event_log, storage);
  caf::actor pool = ds.sys.spawn(worker_pool, size_t{0});
  caf::actor planner_actor;
  caf::actor registry;
  caf::scoped_actor client{ds.sys};
  std::vector<caf::actor> extra;

  cluster_fixture() {
    planner_settings ps;
    ps.catalog = test_catalog();
    ps.clouds = {"aws"};
    ps.fixed = {local};
    planner_actor = ds.sys.spawn(planner, ps);
    registry = make_registry();
  }

  ~cluster_fixture() {
    for (auto& a : extra)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    for (auto& a : {registry, planner_actor, pool})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(log, caf::exit_reason::user_shutdown);
    ds.run();
  }

  caf::actor make_registry() {
    cluster_deps deps;
    deps.log = log;
    deps.planner = planner_actor;
    deps.pool = pool;
    auto set = std::make_shared<provider_set>();
    set->by_name["local"] = local;
    set->by_name["aws"] = aws;
    deps.providers = set;
    auto clock = now;
    deps.now_ms = [clock] { return *clock; };
    auto r = ds.sys.spawn(cluster_registry, deps);
    client->send(r, load_atom_v);
    ds.run();
    client->receive([](bool) {});
    return r;
  }

  // skyd restarts: the old registry and its clusters go, a new one loads
  // the snapshots.
  void restart() {
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    ds.run();
    registry = make_registry();
    ds.run();
  }

  // Restarts over a cluster snapshot as an earlier skyd left it (recorded
  // with its launch request).
  void restart_with(const cluster_snapshot& snap) {
    event_draft d;
    d.entity = cluster_entity(snap.name);
    d.kind = "cluster.launch_requested";
    d.snapshot = snapshot_op::put;
    d.snapshot_value = encode(snap);
    REQUIRE(storage->append({d}));
    restart();
  }

  void advance(caf::timespan t) {
    *now += std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
    ds.advance(t);
  }

  // Launches and returns the job id (or the error text).
  std::variant<uint64_t, std::string>
  launch(const std::string& name, const std::string& yaml,
         std::optional<autostop_info> autostop = {}, std::string owner = {}) {
    launch_order order;
    order.task = task_of(yaml);
    order.autostop = autostop;
    order.owner = std::move(owner);
    client->send(registry, launch_atom_v, name, order);
    ds.run();
    std::variant<uint64_t, std::string> out = std::string{"no reply"};
    client->receive([&](uint64_t id) { out = id; },
                    [&](caf::error& err) { out = describe(err).message; },
                    caf::after(0s) >> [] {});
    return out;
  }

  template <class T, class... Ts>
  T ask(Ts... xs) {
    client->send(registry, xs...);
    ds.run();
    T out{};
    client->receive([&](T& v) { out = std::move(v); },
                    [&](caf::error& err) {
                      FAIL("request failed: " << describe(err).message);
                    });
    return out;
  }

  // The error a request gets ("" when it succeeds).
  template <class... Ts>
  std::string refusal(Ts... xs) {
    client->send(registry, xs...);
    ds.run();
    std::string out = "no reply";
    client->receive([&](uint64_t) { out.clear(); },
                    [&](std::string&) { out.clear(); },
                    [&](protocol::outcomes_reply&) { out.clear(); },
                    [&](caf::error& err) { out = describe(err).message; },
                    caf::after(0s) >> [] {});
    return out;
  }

  cluster_summary status(const std::string& name) {
    auto reply = ask<protocol::status_reply>(
      status_atom_v, protocol::clusters_request{{name}, false});
    REQUIRE(reply.clusters.size() == 1);
    return reply.clusters[0];
  }

  std::vector<job_summary> queue(const std::string& name) {
    return ask<protocol::queue_reply>(queue_atom_v,
                                      protocol::queue_request{{name}})
      .jobs;
  }

  std::vector<std::string> kinds(const std::string& entity_prefix) {
    std::vector<std::string> out;
    auto events = storage->read(1, 100000);
    REQUIRE(events);
    for (const auto& ev : *events)
      if (topic_matches(ev.entity, entity_prefix))
        out.push_back(ev.kind);
    return out;
  }
};

} // namespace sky::testing
