#include "optimizer/cluster/autostop.hpp"

namespace sky::optimizer {

autostop_decision decide_autostop(cluster_status status,
                                  const autostop_info& autostop,
                                  int64_t idle_since_ms, int64_t now_ms) {
  autostop_decision d;
  if (status != cluster_status::up || !autostop.enabled() || idle_since_ms <= 0)
    return d;
  int64_t deadline
    = idle_since_ms + static_cast<int64_t>(autostop.idle_minutes) * 60'000;
  if (now_ms >= deadline)
    d.action = autostop.down ? autostop_action::down : autostop_action::stop;
  else
    d.check_at_ms = deadline;
  return d;
}

} // namespace sky::optimizer
