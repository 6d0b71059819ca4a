#pragma once

// What the service actors share (docs/SERVICES.md "How it is built"): the
// event log, the cluster registry that launches and tears down replica
// clusters, the load balancer link, the prober, the port pools, the clock
// and the serve.* settings.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "actors/core/event_log_actor.hpp"
#include "actors/service/port_pool.hpp"
#include "messages/serve_protocol.hpp"
#include "optimizer/serve/service_plan.hpp"
#include "optimizer/serve/service_snapshot.hpp"

namespace sky::actors {

class http_prober;

/// Config keys serve.* (docs/CONFIG.md).
struct serve_settings {
  /// How often each replica is probed (serve.probe_interval_seconds).
  std::chrono::milliseconds probe_interval{1000};
  /// How often the autoscaler and planner run without a change
  /// (serve.decision_interval_seconds); a replica's change replans at once.
  std::chrono::milliseconds decision_interval{1000};
  /// A replica leaving on purpose stops receiving traffic, then is torn
  /// down after this (serve.drain_seconds), so requests in flight finish.
  std::chrono::milliseconds drain{5000};
  /// The autoscaler's request-rate window (serve.qps_window_seconds).
  int64_t qps_window_ms = 60'000;
  /// Launch backoff and kept failures (serve.provision_retry_seconds).
  optimizer::plan_limits limits;
  /// Where the load balancer listens (serve.lb_bind_address).
  std::string lb_bind_address = "127.0.0.1";
  /// How long a request waits for a ready replica before a 503.
  uint64_t lb_queue_timeout_ms = 30'000;
  /// Replica teardowns tried before the replica is FAILED_CLEANUP.
  uint32_t teardown_attempts = 3;
  std::chrono::milliseconds teardown_retry{2000};
};

struct service_deps {
  event_log_actor log;
  /// The cluster registry: replica clusters are launched and torn down
  /// through it, owned by the service.
  caf::actor clusters;
  /// The load balancer link (lb_link); may be null in tests without one.
  caf::actor lb;
  std::shared_ptr<http_prober> prober;
  std::shared_ptr<port_pool> lb_ports;
  std::shared_ptr<port_pool> replica_ports;
  /// Unix milliseconds.
  std::function<int64_t()> now_ms;
  serve_settings settings;
};

/// The owner of a service's replica clusters: "service.<name>".
std::string service_owner(const std::string& service);

/// The event (entity service.<name>) that records `s` as the service's
/// snapshot; only what a follower needs, never the tasks (secrets).
event_draft service_event(const optimizer::service_snapshot& s,
                          std::string kind);
/// The event (entity replica.<service>.<id>) that records `r` (op put) or
/// drops its snapshot (op erase).
event_draft replica_event(const optimizer::replica_snapshot& r,
                          std::string kind, snapshot_op op = snapshot_op::put);
/// "<prefix>.<status in lower case>": "replica.ready", "service.failed".
std::string status_event_kind(std::string_view prefix, std::string_view status);

/// The service's row for `serve status` from its snapshot and replicas.
protocol::service_row
service_row_of(const optimizer::service_snapshot& s,
               const std::vector<optimizer::replica_snapshot>& replicas,
               double qps, const std::string& lb_host,
               std::vector<uint64_t> routed_versions);

/// A replica's row for `serve status`.
protocol::replica_row replica_row_of(const optimizer::replica_snapshot& r);

/// The policy lines of a service version ("readiness_probe: GET /health,
/// initial delay 1200 s", "replicas: 2 (fixed)", ...).
std::vector<std::string> policy_lines(const task::task_spec& task);

} // namespace sky::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::serve_up_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::service_row)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::serve_status_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::serve_status_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::serve_down_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::serve_down_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::serve_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::optimizer::replica_snapshot)
