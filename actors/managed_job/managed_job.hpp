#pragma once

// One supervisor actor per managed job (docs/MANAGED_JOBS.md). It is a shell
// around the pure decision optimizer::decide_managed_job: every event (the
// admission, a launch's reply, the end of the task on its cluster, a lost
// cluster, a cancel, a teardown done) is folded into the job record by that
// function, the new record is recorded (event + snapshot, durable) and only
// then is the decided action carried out: launch the task's cluster through
// the cluster registry (the same path as `skyctl launch`), tear it down,
// or finish. Events are handled one at a time, in order, so a decision is
// never made on a record that is still being written.
//
// The task runs as an ordinary job on a cluster of its own named after the
// managed job (optimizer::managed_cluster_name). A log archiver copies the
// job's output into $SKYD_HOME/managed_jobs/<id>/ while it runs and tells the
// supervisor how the job ended; its reading polls the cluster, which is also
// the periodic check that the cluster still exists. Provider events
// (preemption, node loss) reach the supervisor directly through the registry.
//
// Protocol:
//   (start_atom)                   from the registry: resume after spawn
//   (controller_failed_atom, reason)  from the registry instead of start:
//                                  the job's previous supervisor kept dying;
//                                  end FAILED_CONTROLLER, tear down
//   (launch_atom)                  admitted: a launch slot is free
//   (cancel_atom)               -> std::string state after the cancel
//   (node_event_atom, provider_event)  its cluster lost a node
//   (poll_atom)                    its cluster's job changed: look now
//   (logs_atom)                    someone reads the job's logs: copy its
//                                  output now (at most every watch_interval)
//   internal: (tick_atom, epoch) delayed launch, (retry_atom, epoch)
//   teardown retry, (done_atom, epoch, job_outcome | std::string) from the
//   archiver.
// It reports (job_update_atom, managed_job_row) to the registry after every
// durable change, and quits once the job is final and its cluster gone.

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster/cluster_registry.hpp"
#include "actors/core/event_log_actor.hpp"
#include "optimizer/managed_job/managed_job_snapshot.hpp"
#include "optimizer/managed_job/managed_job_recovery.hpp"
#include "optimizer/managed_job/managed_job_supervision.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::managed_job_row)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::job_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::jobs_launch_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::jobs_queue_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::jobs_queue_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::jobs_cancel_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::jobs_cancel_reply)

namespace sky::actors {

/// What every managed job uses.
struct managed_job_deps {
  event_log_actor log;
  /// The cluster registry: launches, teardowns, job logs.
  caf::actor clusters;
  /// The planner: asked whether a task that found no place could ever
  /// run anywhere (else FAILED_PRECHECKS); may be null (no such check).
  caf::actor planner;
  caf::actor pool;
  /// $SKYD_HOME/managed_jobs: one directory of attempt logs per job.
  std::filesystem::path dir;
  optimizer::managed_job_limits limits;
  /// Restarts of a supervisor that died abnormally, before its job is
  /// given up (FAILED_CONTROLLER).
  optimizer::supervisor_restart_policy supervision;
  /// Launches at once (admission); 0 counts as 1.
  uint32_t max_concurrent_launches = 16;
  /// Unix milliseconds.
  std::function<int64_t()> now_ms;
  /// How often the archiver looks for new output and the job's end while
  /// the job writes nothing: watch_interval at first, doubling up to
  /// watch_max_interval. The job's end is pushed (the registry sees its
  /// job.finished event and pokes the archiver), and so is a reader of
  /// `jobs logs` (logs_atom), so the slow reads are only the fallback:
  /// 10,000 quiet jobs read every 500 ms would be 20,000 requests a second,
  /// every 10 s still 1,000 (most of an idle skyd's work); every minute,
  /// 170.
  caf::timespan watch_interval = std::chrono::milliseconds(500);
  caf::timespan watch_max_interval = std::chrono::seconds(60);
  /// Wait before asking again for a teardown that failed.
  caf::timespan teardown_retry = std::chrono::seconds(2);
};

struct managed_job_state {
  static inline const char* name = "managed_job";

  managed_job_deps deps;
  caf::actor registry;
  optimizer::managed_job_snapshot snap;

  /// Events waiting for the one being recorded.
  struct queued_event {
    optimizer::managed_job_event event;
    /// What a launch that succeeded learnt, recorded with the decision.
    std::optional<optimizer::launch_facts> launched;
    /// Answered with the state after the event (cancel).
    caf::response_promise promise;
  };
  std::deque<queued_event> queue;
  bool recording = false;
  /// A failed append, tried again on (flush_atom).
  std::function<void()> retry_append;

  /// Bumped whenever the attempt changes: replies, timers and archiver
  /// reports of an older attempt are ignored.
  uint64_t epoch = 0;
  /// A launch request is with the cluster registry; a teardown must wait
  /// for its answer (tearing down under a provisioning could leak nodes).
  bool launching = false;
  caf::actor archiver;
  /// When a reader of the logs last made the archiver copy at once.
  std::chrono::steady_clock::time_point last_hurry{};
  /// The teardown in progress (retried until the cluster is gone).
  std::function<void()> after_teardown;
  std::string teardown_cluster;
  bool quitting = false;
};

using managed_job_ptr = caf::stateful_actor<managed_job_state>*;

/// `snap` is the job as recorded (new: PENDING, submitted and durable;
/// restored: its last snapshot).
caf::behavior managed_job_actor(managed_job_ptr self, managed_job_deps deps,
                                caf::actor registry,
                                optimizer::managed_job_snapshot snap);

/// "local", "aws/us-east-1/us-east-1a" -> the launch place of a cluster.
optimizer::launch_place place_of(const placement_info& p);

} // namespace sky::actors
