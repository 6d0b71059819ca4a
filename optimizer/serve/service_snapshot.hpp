#pragma once

// The snapshots of a service and of its replicas, persisted under
// `service.<name>` and `replica.<name>.<id>` in the same batch as each of
// their events, so that a restarted skyd resumes every service with the
// replicas it had: none launched twice (the next id is in the service's
// snapshot before a replica exists), none orphaned (a replica's cluster is
// recorded before it is launched). Enums are stored by name, so a
// reordering never changes a stored service.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"
#include "optimizer/serve/autoscaler.hpp"
#include "optimizer/serve/service_plan.hpp"

namespace sky::optimizer {

struct service_snapshot {
  std::string name;
  /// The planner's view: versions, latest, mode, shutdown, launch backoff.
  service_state state;
  /// The task of each version, parallel to state.versions (with secrets:
  /// snapshots stay under SKYD_HOME, never in events or replies).
  std::vector<task::task_spec> tasks;
  autoscaler_state scaler;
  service_status status = service_status::replica_init;
  /// Why it is FAILED or rolled back, for `serve status`.
  std::string reason;
  /// Replica ids are never reused, across restarts too.
  uint64_t next_replica_id = 1;
  /// The load balancer's port of the service.
  uint16_t lb_port = 0;
  int64_t created_at_ms = 0;
  /// When a replica first became ready (UPTIME counts from here); 0 = never.
  int64_t ready_since_ms = 0;
};

struct replica_snapshot {
  std::string service;
  replica r;
  /// The port the replica serves on (SKYD_REPLICA_PORT).
  uint16_t port = 0;
  /// What its cluster runs on ("1x(local)"), once up.
  std::string resources;
  /// The last lines of its job's output when it failed (`serve status -v`).
  std::string log_tail;
  /// When its launch began (Unix ms).
  int64_t launched_at_ms = 0;
};

std::string encode(const service_snapshot& s);
result<service_snapshot> decode_service_snapshot(std::string_view bytes);
std::string encode(const replica_snapshot& s);
result<replica_snapshot> decode_replica_snapshot(std::string_view bytes);

/// "service.<name>".
std::string service_entity(const std::string& name);
/// "replica.<service>.<id>".
std::string replica_entity(const std::string& service, uint64_t id);
/// The cluster of a replica: "<service>-<id>".
std::string replica_cluster_name(const std::string& service, uint64_t id);

/// The task of `version`, or nullptr.
const task::task_spec* task_of(const service_snapshot& s, uint64_t version);

} // namespace sky::optimizer
