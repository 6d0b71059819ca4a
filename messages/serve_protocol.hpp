#pragma once

// Bodies of the service verbs (`serve.up`, `serve.update`, `serve.status`,
// `serve.down`, `serve.logs`), listed with their fields in docs/PROTOCOL.md.
// A service is a task with a `service:` section run as replicas behind
// skyd's load balancer (docs/SERVICES.md).

#include <cstdint>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::protocol {

/// `serve.up` (a new service) and `serve.update` (a new version of one).
struct serve_up_request {
  /// -n NAME; empty = the task's name, else skyd picks one (`serve.up`
  /// only; `serve.update` needs it).
  std::string name;
  /// The task, with its `service:` section.
  task::task_spec task;
  /// `serve.update` only: "rolling" (default) or "blue_green".
  std::string mode;
};

/// A service name follows the cluster-name rules (its replicas' clusters
/// are "<name>-<id>"), at most 50 characters so that those fit in 63; the
/// error says "service name" and the fix.
result<void> validate_service_name(std::string_view name);

std::string encode(const serve_up_request& req);
result<serve_up_request> decode_serve_up_request(std::string_view body);

/// One row of the services table.
struct service_row {
  std::string name;
  /// The latest version (1 for a new service, +1 per update).
  uint64_t version = 1;
  /// REPLICA_INIT, READY, NO_REPLICA, FAILED, SHUTTING_DOWN.
  std::string status;
  /// Why it is FAILED, or what it rolled back from; empty otherwise.
  std::string reason;
  /// Unix ms.
  int64_t created_at_ms = 0;
  /// When a replica first became ready (UPTIME counts from here); 0 = never.
  int64_t ready_since_ms = 0;
  uint32_t ready_replicas = 0;
  /// Live replicas (failed ones kept for debugging not counted).
  uint32_t replicas = 0;
  /// "http://127.0.0.1:30001"; empty until the load balancer listens.
  std::string endpoint;
  /// The latest version's policies, one "name: value" line each (probe,
  /// autoscaling, spot, load balancing), for `serve up` and `-v`.
  std::vector<std::string> policy;
  /// Requests per second over the autoscaler's window.
  double qps = 0;
  /// "rolling" / "blue_green": how the latest update moves traffic.
  std::string update_mode;
  /// Versions whose ready replicas receive traffic.
  std::vector<uint64_t> routed_versions;

  MSGPACK_DEFINE_MAP(name, version, status, reason, created_at_ms,
                     ready_since_ms, ready_replicas, replicas, endpoint, policy,
                     qps, update_mode, routed_versions)
};

/// One row of the replicas table.
struct replica_row {
  std::string service;
  uint64_t id = 0;
  uint64_t version = 1;
  /// host:port the load balancer routes to; empty until known.
  std::string endpoint;
  /// When its launch started (Unix ms).
  int64_t launched_at_ms = 0;
  /// Where its cluster runs ("local", "aws/us-east-1/us-east-1a").
  std::string infra;
  /// "1x[CPU:1]", "1x[A100:1] spot".
  std::string resources;
  /// PENDING, PROVISIONING, STARTING, READY, NOT_READY, SHUTTING_DOWN,
  /// FAILED, FAILED_INITIAL_DELAY, FAILED_PROBING, FAILED_PROVISION,
  /// FAILED_CLEANUP, PREEMPTED.
  std::string status;
  /// The latest change's reason ("probe GET /health: 503").
  std::string reason;
  /// Its cluster (owned by the service).
  std::string cluster;
  bool spot = false;
  /// The port it serves on (SKYD_REPLICA_PORT).
  uint16_t port = 0;
  /// The last lines of its job's output, for failed replicas (`-v`).
  std::string log_tail;
  int64_t status_since_ms = 0;

  MSGPACK_DEFINE_MAP(service, id, version, endpoint, launched_at_ms, infra,
                     resources, status, reason, cluster, spot, port, log_tail,
                     status_since_ms)
};

/// `serve.status`: the named services, or all of them.
struct serve_status_request {
  std::vector<std::string> names;

  MSGPACK_DEFINE_MAP(names)
};

struct serve_status_reply {
  std::vector<service_row> services;
  /// Replicas of the listed services, by service then id.
  std::vector<replica_row> replicas;

  MSGPACK_DEFINE_MAP(services, replicas)
};

/// `serve.down`: the named services (or all), or one replica of a service.
struct serve_down_request {
  std::vector<std::string> names;
  bool all = false;
  /// Also drop a service that failed to come down (its leftovers are then
  /// the user's to clean up), as `sky serve down --purge`.
  bool purge = false;
  /// With one name: tear down only this replica (the service replaces it
  /// if it still wants as many). 0 = the whole service.
  uint64_t replica_id = 0;

  MSGPACK_DEFINE_MAP(names, all, purge, replica_id)
};

/// One result of `serve.down` per service.
struct serve_outcome {
  std::string service;
  bool ok = false;
  std::string message;

  MSGPACK_DEFINE_MAP(service, ok, message)
};

struct serve_down_reply {
  std::vector<serve_outcome> results;

  MSGPACK_DEFINE_MAP(results)
};

/// `serve.logs`: a replica's job output, or the load balancer's log.
struct serve_logs_request {
  std::string name;
  /// 0 with load_balancer unset: the first live replica.
  uint64_t replica_id = 0;
  bool load_balancer = false;
  bool follow = true;
  uint32_t window = 64;

  MSGPACK_DEFINE_MAP(name, replica_id, load_balancer, follow, window)
};

} // namespace sky::protocol
