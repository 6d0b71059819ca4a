#include "optimizer/managed_job/managed_job_supervision.hpp"

#include <algorithm>

namespace sky::optimizer {

supervisor_verdict after_supervisor_died(const std::vector<int64_t>& restarts,
                                         int64_t now_ms,
                                         const supervisor_restart_policy& p) {
  auto recent = std::count_if(restarts.begin(), restarts.end(), [&](int64_t t) {
    return now_ms - t < p.window_ms;
  });
  return static_cast<uint64_t>(recent) < p.max_restarts
           ? supervisor_verdict::restart
           : supervisor_verdict::give_up;
}

} // namespace sky::optimizer
