#pragma once

// One actor per cluster: SkyPilot's cluster life cycle (INIT, UP, STOPPED,
// gone) and the cluster's job queue. Every change is an event, durable
// before it takes effect (the snapshot `cluster.<name>` goes in the same
// batch). Provider calls and node I/O run on the worker pool; each
// provisioning try is a provision_attempt actor.
//
// Protocol (all replies may be errors carrying skyd's message and hint):
//   (launch_atom, launch_order)            -> uint64_t job id (once durable)
//   (exec_atom, task_spec)                 -> uint64_t job id
//   (stop_atom) / (start_atom) / (down_atom) -> std::string new status
//   (autostop_atom, autostop_request)      -> std::string message
//   (status_atom)                          -> cluster_summary
//   (queue_atom)                           -> std::vector<job_summary>
//   (cancel_atom, cancel_request)          -> protocol::outcomes_reply
//   (logs_atom, uint64_t job)              -> job_log_target
//   (job_update_atom, job_snapshot)        from its job actors
//   (node_event_atom, provider_event)      a node preempted or lost

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster/cluster_deps.hpp"
#include "actors/job/job_actor.hpp"
#include "actors/core/planner.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/cluster_snapshot.hpp"
#include "optimizer/cluster/job_scheduler.hpp"

namespace sky::actors {

/// A launch as the cluster receives it.
struct launch_order {
  task::task_spec task;
  /// Run the task's setup before the job (false with --no-setup).
  bool run_setup = true;
  /// Autostop to set (from -i/--down), if any.
  std::optional<autostop_info> autostop;
  bool retry_until_up = false;
  /// Places the first round must skip (a managed job's recovery blocks the
  /// region it was preempted in); failover adds its own entries on top.
  optimizer::blocklist blocked;
  /// SKYPILOT_TASK_ID of the job; empty = the cluster makes one. Managed
  /// jobs keep theirs across recoveries on new clusters.
  std::string task_id;
  /// Who launches: "" = the user, managed_job_owner(id) = a managed job.
  /// A new cluster belongs to its first launch's owner; the registry
  /// refuses a launch on a cluster of another owner.
  std::string owner;
  /// Gets (plan_atom, plan_reply) and (progress_atom, stage, message)
  /// while the launch runs; may be null.
  caf::actor watcher;
};

/// Where to read a job's output (for `logs` and launch streams).
struct job_log_target {
  job_context context;
  job_snapshot snapshot;
  /// True when the job ran a setup phase (its logs come first).
  bool has_setup = false;
};

/// What the registry passes a cluster it re-creates at start-up.
struct cluster_restore {
  cluster_snapshot snapshot;
  std::vector<job_snapshot> jobs;
};

} // namespace sky::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::launch_order)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::job_log_target)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::cluster_restore)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::task::task_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::cluster_summary)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sky::job_summary>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::autostop_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::cancel_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::outcomes_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  std::shared_ptr<const sky::providers::cluster_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::providers::provider_event)

namespace sky::actors {

struct cluster_state {
  static inline const char* name = "cluster";

  cluster_deps deps;
  caf::actor registry;
  cluster_snapshot snap;
  /// True once the cluster's first event is durable (a brand-new cluster
  /// actor has none until its launch is recorded).
  bool recorded = false;

  std::shared_ptr<providers::provider> provider;
  /// The provider's view of the nodes while UP.
  std::shared_ptr<const providers::cluster_record> record;

  /// Every job of the cluster by id (finished ones without their task).
  std::map<uint64_t, job_snapshot> jobs;
  /// Pending job ids in submission order.
  std::deque<uint64_t> pending;
  /// Jobs being started or running: their actor and placement.
  std::map<uint64_t, caf::actor> job_actors;
  std::map<uint64_t, optimizer::running_job> running;

  /// Launches waiting for provisioning (or start) to finish.
  struct waiting_launch {
    launch_order order;
    caf::response_promise promise;
  };
  std::vector<waiting_launch> launches;
  /// stop/start/down requests waiting for the operation in flight.
  std::vector<caf::response_promise> op_waiters;
  /// A provisioning attempt (launch or start) is with a provider: a `down`
  /// must wait for its answer, since terminating under it could leave
  /// behind the instances it is creating.
  bool attempt_in_flight = false;
  /// `down` requests waiting for that answer.
  std::vector<caf::response_promise> down_waiters;
  /// Failover state of the launch in flight: the places blocked so far,
  /// and the ranking that excludes them (failover takes its next
  /// candidate from it without asking the planner when that is exact).
  optimizer::blocklist blocked;
  std::shared_ptr<const optimizer::ranking> held_ranking;
  caf::actor watcher;
  uint32_t tries = 0;

  uint64_t autostop_epoch = 0;
  /// Events recorded with the next append rather than on their own: a
  /// failed provisioning attempt is written together with the next
  /// attempt's intent (one WAL sync per attempt instead of two).
  std::vector<event_draft> deferred;
  /// The summary last sent to the registry (msgpack), so that only changes
  /// are sent.
  std::string published_summary;
};

using cluster_ptr = caf::stateful_actor<cluster_state>*;

/// A new cluster (its first launch creates it) or one restored from its
/// snapshots.
caf::behavior cluster_actor(cluster_ptr self, cluster_deps deps,
                            caf::actor registry,
                            std::optional<cluster_restore> restore,
                            std::string name);

} // namespace sky::actors
