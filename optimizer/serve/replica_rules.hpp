#pragma once

// The life of one replica as a pure function: (replica, event, now) ->
// (replica, action). The replica actor records the new replica, then carries
// the action out (launch, tear down, drop the record), so that a skyd
// restarted from the snapshot resumes with the same replica.
//
// Where skyd differs from SkyServe (shared/design/SERVICES.md 2.1, 7):
// - a READY replica whose probe fails leaves the rotation at once
//   (NOT_READY) instead of being routed to until its failure window ends;
// - the initial delay counts from the moment the replica's cluster is up
//   (STARTING), not from its first failed probe, so a replica that hangs
//   without answering fails on time;
// - any 2xx answers a probe (SkyServe needs exactly 200);
// - a failure shows its own status at once while the cluster goes in the
//   background, and the record stays for `serve status -v`; a replica
//   removed on purpose (scale-down, update, preemption) leaves no record.

#include <cstdint>
#include <string>
#include <variant>

#include "optimizer/serve/service_model.hpp"

namespace sky::optimizer {

/// The probe settings of the replica's own version (an update does not
/// change the probe of replicas already running: SkyPilot issue 3939).
struct probe_settings {
  /// `readiness_probe.initial_delay_seconds`, in ms.
  int64_t initial_delay_ms = 1'200'000;
  /// `readiness_probe.consecutive_failure_threshold_timeout`, in ms: how
  /// long a replica that was ready may fail probes before it is replaced.
  int64_t failure_window_ms = 180'000;
};

namespace replica_event {

/// The replica actor starts launching its cluster.
struct launch_started {};
/// The cluster is up and the replica's job was submitted on it.
struct launched {
  std::string endpoint;
  std::string infra;
};
/// The cluster could not be launched anywhere (failover exhausted).
struct launch_failed {
  std::string reason;
};
/// A probe answered with `http_status` (any 2xx passes).
struct probe_answered {
  int http_status = 0;
  /// What was asked ("GET /health"), for the reason text.
  std::string probe;
};
/// A probe got no HTTP answer (refused, timed out, reset).
struct probe_unanswered {
  std::string why;
};
/// The replica's job ended (it crashed, or its app exited).
struct job_ended {
  std::string job_status;
  std::string reason;
};
/// A spot node of the replica's cluster was preempted.
struct preempted {
  std::string reason;
};
/// The service wants the replica gone (scale-down, update, user).
struct teardown_requested {
  teardown_cause cause = teardown_cause::scale_down;
  std::string reason;
};
/// The replica's cluster is gone.
struct torn_down {};
/// Tearing the cluster down failed for good.
struct teardown_failed {
  std::string reason;
};

} // namespace replica_event

using replica_event_t
  = std::variant<replica_event::launch_started, replica_event::launched,
                 replica_event::launch_failed, replica_event::probe_answered,
                 replica_event::probe_unanswered, replica_event::job_ended,
                 replica_event::preempted, replica_event::teardown_requested,
                 replica_event::torn_down, replica_event::teardown_failed>;

enum class replica_action : uint8_t {
  /// Nothing to carry out (the new state may still change the routing).
  none,
  /// Tear the replica's cluster down (after the drain when `drain` is set).
  tear_down,
  /// The replica is gone and leaves no record: delete it.
  remove_record,
};

struct replica_decision {
  replica next;
  replica_action action = replica_action::none;
  /// Wait the service's drain period before tearing down, so that requests
  /// in flight finish (scale-down and updates; never after a failure).
  bool drain = false;
  /// Non-empty when the event changed nothing, and why (for the log).
  std::string ignored;
};

/// The rules above, for one event at wall time `now_ms`.
replica_decision decide_replica(const replica& r, const replica_event_t& ev,
                                const probe_settings& probe, int64_t now_ms);

} // namespace sky::optimizer
