#include "actors/sim/sim_watch.hpp"

#include <algorithm>

#include "actors/core/logging.hpp"
#include "actors/core/worker_pool.hpp"

namespace sky::actors {

caf::timespan sim_watch_delay(int64_t now_ms, std::optional<int64_t> next_ms,
                              caf::timespan max_interval) {
  if (!next_ms)
    return max_interval;
  // Never 0: a preemption due now has just been applied; one a millisecond
  // late is still on time for a cloud.
  auto wait
    = std::chrono::milliseconds(std::max<int64_t>(1, *next_ms - now_ms));
  return std::min<caf::timespan>(wait, max_interval);
}

caf::behavior sim_watch(caf::stateful_actor<sim_watch_state>* self,
                        std::shared_ptr<providers::sim_world> world,
                        caf::actor pool, caf::timespan max_interval) {
  auto& st = self->state;
  st.world = std::move(world);
  st.pool = std::move(pool);
  st.max_interval = max_interval;
  self->send(self, tick_atom_v);
  struct outcome {
    size_t preempted = 0;
    int64_t now = 0;
    std::optional<int64_t> next;
  };
  return {
    [=](tick_atom) {
      auto& s = self->state;
      if (s.busy)
        return;
      s.busy = true;
      auto w = s.world;
      run_blocking<outcome>(
        self, s.pool,
        [w]() -> result<outcome> {
          outcome o;
          o.preempted = w->check_preemptions();
          o.now = w->now();
          o.next = w->next_due_at();
          return o;
        },
        [=](result<outcome> r) {
          auto& s2 = self->state;
          s2.busy = false;
          auto delay = s2.max_interval;
          if (r) {
            if (r->preempted > 0)
              logger("sim")->info("{} simulated instance(s) preempted",
                                  r->preempted);
            delay = sim_watch_delay(r->now, r->next, s2.max_interval);
          } else {
            logger("sim")->warn("checking simulated preemptions failed: {}",
                                describe(r.error()).message);
          }
          self->delayed_send(self, delay, tick_atom_v);
        });
    },
  };
}

} // namespace sky::actors
