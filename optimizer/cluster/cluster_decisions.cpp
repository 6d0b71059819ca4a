#include "optimizer/cluster/cluster_decisions.hpp"

#include "messages/task/task_codec.hpp"
#include "optimizer/cluster/cluster_fit.hpp"

namespace sky::optimizer {

namespace {

cluster_decision with(const cluster_facts& f, cluster_step step) {
  cluster_decision d;
  d.step = step;
  d.snap = f.snap;
  return d;
}

cluster_decision refused(const cluster_facts& f, cluster_step step,
                         caf::error err) {
  auto d = with(f, step);
  d.error = std::move(err);
  return d;
}

// Another operation is in flight: only this request is answered.
cluster_decision busy(const cluster_facts& f, const std::string& what) {
  return refused(f, cluster_step::refuse,
                 make_error(errc::conflict,
                            "cluster '" + f.snap.name + "' is "
                              + std::string{to_string(f.snap.phase)}
                              + "; cannot " + what + " now",
                            "wait for it to finish (skyctl status)"));
}

// A launch that provisions: INIT, the phase and, for --retry-until-up, the
// launch itself in the snapshot so that a restart resumes it.
cluster_decision provision(const cluster_facts& f,
                           const cl_event::launch_requested& l) {
  auto d = with(f, cluster_step::provision);
  d.record_kind = "cluster.launch_requested";
  d.snap.status = std::string{to_string(cluster_status::init)};
  d.snap.phase = cluster_phase::provisioning;
  d.snap.reason.clear();
  if (l.retry_until_up)
    d.snap.retrying = retrying_launch{task::encode_task(l.task), l.run_setup,
                                      l.autostop, l.task_id, 0};
  else
    d.snap.retrying.reset();
  return d;
}

cluster_decision on_launch(const cluster_facts& f,
                           const cl_event::launch_requested& l) {
  if (!f.recorded) {
    if (f.waiting_launches > 0)
      return with(f, cluster_step::queue_launch);
    auto d = provision(f, l);
    d.snap.owner = l.owner; // the first launch makes the cluster
    return d;
  }
  if (f.snap.phase == cluster_phase::provisioning
      || f.snap.phase == cluster_phase::starting)
    return with(f, cluster_step::queue_launch);
  if (f.snap.phase != cluster_phase::none)
    return refused(f, cluster_step::refuse,
                   make_error(errc::conflict,
                              "cluster '" + f.snap.name + "' is "
                                + std::string{to_string(f.snap.phase)},
                              "wait for it to finish (skyctl status)"));
  auto status = status_of(f.snap);
  if (status == cluster_status::up) {
    auto fits = fits_cluster(l.task, f.snap.name, f.snap.placement);
    if (!fits)
      return refused(f, cluster_step::refuse, fits.error());
    auto d = with(f, cluster_step::reuse);
    if (l.autostop)
      d.snap.autostop = *l.autostop;
    return d;
  }
  if (status == cluster_status::stopped || restarts_in_place(f.snap)) {
    auto d = with(f, cluster_step::start_in_place);
    d.relaunch_in_place = status != cluster_status::stopped;
    return d;
  }
  return provision(f, l); // INIT: a launch failed before; try again
}

cluster_decision on_start(const cluster_facts& f) {
  if (f.snap.phase != cluster_phase::none)
    return busy(f, "start it");
  auto status = status_of(f.snap);
  if (status == cluster_status::up)
    return with(f, cluster_step::finish);
  if (status != cluster_status::stopped && !restarts_in_place(f.snap))
    return refused(
      f, cluster_step::fail,
      make_error(errc::conflict,
                 "cluster '" + f.snap.name + "' is " + f.snap.status
                   + (f.snap.reason.empty() ? "" : " (" + f.snap.reason + ")"),
                 "launch it again: skyctl launch -c " + f.snap.name));
  if (!f.provider_known)
    return refused(
      f, cluster_step::fail,
      make_error(errc::unavailable,
                 "no provider '" + f.snap.placement.provider + "'"));
  // A stopped cluster restarts only where its disks are: same provider,
  // region, zone and instance type. So does an INIT cluster that still has
  // nodes: the provider replaces the missing ones beside the others, never
  // elsewhere (that would leak them).
  auto d = with(f, cluster_step::start);
  d.record_kind = "cluster.starting";
  ++d.snap.attempts;
  d.snap.phase = cluster_phase::starting;
  return d;
}

cluster_decision on_stop(const cluster_facts& f,
                         const cl_event::stop_requested& s) {
  if (f.snap.phase != cluster_phase::none)
    return busy(f, "stop it");
  auto status = status_of(f.snap);
  if (status == cluster_status::stopped)
    return with(f, cluster_step::finish);
  const auto& name = f.snap.name;
  if (f.provider_known && !f.provider_can_stop)
    return refused(
      f, cluster_step::fail,
      make_error(errc::unsupported,
                 f.snap.placement.provider + " clusters cannot be stopped",
                 "tear it down instead: skyctl down " + name));
  if (f.snap.placement.use_spot)
    // As on real clouds (and in SkyPilot): refused before any job is ended.
    return refused(f, cluster_step::fail,
                   make_error(errc::unsupported,
                              "cluster '" + name
                                + "' runs on spot instances, which cannot "
                                  "be stopped",
                              "tear it down instead: skyctl down " + name));
  if (status == cluster_status::init && f.snap.nodes.empty())
    return refused(f, cluster_step::fail,
                   make_error(errc::conflict,
                              "cluster '" + name + "' has no instances to stop",
                              "tear it down: skyctl down " + name));
  auto d = with(f, cluster_step::stop);
  d.record_kind = "cluster.stopping";
  d.reason = stop_cause_text(s.cause, false, f.snap.autostop.idle_minutes);
  d.snap.phase = cluster_phase::stopping;
  if (status == cluster_status::up && s.cause == stop_cause::autostop)
    d.snap.status = std::string{to_string(cluster_status::autostopping)};
  return d;
}

cluster_decision on_down(const cluster_facts& f,
                         const cl_event::down_requested& down) {
  if (f.snap.phase == cluster_phase::terminating)
    return busy(f, "tear it down");
  // Terminating under an attempt could leave behind what it is creating.
  if (f.attempt_in_flight)
    return with(f, cluster_step::wait_for_attempt);
  auto d = with(f, f.recorded ? cluster_step::tear_down : cluster_step::erase);
  d.reason = stop_cause_text(down.cause, true, f.snap.autostop.idle_minutes);
  d.snap.phase = cluster_phase::terminating;
  if (f.recorded)
    d.record_kind = "cluster.terminating";
  return d;
}

cluster_decision on_no_candidates(const cluster_facts& f,
                                  const cl_event::no_candidates& n,
                                  int64_t now_ms) {
  if (n.retry_until_up && n.tries > 0) {
    auto d = with(f, cluster_step::retry_later);
    d.record_kind = "cluster.retry_scheduled";
    d.retry_wait_ms = retry_until_up_wait_ms(n.tries);
    // In the snapshot, so that a skyd restart resumes the launch then.
    if (d.snap.retrying)
      d.snap.retrying->retry_at_ms = now_ms + d.retry_wait_ms;
    return d;
  }
  return refused(f, cluster_step::fail_launch,
                 make_error(errc::no_capacity,
                            "no place can run the task now:\n" + n.exclusions,
                            n.tries > 0
                              ? "retry later, or use --retry-until-up"
                              : "change the task's resources or enable "
                                "more infra (skyctl check)"));
}

} // namespace

cluster_decision decide_cluster(const cluster_facts& facts,
                                const cluster_event& event, int64_t now_ms) {
  struct visitor {
    const cluster_facts& f;
    int64_t now_ms;
    cluster_decision operator()(const cl_event::launch_requested& e) const {
      return on_launch(f, e);
    }
    cluster_decision operator()(const cl_event::start_requested&) const {
      return on_start(f);
    }
    cluster_decision operator()(const cl_event::stop_requested& e) const {
      return on_stop(f, e);
    }
    cluster_decision operator()(const cl_event::down_requested& e) const {
      return on_down(f, e);
    }
    cluster_decision operator()(const cl_event::no_candidates& e) const {
      return on_no_candidates(f, e, now_ms);
    }
  };
  return std::visit(visitor{facts, now_ms}, event);
}

} // namespace sky::optimizer
