#pragma once

// One job while it runs: the job actor syncs files, runs setup (when the
// job is the first of a launch) and then run on every node of the job,
// watches the processes (pushed ends where the node channel can tell,
// polls with back-off as the fallback), stops the other ranks when one
// fails, and records every state change as an event before reporting it
// to its cluster.
// Pending jobs have no actor; the cluster starts one when the scheduler
// says so, or re-attaches one to live processes after a restart.

#include <memory>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster/cluster_deps.hpp"
#include "actors/job/job_runner.hpp"
#include "messages/cluster_snapshot.hpp"

namespace sky::actors {

/// What the cluster hands a job when it starts it.
struct job_start {
  job_context context;
  /// The job's snapshot (status PENDING for a new start; SETTING_UP or
  /// RUNNING with processes for a re-attach).
  job_snapshot snapshot;
};

} // namespace sky::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::job_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::job_snapshot)

namespace sky::actors {

struct job_actor_state {
  static inline const char* name = "job";

  cluster_deps deps;
  caf::actor cluster;
  job_context ctx;
  job_snapshot snap;
  job_phase phase = job_phase::run;
  bool cancelling = false;
  bool finishing = false;
  bool files_synced = false;
  caf::timespan poll_interval{};
  uint64_t poll_epoch = 0;
  /// A poll is on the worker pool; `repoll`: a notice came meanwhile, so
  /// look again as soon as it answers.
  bool polling = false;
  bool repoll = false;
  /// Every process's channel pushes its end (exit watches): polls back off
  /// to job_poll_max_watched instead of job_poll_max.
  bool watched = false;
  /// Tags the exit notices of the current processes; older ones are
  /// ignored.
  uint64_t watch_epoch = 0;
};

/// Sends the cluster (job_update_atom, job_snapshot) after every persisted
/// change, and quits once the job is in a terminal state. Accepts
/// (cancel_atom) at any time, and (exited_atom, watch_epoch) from the node
/// channels' exit watches: a process ended, poll now.
caf::behavior job_actor(caf::stateful_actor<job_actor_state>* self,
                        cluster_deps deps, caf::actor cluster, job_start start);

/// The event (and snapshot) recording a job's new state.
event_draft job_event(const job_snapshot& snap, const std::string& kind);

} // namespace sky::actors
