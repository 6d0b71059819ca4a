#pragma once

// What the managed jobs registry does when a job's supervisor actor dies
// abnormally (a bug: an exception, a failed invariant), while the job is
// not final (docs/MANAGED_JOBS.md "When a supervisor fails"). The job's
// last snapshot is durable, and resuming from it is what a restart of skyd
// does anyway, so the registry restarts the supervisor from it. A
// supervisor that keeps dying would loop forever, so the restarts are
// budgeted: past the budget the job ends FAILED_CONTROLLER and its cluster
// is torn down. Pure: the caller keeps the history and carries out the
// answer.

#include <cstdint>
#include <vector>

namespace sky::optimizer {

struct supervisor_restart_policy {
  /// Restarts allowed within window_ms; the next death gives up.
  uint32_t max_restarts = 3;
  int64_t window_ms = 10 * 60'000;
};

enum class supervisor_verdict {
  /// Spawn a new supervisor from the job's last snapshot.
  restart,
  /// End the job FAILED_CONTROLLER (its cluster torn down).
  give_up
};

/// `restarts`: when the job's supervisor was restarted before (Unix ms, any
/// order). Restarts older than the window are forgotten: a supervisor that
/// failed once a week is not a crash loop.
supervisor_verdict after_supervisor_died(const std::vector<int64_t>& restarts,
                                         int64_t now_ms,
                                         const supervisor_restart_policy& p);

} // namespace sky::optimizer
