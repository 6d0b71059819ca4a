#pragma once

// What cluster and job actors use: the event log, the planner, the worker
// pool for blocking calls, the providers, and the wall clock (a function so
// that deterministic tests can drive it with the actor clock).

#include <chrono>
#include <cstdint>
#include <functional>

#include <caf/actor.hpp>

#include "actors/core/event_log_actor.hpp"
#include "actors/core/provider_set.hpp"

namespace sky::actors {

struct cluster_deps {
  event_log_actor log;
  caf::actor planner;
  /// worker_pool for provider calls and node I/O.
  caf::actor pool;
  provider_set_ptr providers;
  /// Unix milliseconds.
  std::function<int64_t()> now_ms;
  /// How often a running job's processes are polled at first; the interval
  /// doubles while nothing changes, up to `job_poll_max`.
  caf::timespan job_poll_min = std::chrono::milliseconds(50);
  caf::timespan job_poll_max = std::chrono::seconds(1);
  /// The cap instead when every node channel of the job pushes its
  /// processes' ends (node_channel::watch_exit): polling is then only the
  /// fallback for a lost notice (10,000 jobs polled every second would
  /// keep skyd busy).
  caf::timespan job_poll_max_watched = std::chrono::seconds(30);
  /// How long to wait for instances to come up.
  std::chrono::milliseconds provision_timeout = std::chrono::minutes(20);
};

/// The system clock in Unix milliseconds.
int64_t system_now_ms();

} // namespace sky::actors
