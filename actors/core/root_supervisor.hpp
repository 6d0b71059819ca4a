#pragma once

// The root of skyd's actor tree. It starts the event log (detached: RocksDB
// blocks), the worker pool, the planner, the cluster registry (which
// restores the clusters from their snapshots), the dispatcher and the
// gateway, records `daemon.started` once the sockets serve, pings the systemd
// watchdog, and runs the orderly shutdown: stop taking requests, record
// `daemon.stopped`, drain the log, stop the children. A child that dies
// unexpectedly takes the daemon down with a failure status, so that systemd
// restarts it from the durable log.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster/cluster_deps.hpp"
#include "actors/wire/dispatcher.hpp"
#include "actors/core/event_log_actor.hpp"
#include "actors/wire/gateway.hpp"
#include "actors/wire/infra_check.hpp"
#include "actors/core/planner.hpp"
#include "actors/service/service_deps.hpp"
#include "optimizer/managed_job/managed_job_recovery.hpp"
#include "providers/sim/sim_world.hpp"

namespace sky::actors {

struct root_settings {
  gateway_settings gateway;
  daemon_identity identity;
  /// Catalogs and enabled infra for the planner.
  planner_settings planner;
  provider_set_ptr providers;
  /// The simulated clouds (null when sim.clouds is empty): their clock is
  /// watched for preemptions and `skyctl sim` verbs act on them.
  std::shared_ptr<providers::sim_world> sim;
  /// What `skyctl check` reports.
  infra_settings infra;
  /// Threads for blocking work (provider calls, node I/O).
  size_t io_workers = 8;
  /// Managed jobs launching at once (jobs.max_concurrent_launches).
  uint32_t max_concurrent_launches = 16;
  /// Which old events the event log removes (events.keep_*).
  storage::retention_policy event_retention;
  /// Launch rounds and waits of managed jobs without capacity (jobs.*).
  optimizer::managed_job_limits managed_job_limits;
  /// Services (serve.*): timings, the load balancer's address, the port
  /// ranges ("first-last") and the skyd-lb executable.
  serve_settings serve;
  port_range lb_ports{30001, 30999};
  port_range replica_ports{20001, 24999};
  std::filesystem::path lb_binary;
  /// Called once: "" when skyd serves requests, else why it cannot.
  std::function<void(const std::string&)> on_ready;
  /// Called when shutdown begins.
  std::function<void()> on_stopping;
  /// Called every `watchdog_interval` while the actor system is healthy.
  std::function<void()> on_watchdog;
  std::optional<caf::timespan> watchdog_interval;
  /// Set to non-zero when skyd stops because of a failure.
  std::shared_ptr<std::atomic<int>> exit_code;
};

struct root_state {
  static inline const char* name = "root_supervisor";

  root_settings settings;
  event_log_actor log;
  caf::actor pool;
  caf::actor planner;
  caf::actor registry;
  caf::actor managed_jobs;
  caf::actor services;
  caf::actor lb_link;
  std::shared_ptr<http_prober> prober;
  caf::actor dispatcher;
  caf::actor gateway;
  caf::actor sim_watch;
  bool stopping = false;
};

caf::behavior root_supervisor(caf::stateful_actor<root_state>* self,
                              root_settings settings,
                              std::shared_ptr<storage::event_log> storage);

} // namespace sky::actors
