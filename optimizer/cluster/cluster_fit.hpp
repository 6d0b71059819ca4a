#pragma once

// Can a task run on a cluster that already exists? `launch -c NAME` reuses an
// UP cluster only when the task's resources fit what the cluster has
// (SkyPilot's "less demanding than" rule); otherwise the user gets the reason.

#include "messages/cluster.hpp"
#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::optimizer {

/// Ok when some alternative of `task`'s resources fits `cluster` (nodes,
/// infra, instance type, spot, vCPUs, memory, accelerators); otherwise
/// errc::conflict whose message says what does not fit, e.g. "task needs
/// A100:8 per node; cluster 'a' has 1x(cpus=2)".
result<void> fits_cluster(const task::task_spec& task,
                          const std::string& cluster_name,
                          const placement_info& cluster);

} // namespace sky::optimizer
