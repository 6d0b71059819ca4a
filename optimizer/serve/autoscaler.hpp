#pragma once

// How many replicas a service wants, as pure functions of the request rate
// and the clock (docs/SERVICES.md "Autoscaling"):
// - request_rate: requests counted per second over a sliding window (the
//   load balancer reports counts as they happen, not every 20 s);
// - autoscale: the target with hysteresis. A target is raised once the
//   wanted count stayed above it for `upscale_delay`, lowered once it stayed
//   below for `downscale_delay`, and scale-from-zero is immediate. SkyServe
//   counts 20 s ticks and resets on one opposite tick; here the delays are
//   measured in time, so a decision interval of any length gives the same
//   behaviour;
// - wanted_by_kind: the split between spot and on-demand replicas
//   (`base_ondemand_fallback_replicas`, `dynamic_ondemand_fallback`);
// - pick_scale_down: which replicas go first.

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "messages/task/task_spec.hpp"
#include "optimizer/serve/service_model.hpp"

namespace sky::optimizer {

/// Requests per second over the last `window_ms` (SkyServe: 60 s).
class request_rate {
public:
  explicit request_rate(int64_t window_ms = 60'000) : window_ms_(window_ms) {}

  /// `count` requests arrived at `at_ms`. Reports may come out of order
  /// within the window; older ones are dropped.
  void add(int64_t at_ms, uint64_t count);
  /// Requests per second at `now_ms`: the count inside the window divided
  /// by the window. Forgets what fell out of it.
  double qps(int64_t now_ms);
  int64_t window_ms() const { return window_ms_; }

private:
  void expire(int64_t now_ms);
  int64_t window_ms_;
  /// (second, requests in it), oldest first.
  std::deque<std::pair<int64_t, uint64_t>> seconds_;
};

/// The service's `replica_policy`, in the units the functions use.
struct autoscale_policy {
  int min_replicas = 1;
  int max_replicas = 1;
  std::optional<double> target_qps_per_replica;
  int64_t upscale_delay_ms = 300'000;
  int64_t downscale_delay_ms = 1'200'000;
  int num_overprovision = 0;
  /// The task asks for spot capacity.
  bool spot = false;
  int base_ondemand = 0;
  bool dynamic_ondemand_fallback = false;
};

autoscale_policy policy_of(const task::replica_policy_spec& spec, bool spot);

/// The autoscaler's memory between decisions (persisted with the service,
/// so a restart neither forgets nor restarts a delay).
struct autoscaler_state {
  /// target_num_replicas, before overprovisioning.
  int target = 0;
  /// Since when the wanted count was continuously above / below the
  /// target; empty while it is not.
  std::optional<int64_t> above_since_ms;
  std::optional<int64_t> below_since_ms;

  friend bool operator==(const autoscaler_state&, const autoscaler_state&)
    = default;
};

/// The state of a new service (or of a new version: no hysteresis then):
/// the target is the policy's wanted count at `qps`.
autoscaler_state initial_autoscaler(const autoscale_policy& p, double qps);

/// ceil(qps / target_qps_per_replica) clipped to [min, max]; min_replicas
/// without a QPS target.
int raw_target(const autoscale_policy& p, double qps);

/// One decision at `now_ms`.
autoscaler_state autoscale(const autoscale_policy& p, const autoscaler_state& s,
                           double qps, int64_t now_ms);

/// The target plus overprovisioning: how many live replicas the latest
/// version should have.
inline int final_target(const autoscale_policy& p, const autoscaler_state& s) {
  return s.target + p.num_overprovision;
}

struct replica_counts {
  int spot = 0;
  int on_demand = 0;
  friend bool operator==(const replica_counts&, const replica_counts&)
    = default;
};

/// How many spot and on-demand replicas to keep, given how many spot ones
/// are READY: `base_ondemand` on-demand always, and with the dynamic
/// fallback one more on-demand for each spot replica that is not ready.
/// On-demand never covers overprovisioning (SkyServe's rule).
replica_counts wanted_by_kind(const autoscale_policy& p,
                              const autoscaler_state& s, int ready_spot);

/// The `n` replicas to remove from `candidates` (live ones): PENDING
/// first, then PROVISIONING, STARTING, NOT_READY, READY; within a status
/// the older version, then the newest replica (highest id).
std::vector<uint64_t> pick_scale_down(std::vector<replica> candidates,
                                      size_t n);

} // namespace sky::optimizer
