#pragma once

// The snapshot of a managed job, as persisted under `managed_job.<id>` in
// the same batch as each of its events: the pure record the decisions read
// (optimizer::managed_job), the tasks to launch (with their secrets: the
// snapshot lives in the state column under SKYD_HOME, never in events or
// replies), and what the supervisor needs to resume after a restart (the
// cluster and cluster job it watches).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/managed_job_protocol.hpp"
#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"
#include "optimizer/managed_job/managed_job_model.hpp"
#include "optimizer/managed_job/managed_job_recovery.hpp"

namespace sky::optimizer {

struct managed_job_snapshot {
  optimizer::managed_job job;
  /// The pipeline's tasks (dropped once the job is final).
  std::vector<task::task_spec> tasks;
  /// The cluster the current task runs on (or is launched on).
  std::string cluster;
  /// The job of the current attempt on that cluster; 0 = none yet.
  uint64_t cluster_job = 0;
  /// Launches so far, all tasks together: numbers the attempt log files.
  uint32_t attempts = 0;
  /// A final job whose cluster may still exist (teardown not confirmed).
  bool cluster_left = false;
  /// Infra text of the current cluster ("local", "aws/us-east-1").
  std::string infra;
};

/// What the supervisor learnt about a launch that succeeded, recorded in
/// the same batch as the decision on it (cluster_launched).
struct launch_facts {
  /// The job the launch submitted on the cluster.
  uint64_t cluster_job = 0;
  /// Where the cluster came up; empty when its status could not be read.
  std::string infra;
};

/// The snapshot to record for decision `d` (the supervisor records it,
/// then acts): the decision's record, the facts of a launch that
/// succeeded, and, once the job is final, its tasks (and their secrets)
/// dropped and whether a cluster of it may be left.
managed_job_snapshot next_snapshot(const managed_job_snapshot& prev,
                                   const managed_job_decision& d,
                                   const std::optional<launch_facts>& launched);

/// The snapshot to record before task `index` is launched (write-ahead:
/// the cluster's name is durable before the cluster exists, so a restart
/// knows what to tear down): one more attempt, the task's cluster, no
/// cluster job or infra yet.
managed_job_snapshot begin_launch(const managed_job_snapshot& prev,
                                  size_t index);

/// The snapshot to record once a final job's cluster is gone.
managed_job_snapshot cleaned_up(const managed_job_snapshot& prev);

std::string encode(const managed_job_snapshot& s);
result<managed_job_snapshot> decode_managed_job_snapshot(std::string_view b);

/// The `jobs queue` row of a job.
protocol::managed_job_row row_of(const managed_job_snapshot& s);

/// Entity (and topic) of a managed job: "managed_job.<id>".
std::string managed_job_entity(uint64_t id);

/// The cluster of task `task_index` of job `job`: "<name>-<id>" (SkyPilot's
/// naming), "-<task>" appended for pipelines; the name is made a valid
/// cluster name (lower case, other characters as '-').
std::string managed_cluster_name(const optimizer::managed_job& job,
                                 size_t task_index);

/// SKYPILOT_TASK_ID of a task of the job, the same for every recovery:
/// "sky-managed-<submitted ms>_<name>_<id>-<task>".
std::string managed_task_id(const optimizer::managed_job& job,
                            size_t task_index);

} // namespace sky::optimizer
