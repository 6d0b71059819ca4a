#pragma once

// What a cluster does after a skyd restart, as a plan: resume the operation
// that was in flight (stop, teardown, a --retry-until-up launch) or
// reconcile the snapshot with what the provider reports. The actor calls
// reconcile_restored with what it has observed so far; a `query` or
// `remove_attempt` step asks the provider, and the actor plans again with
// the answer (like Nomad's reconciler, fed the cluster state each time).
// No clock (the caller passes now), no I/O.

#include <cstdint>
#include <optional>
#include <string>

#include "optimizer/cluster/cluster_model.hpp"

namespace sky::optimizer {

/// What the actor has observed since the restart.
struct restore_observed {
  /// The provider of the snapshot's placement is configured.
  bool provider_known = false;
  /// A --retry-until-up launch whose task could not be decoded: why.
  std::optional<std::string> unreadable_launch;
  /// The provider answered the query: whether every instance runs
  /// (nullopt: not asked yet; false also when the query failed).
  std::optional<bool> all_running;
  /// The phase when the query was sent: a stop or teardown accepted while
  /// it was out owns the cluster, and the answer is then dropped.
  cluster_phase queried_phase = cluster_phase::none;
  /// What the interrupted attempt made has been terminated (or tried).
  bool attempt_removed = false;
};

enum class restore_step : uint8_t {
  /// STOPPED or INIT with nothing in flight: nothing runs.
  nothing,
  /// The answer is stale (a stop or teardown owns the cluster now).
  drop,
  /// Take the snapshot; record nothing (its provider is not configured).
  keep,
  /// Record `cluster.lost` (no job runs: nothing reached a provider).
  record_lost,
  /// Take the snapshot (phase cleared), then stop / tear down again.
  resume_stop,
  resume_teardown,
  /// Ask the provider for the instances; plan again with all_running.
  query,
  /// Terminate what the interrupted attempt made; plan again with
  /// attempt_removed.
  remove_attempt,
  /// Record `cluster.launch_resumed`, then start the launch's next round
  /// at its recorded deadline.
  resume_rounds,
  /// Adopt the running instances, record `cluster.up`, submit the launch.
  adopt_launch,
  /// Adopt the running instances, record `cluster.up` when the state
  /// changed (record_kind), re-attach the running jobs and schedule.
  adopt_up,
  /// End every job (the instances are gone), then record `cluster.lost`.
  end_jobs_lost,
};

struct restore_plan {
  restore_step step = restore_step::nothing;
  /// The snapshot after the step: the actor takes it before acting.
  cluster_snapshot snap;
  /// The event to record ("" = none).
  std::string record_kind;
  /// Queue the --retry-until-up launch the snapshot holds (no one waits on
  /// it: the client went away with the old skyd).
  bool enqueue_launch = false;
};

/// The rules (docs/ARCHITECTURE.md, "Reconciliation at start-up"):
/// - a --retry-until-up launch resumes: its instances all running are
///   adopted (UP), anything else is removed before the next round;
/// - a launch that never reached a provider, or any other launch or start
///   cut short, goes INIT "launch it again" (a first launch's instances are
///   removed first; a stopped cluster's are its disks and are kept);
/// - a stop or teardown in flight is carried out again;
/// - an UP (or AUTOSTOPPING) cluster whose instances all run stays UP,
///   otherwise it goes INIT and its jobs end.
restore_plan reconcile_restored(const cluster_snapshot& snap,
                                const restore_observed& observed,
                                int64_t now_ms);

} // namespace sky::optimizer
