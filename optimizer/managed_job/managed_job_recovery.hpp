#pragma once

// What a managed job does next: the pure decision its supervisor calls on
// every event (docs/MANAGED_JOBS.md "Managed jobs: recovery rules").
//
//   (job record with its history and current launch, event) -> (new record,
//   action)
//
// The record (managed_job) carries the history the rules need: the counters
// spent, where the last cluster ran, and the launch in flight with its
// blocklist. No clock (the caller passes now), no I/O, no randomness: the
// same record and event always give the same decision, so a supervisor can
// persist events and rebuild the record by folding them again.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "optimizer/managed_job/managed_job_model.hpp"

namespace sky::optimizer {

/// Daemon configuration for every managed job.
struct managed_job_limits {
  /// Launch rounds without capacity (each a full failover over every allowed
  /// place) before a task's first launch gives up with FAILED_NO_RESOURCE;
  /// 0 = keep trying. SkyPilot gives up after 3.
  uint32_t max_rounds_first_launch = 3;
  /// The same for relaunches after a lost cluster or a restart; 0 = keep
  /// trying, as SkyPilot does: a job that has run is not given up lightly.
  uint32_t max_rounds_relaunch = 0;
  /// Wait after the first round without capacity; doubled after each
  /// further round, up to max_retry_gap_ms.
  int64_t retry_gap_ms = 60'000;
  int64_t max_retry_gap_ms = 600'000;
};

/// The wait before the next launch after `rounds` (>= 1) rounds without
/// capacity: retry_gap_ms * 2^(rounds-1), capped at max_retry_gap_ms.
int64_t retry_delay_ms(const managed_job_limits& limits, uint32_t rounds);

/// Events the supervisor feeds in. Past tense: they have happened.
namespace mj_event {

/// Admission gave the PENDING job a launch slot (admit_pending_jobs).
struct admitted {};

/// The launch of the current task succeeded: its cluster is up there and
/// the task is submitted on it (setup runs next, in RUNNING).
struct cluster_launched {
  launch_place place;
};

/// The current task's run ended with exit code 0 on every node.
struct task_succeeded {};

/// The current task's `run` failed on a cluster that is still whole (the
/// supervisor checks the cluster first: a failure caused by a lost node is
/// cluster_lost). One exit code per node that failed; empty if unknown.
struct task_failed {
  std::vector<int> exit_codes;
};

/// Like task_failed, for the task's `setup`.
struct setup_failed {
  std::vector<int> exit_codes;
};

/// The cluster (or any node of it) is gone: preempted, terminated, its node
/// channel lost. `place` is where it ran; nullopt = the job's last known
/// place.
struct cluster_lost {
  std::string reason = "preempted";
  std::optional<launch_place> place;
};

/// The launch in flight tried every place it was allowed to (one full
/// failover round) and found no capacity.
struct launch_found_no_resources {
  std::string reason = "no capacity";
};

/// The job can never run as written (no enabled infra offers the
/// resources, invalid settings): FAILED_PRECHECKS.
struct prechecks_failed {
  std::string reason;
};

/// `jobs cancel`.
struct cancel_requested {};

/// Every cluster of the job is gone after a tear_down action.
struct cluster_torn_down {};

/// The supervisor cannot carry on (unexpected state, lost record).
struct controller_failed {
  std::string reason;
};

} // namespace mj_event

using managed_job_event
  = std::variant<mj_event::admitted, mj_event::cluster_launched,
                 mj_event::task_succeeded, mj_event::task_failed,
                 mj_event::setup_failed, mj_event::cluster_lost,
                 mj_event::launch_found_no_resources,
                 mj_event::prechecks_failed, mj_event::cancel_requested,
                 mj_event::cluster_torn_down, mj_event::controller_failed>;

enum class managed_job_action : uint8_t {
  /// Nothing to do: keep watching (or the event was ignored, see
  /// `ignored`).
  none,
  /// Perform job.launch: tear down first if it says so, wait its delay,
  /// then launch job.launch->task_index with its blocklist / only_in.
  /// Report cluster_launched or launch_found_no_resources.
  launch,
  /// Cancelling: tear down every cluster of the job (cancel any launch in
  /// flight or waiting), then report cluster_torn_down.
  tear_down,
  /// The job reached its terminal state: if `tear_down` is set, tear down
  /// whatever cluster of it is left; release its launch slot.
  finish,
};

struct managed_job_decision {
  /// The record after the event: persist it.
  managed_job job;
  managed_job_action action = managed_job_action::none;
  /// Tear down the job's cluster as part of the action (always for
  /// tear_down; for launch it mirrors job.launch->tear_down_first; for
  /// finish, whether a cluster may be left).
  bool tear_down = false;
  /// Set when the event does not apply in the job's state (a late report,
  /// a second cancel): why, for the log. The record is then unchanged.
  std::string ignored;
};

/// The rules (docs/MANAGED_JOBS.md):
/// - cancel wins: cancel_requested ends a PENDING job in CANCELLED at once
///   and takes any other live state to CANCELLING (tear_down); there only
///   cluster_torn_down (-> CANCELLED) and cluster_launched (tear down again)
///   count, every other event is ignored;
/// - admitted: PENDING -> STARTING, launch task 0 anywhere;
/// - cluster_launched: STARTING/RECOVERING -> RUNNING;
/// - task_succeeded: RUNNING -> STARTING of the next pipeline task on its
///   own cluster (the previous one is torn down), or SUCCEEDED after the
///   last;
/// - task_failed / setup_failed: an exit code in recover_on_exit_codes
///   restarts for free; otherwise a restart spends max_restarts_on_errors;
///   with none left the job ends FAILED / FAILED_SETUP;
/// - cluster_lost (STARTING, RUNNING, RECOVERING) -> RECOVERING: relaunch
///   after tearing down what is left, by strategy: EAGER_NEXT_REGION blocks
///   the lost region for the first try, FAILOVER tries only the lost
///   cluster's cloud/region first; then anywhere;
/// - launch_found_no_resources: a narrowed first try widens to anywhere at
///   once; otherwise the round counts, and the job waits retry_delay_ms and
///   tries again, or ends FAILED_NO_RESOURCE when the rounds of
///   managed_job_limits are spent;
/// - prechecks_failed -> FAILED_PRECHECKS (before RUNNING);
///   controller_failed -> FAILED_CONTROLLER;
/// - terminal states ignore every event.
managed_job_decision decide_managed_job(const managed_job& job,
                                        const managed_job_event& event,
                                        const managed_job_limits& limits,
                                        int64_t now_ms);

} // namespace sky::optimizer
