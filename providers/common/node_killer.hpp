#pragma once

// Stopping everything that runs on a set of nodes (sandboxes): SIGTERM,
// a grace period, then SIGKILL for what is left.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <vector>

namespace sky::providers::local_detail {

struct kill_report {
  /// Processes that got SIGTERM.
  size_t terminated = 0;
  /// Processes still there after the grace period, which got SIGKILL.
  size_t killed = 0;
  /// Processes still running after SIGKILL (only unkillable ones, e.g. in
  /// uninterruptible I/O).
  size_t remaining = 0;
};

/// Finds the processes of the nodes whose homes are `homes`: the process
/// groups of the recorded wrappers (while the wrapper's start time matches),
/// plus any process whose environment carries the node marker. Each is
/// signalled through a pidfd opened and checked against its start time, so
/// a reused pid is never hit. Blocks for up to `grace` plus a short wait
/// after SIGKILL.
kill_report kill_node_processes(const std::vector<std::filesystem::path>& homes,
                                std::chrono::milliseconds grace);

} // namespace sky::providers::local_detail
