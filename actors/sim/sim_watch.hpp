#pragma once

// Drives the simulated clouds' clock-based events in a running skyd. The
// sim world decides preemptions and the scripted ends of virtual processes
// lazily (whenever it is asked); this actor asks at the right time: it
// calls check_preemptions on the worker pool (a preemption kills a real
// node's processes: blocking), then sleeps on the actor clock until the
// next scheduled preemption or watched process end (next_due_at), or at
// most `max_interval`, so that instances created meanwhile are seen too.
// The preemptions reach the clusters through the providers' event sinks,
// the process ends their job actors through their exit watches.
//
//   (tick_atom)   from itself

#include <memory>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "providers/sim/sim_world.hpp"

namespace sky::actors {

struct sim_watch_state {
  static inline const char* name = "sim_watch";
  std::shared_ptr<providers::sim_world> world;
  caf::actor pool;
  caf::timespan max_interval{};
  /// A check is running on the pool (ticks do not pile up).
  bool busy = false;
};

caf::behavior sim_watch(caf::stateful_actor<sim_watch_state>* self,
                        std::shared_ptr<providers::sim_world> world,
                        caf::actor pool, caf::timespan max_interval);

/// Pure: how long to sleep after a check at `now_ms`, given the next
/// scheduled preemption or watched process end (sim clock).
caf::timespan sim_watch_delay(int64_t now_ms, std::optional<int64_t> next_ms,
                              caf::timespan max_interval);

} // namespace sky::actors
