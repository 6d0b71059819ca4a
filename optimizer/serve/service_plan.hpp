#pragma once

// What a service does next, as one pure function of its versions, its
// replicas and the autoscaler's target (docs/SERVICES.md "Updates",
// "Autoscaling"): which replicas to launch (version, spot or on-demand),
// which to remove and why, which versions receive traffic, and whether the
// service rolls back or freezes. The service actor records the plan's
// consequences, then carries them out; replicas move through
// replica_rules.hpp.
//
// Beyond SkyServe (shared/design/SERVICES.md 5, 7):
// - when no replica of the latest version was ever ready and one has
//   failed for good, the service rolls back to the newest version that was
//   ready, instead of freezing (SkyPilot issue 4349); it freezes (status
//   FAILED) only when no such version exists;
// - a failed launch is retried with exponential backoff, and the failed
//   records kept for `serve status` are bounded (SkyPilot issue 3962);
// - the replicas never exceed what the latest policy allows plus what an
//   update keeps serving (SkyPilot issue 3255).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/serve/autoscaler.hpp"
#include "optimizer/serve/service_model.hpp"

namespace sky::optimizer {

/// One version of the service's spec, as the planner needs it.
struct service_version {
  uint64_t version = 1;
  /// `replica_policy.min_replicas` of this version (blue-green switches
  /// once the new version has this many ready).
  int min_replicas = 1;
  /// Some replica of this version passed a probe once.
  bool ever_ready = false;

  friend bool operator==(const service_version&, const service_version&)
    = default;
};

struct service_state {
  /// The version new replicas are launched with.
  uint64_t latest = 1;
  update_mode mode = update_mode::rolling;
  /// Every version that may still have replicas, the latest included.
  std::vector<service_version> versions;
  /// `serve down` in progress: every replica goes, nothing is launched.
  bool shutting_down = false;
  /// Failed launches of the latest version since its last successful one,
  /// and when the last one failed: the backoff of the next launch.
  uint32_t launch_failures = 0;
  int64_t last_launch_failure_ms = 0;
};

/// Timing and bounds of the planner (config keys serve.*).
struct plan_limits {
  /// The first retry after a failed launch waits this long; each further
  /// failure doubles it, up to `provision_retry_max_ms`.
  int64_t provision_retry_ms = 10'000;
  int64_t provision_retry_max_ms = 300'000;
  /// Failed replicas kept in `serve status` per service; older ones go.
  size_t failed_kept = 10;
};

struct replica_launch {
  uint64_t version = 1;
  bool spot = false;
  friend bool operator==(const replica_launch&, const replica_launch&)
    = default;
};

struct replica_removal {
  uint64_t id = 0;
  teardown_cause cause = teardown_cause::scale_down;
  friend bool operator==(const replica_removal&, const replica_removal&)
    = default;
};

struct service_plan {
  std::vector<replica_launch> launches;
  /// When launches are held back by the backoff, the instant they may go.
  std::optional<int64_t> launch_not_before_ms;
  std::vector<replica_removal> removals;
  /// Failed replicas whose records are dropped (older than the kept ones).
  std::vector<uint64_t> forget;
  /// Versions whose READY replicas receive traffic, ascending.
  std::vector<uint64_t> routed_versions;
  /// Set when the latest version failed for good and this older one was
  /// ready: the service goes back to it (an event says so).
  std::optional<uint64_t> roll_back_to;
  /// The latest version failed for good and none to roll back to: no
  /// launches, no removals; the user must update or tear down.
  bool frozen = false;
  std::string why;
  service_status status = service_status::replica_init;
};

/// The replica failed in a way that retrying the same spec will not fix:
/// never ready and it failed its initial delay or its job ended.
bool failed_for_good(const replica& r);

/// The whole plan at `now_ms`. `policy` and `scaler` are the latest
/// version's.
service_plan plan_service(const service_state& s,
                          const std::vector<replica>& replicas,
                          const autoscale_policy& policy,
                          const autoscaler_state& scaler,
                          const plan_limits& limits, int64_t now_ms);

/// The endpoints the load balancer routes to: READY replicas of the routed
/// versions, in id order.
std::vector<std::string> routed_endpoints(const std::vector<replica>& replicas,
                                          const service_plan& plan);

} // namespace sky::optimizer
