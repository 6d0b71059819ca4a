#pragma once

// Bodies of the managed-job verbs (`jobs.launch`, `jobs.queue`,
// `jobs.cancel`, `jobs.logs`), listed with their fields in docs/PROTOCOL.md.
// Managed jobs are skyd's own (docs/MANAGED_JOBS.md): their ids are a
// separate sequence from the jobs of a cluster.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::protocol {

/// `jobs.launch`: submit a managed job (one task or a pipeline).
struct jobs_launch_request {
  /// -n NAME; empty = the pipeline's name, else the first task's.
  std::string name;
  task::pipeline_spec pipeline;
  /// --job-recovery STRATEGY for every task; empty = as the tasks say.
  std::string job_recovery;
  /// Answer once the job is durably submitted instead of streaming it.
  bool detach = false;
  uint32_t window = 64;
};

std::string encode(const jobs_launch_request& req);
result<jobs_launch_request> decode_jobs_launch_request(std::string_view body);

/// One row of `jobs.queue` (and the detached answer of `jobs.launch`).
struct managed_job_row {
  uint64_t job_id = 0;
  std::string name;
  /// PENDING, STARTING, RUNNING, RECOVERING, CANCELLING, SUCCEEDED, ...
  std::string status;
  std::string reason;
  uint32_t recoveries = 0;
  /// 1-based task of a pipeline being run, and how many it has.
  uint32_t task = 1;
  uint32_t tasks = 1;
  /// The current (or last) cluster of the job, and where it runs.
  std::string cluster;
  std::string infra;
  /// Unix ms; 0 until it happens.
  int64_t submitted_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;
  int64_t state_since_ms = 0;
  /// SKYPILOT_TASK_ID of the current task (the same across recoveries).
  std::string task_id;

  MSGPACK_DEFINE_MAP(job_id, name, status, reason, recoveries, task, tasks,
                     cluster, infra, submitted_at_ms, started_at_ms,
                     ended_at_ms, state_since_ms, task_id)
};

struct jobs_queue_request {
  /// Also list jobs that ended (default true, as `sky jobs queue`).
  bool all = true;

  MSGPACK_DEFINE_MAP(all)
};

struct jobs_queue_reply {
  std::vector<managed_job_row> jobs;

  MSGPACK_DEFINE_MAP(jobs)
};

/// `jobs.cancel`: by ids, by name, or all live jobs.
struct jobs_cancel_request {
  std::vector<uint64_t> job_ids;
  std::string name;
  bool all = false;

  MSGPACK_DEFINE_MAP(job_ids, name, all)
};

struct jobs_cancel_outcome {
  uint64_t job_id = 0;
  bool ok = false;
  /// The state after the request (CANCELLING, CANCELLED, or the final
  /// state it already had).
  std::string status;
  std::string message;

  MSGPACK_DEFINE_MAP(job_id, ok, status, message)
};

struct jobs_cancel_reply {
  std::vector<jobs_cancel_outcome> results;

  MSGPACK_DEFINE_MAP(results)
};

/// `jobs.logs`: the job's output, every attempt and task in order, kept
/// under $SKYD_HOME so it survives the job's clusters.
struct jobs_logs_request {
  /// 0 = the latest job.
  uint64_t job_id = 0;
  bool follow = true;
  uint32_t window = 64;

  MSGPACK_DEFINE_MAP(job_id, follow, window)
};

} // namespace sky::protocol
