#include "optimizer/cluster/cluster_restore_plan.hpp"

namespace sky::optimizer {

namespace {

restore_plan plan(const cluster_snapshot& snap, restore_step step,
                  std::string kind = {}) {
  restore_plan p;
  p.step = step;
  p.snap = snap;
  p.record_kind = std::move(kind);
  return p;
}

void set_init(cluster_snapshot& s, std::string reason) {
  s.phase = cluster_phase::none;
  s.status = std::string{to_string(cluster_status::init)};
  s.reason = std::move(reason);
}

void set_up(cluster_snapshot& s) {
  s.phase = cluster_phase::none;
  s.status = std::string{to_string(cluster_status::up)};
}

restore_plan resume_launch(const cluster_snapshot& snap,
                           const restore_observed& seen, int64_t now_ms) {
  if (seen.unreadable_launch) {
    auto p = plan(snap, restore_step::record_lost, "cluster.lost");
    p.snap.retrying.reset();
    set_init(p.snap, "skyd restarted while provisioning and could not read "
                     "the launch back ("
                       + *seen.unreadable_launch + "); launch it again");
    return p;
  }
  bool asked = seen.all_running.has_value();
  if (asked && !seen.attempt_removed
      && snap.phase != cluster_phase::provisioning)
    return plan(snap, restore_step::drop);
  if (seen.attempt_removed)
    return plan(snap, restore_step::resume_rounds, "cluster.launch_resumed");
  if (asked && *seen.all_running) {
    auto p = plan(snap, restore_step::adopt_launch, "cluster.up");
    p.snap.retrying.reset();
    set_up(p.snap);
    if (p.snap.launched_at_ms == 0)
      p.snap.launched_at_ms = now_ms; // the launch reached UP
    return p;
  }
  if (asked)
    return plan(snap, restore_step::remove_attempt);
  // Not asked yet: the launch goes on provisioning.
  bool reached_provider
    = !snap.placement.provider.empty() && seen.provider_known;
  auto p = plan(
    snap, reached_provider ? restore_step::query : restore_step::resume_rounds,
    reached_provider ? "" : "cluster.launch_resumed");
  p.enqueue_launch = true;
  p.snap.phase = cluster_phase::provisioning;
  p.snap.status = std::string{to_string(cluster_status::init)};
  return p;
}

// The provider answered the query of a cluster restored UP or with a
// launch or start in flight.
restore_plan after_query(const cluster_snapshot& snap,
                         const restore_observed& seen) {
  if (!seen.attempt_removed && snap.phase != seen.queried_phase)
    return plan(snap, restore_step::drop);
  if (*seen.all_running && !seen.attempt_removed) {
    // The instances are there: the cluster is (still or again) UP.
    bool changed = snap.phase != cluster_phase::none
                   || status_of(snap) != cluster_status::up;
    auto p = plan(snap, restore_step::adopt_up, changed ? "cluster.up" : "");
    set_up(p.snap);
    return p;
  }
  // A first launch cut short leaves whatever its attempt made: remove it
  // (idempotent), so that nothing half-made holds capacity or costs money
  // until the user launches again. A stopped cluster being started keeps
  // its instances: they are its disks.
  if (!seen.attempt_removed && snap.phase == cluster_phase::provisioning
      && snap.launched_at_ms == 0)
    return plan(snap, restore_step::remove_attempt);
  auto why = snap.phase != cluster_phase::none
               ? "skyd restarted while " + std::string{to_string(snap.phase)}
               : std::string{"its instances are gone"};
  auto p = plan(snap, restore_step::end_jobs_lost, "cluster.lost");
  set_init(p.snap, why + "; launch it again");
  return p;
}

} // namespace

restore_plan reconcile_restored(const cluster_snapshot& snap,
                                const restore_observed& seen, int64_t now_ms) {
  if (snap.phase == cluster_phase::provisioning && snap.retrying)
    return resume_launch(snap, seen, now_ms);
  if (seen.all_running)
    return after_query(snap, seen);
  if (snap.phase == cluster_phase::provisioning
      && snap.placement.provider.empty()) {
    // skyd died between `cluster.launch_requested` and the first attempt's
    // `cluster.provisioning` (written before any provider is asked): no
    // provider holds anything of it. INIT with a reason, like any launch a
    // restart interrupted; `down` removes it (nothing to terminate).
    auto p = plan(snap, restore_step::record_lost, "cluster.lost");
    set_init(p.snap, "skyd restarted before the launch reached any infra; "
                     "launch it again");
    return p;
  }
  if (!seen.provider_known) {
    auto p = plan(snap, restore_step::keep);
    p.snap.status = std::string{to_string(cluster_status::init)};
    p.snap.reason = "provider '" + snap.placement.provider
                    + "' is not configured in this skyd";
    return p;
  }
  if (snap.phase == cluster_phase::stopping
      || snap.phase == cluster_phase::terminating) {
    auto p = plan(snap, snap.phase == cluster_phase::stopping
                          ? restore_step::resume_stop
                          : restore_step::resume_teardown);
    p.snap.phase = cluster_phase::none;
    return p;
  }
  auto status = status_of(snap);
  if (snap.phase == cluster_phase::none && status != cluster_status::up
      && status != cluster_status::autostopping)
    return plan(snap, restore_step::nothing);
  return plan(snap, restore_step::query);
}

} // namespace sky::optimizer
