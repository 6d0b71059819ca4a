#include "optimizer/cluster/cluster_model.hpp"

#include <algorithm>

namespace sky::optimizer {

cluster_status status_of(const cluster_snapshot& snap) {
  return cluster_status_from(snap.status).value_or(cluster_status::init);
}

bool restarts_in_place(const cluster_snapshot& snap) {
  return status_of(snap) == cluster_status::init && !snap.nodes.empty()
         && snap.launched_at_ms != 0 && !snap.placement.provider.empty();
}

std::string stop_cause_text(stop_cause cause, bool teardown,
                            int32_t idle_minutes) {
  switch (cause) {
    case stop_cause::user:
      return teardown ? "torn down by the user" : "stopped by the user";
    case stop_cause::autostop:
      return "idle for " + std::to_string(idle_minutes) + " min (autostop)";
    case stop_cause::restart_resume:
      return teardown ? "resuming a teardown after a restart"
                      : "resuming a stop after a restart";
  }
  return {};
}

int64_t retry_until_up_wait_ms(uint32_t tries) {
  return std::min<int64_t>(300, int64_t{5} << std::min<uint32_t>(tries / 8, 6))
         * 1000;
}

} // namespace sky::optimizer
