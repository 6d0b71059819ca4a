#pragma once

// A service and its replicas as the service supervisor sees them
// (docs/SERVICES.md): the states, the per-replica facts the rules read, and
// the names users see. Pure data: the rules that move a replica live in
// replica_rules.hpp, the autoscaler in autoscaler.hpp.
//
// SkyServe derives a replica's status from nine flags each time it is read
// (shared/design/SERVICES.md 2.1); here the status is stored and changed
// only by decide_replica, so a snapshot says exactly what the user saw.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sky::optimizer {

/// SkyServe's replica statuses, in its scale-down order for the live ones.
enum class replica_status : uint8_t {
  /// Wanted, its cluster launch not started yet (backoff, or a slot).
  pending,
  /// Its cluster is being launched (failover included).
  provisioning,
  /// Its cluster is up and its job runs; no probe has passed yet.
  starting,
  /// The latest probe passed: the load balancer routes to it.
  ready,
  /// Was ready; its latest probe failed: out of rotation until one passes.
  not_ready,
  /// Being torn down (scale-down, update, `serve down`, or after a failure).
  shutting_down,
  /// Its job ended (FAILED, FAILED_SETUP, or exited while serving).
  failed,
  /// Never passed a probe within `initial_delay_seconds` of starting.
  failed_initial_delay,
  /// Was ready, then failed probes for the whole failure window.
  failed_probing,
  /// Its cluster could not be launched anywhere.
  failed_provision,
  /// Its cluster could not be torn down: resources may be left behind.
  failed_cleanup,
  /// A spot node of it was preempted.
  preempted,
};

/// "PENDING", "FAILED_INITIAL_DELAY", ... (SkyServe's spelling).
std::string_view to_string(replica_status s);
/// Inverse of to_string; nullopt for an unknown name.
std::optional<replica_status> parse_replica_status(std::string_view s);
/// The FAILED_* statuses: a failure, kept in `serve status` for debugging.
bool is_failed(replica_status s);
/// Failed, shutting down or preempted: no longer counts towards the target.
bool is_terminal(replica_status s);
/// Order in which live replicas are removed first when scaling down:
/// PENDING < PROVISIONING < STARTING < NOT_READY < READY (SkyServe's).
int scale_down_rank(replica_status s);

/// A service's status, from its replicas (service_status_of).
enum class service_status : uint8_t {
  /// No replica has been ready yet, some are on their way.
  replica_init,
  /// At least one replica is READY.
  ready,
  /// No replica is ready (none wanted, or all lost after being ready).
  no_replica,
  /// The replicas of the latest version failed for good and no version
  /// can serve: the user must update or tear down.
  failed,
  /// `serve down` in progress.
  shutting_down,
};

/// "REPLICA_INIT", "READY", "NO_REPLICA", "FAILED", "SHUTTING_DOWN".
std::string_view to_string(service_status s);
std::optional<service_status> parse_service_status(std::string_view s);

/// How `serve update` moves traffic to a new version (SERVICES.md 5).
enum class update_mode : uint8_t { rolling, blue_green };
std::string_view to_string(update_mode m);
/// "rolling" or "blue_green" (case-insensitive); nullopt otherwise.
std::optional<update_mode> parse_update_mode(std::string_view s);

/// Why a replica is being torn down: decides whether its record stays
/// (failures stay for debugging, SkyServe's rule) and what the event says.
enum class teardown_cause : uint8_t {
  none,
  /// The autoscaler needs fewer replicas.
  scale_down,
  /// An update replaced its version.
  outdated,
  /// `serve down --replica-id`, or the whole service going down.
  user,
  /// It failed (the status says how).
  failure,
  /// A node of it was preempted.
  preemption,
};
std::string_view to_string(teardown_cause c);
std::optional<teardown_cause> parse_teardown_cause(std::string_view s);

/// Everything the rules read about one replica.
struct replica {
  /// Unique within the service, never reused (across restarts too).
  uint64_t id = 0;
  /// The service version it runs.
  uint64_t version = 1;
  replica_status status = replica_status::pending;
  /// Launched on spot capacity.
  bool spot = false;
  /// Its cluster's name (owned by the service).
  std::string cluster;
  /// host:port the load balancer routes to, once it is known.
  std::string endpoint;
  /// Where its cluster runs ("aws/us-east-1/us-east-1a"), once up.
  std::string infra;
  /// When it entered STARTING (its initial delay counts from here).
  int64_t started_at_ms = 0;
  /// When it first passed a probe; 0 = never.
  int64_t first_ready_ms = 0;
  /// The first failed probe since the last passing one; 0 = none.
  int64_t failing_since_ms = 0;
  /// When its current status began (for `serve status` and drains).
  int64_t status_since_ms = 0;
  /// Why it is being torn down, once it is.
  teardown_cause cause = teardown_cause::none;
  /// Its cluster still exists and must be torn down. A failed replica
  /// shows its failure status at once while its cluster goes in the
  /// background; a scaled-down one shows SHUTTING_DOWN.
  bool cluster_left = false;
  /// The user-facing reason of its last change ("probe GET /health: 503").
  std::string reason;

  friend bool operator==(const replica&, const replica&) = default;
};

/// Counts towards the target: not terminal.
inline bool is_live(const replica& r) {
  return !is_terminal(r.status);
}

/// Ready replicas receive traffic; nothing else does.
inline bool routable(const replica& r) {
  return r.status == replica_status::ready;
}

} // namespace sky::optimizer
