// What a cluster actor does after a skyd restart: resume the operation that
// was in flight (stop, teardown, a --retry-until-up launch) or reconcile its
// snapshot with what the provider reports.

#include <algorithm>

#include "actors/cluster/cluster_internal.hpp"
#include "actors/core/logging.hpp"
#include "actors/cluster/provision_attempt.hpp"
#include "actors/core/worker_pool.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"

namespace sky::actors::cluster_detail {

namespace {

bool all_running(const result<providers::cluster_record>& r) {
  return r && !r->instances.empty()
         && std::all_of(r->instances.begin(), r->instances.end(),
                        [](const providers::instance_info& i) {
                          return i.state == providers::instance_state::running;
                        });
}

// Asks the provider for the cluster's instances (on the worker pool).
void query_instances(
  cluster_ptr self, std::shared_ptr<providers::provider> provider,
  std::function<void(result<providers::cluster_record>)> then) {
  auto name = self->state.snap.name;
  run_blocking<providers::cluster_record>(
    self, self->state.deps.pool,
    [provider, name] { return provider->query_instances(name); },
    std::move(then));
}

// Takes running instances the provider reported as the cluster's nodes.
void adopt_instances(cluster_ptr self, const providers::cluster_record& r) {
  provision_result pr;
  pr.record = std::make_shared<const providers::cluster_record>(r);
  adopt_record(self, pr);
}

// Terminates what an interrupted provisioning attempt made (idempotent),
// then `then`. A failure is logged: the cluster stays listed, and `down`
// tries again.
void remove_interrupted_attempt(cluster_ptr self, std::function<void()> then) {
  auto name = self->state.snap.name;
  provider_op(
    self,
    [name](providers::provider& p) { return p.terminate_instances(name); },
    [=](result<void> done) {
      if (!done)
        logger("clusters")
          ->warn("cluster {}: removing the interrupted attempt's instances "
                 "failed: {}",
                 name, describe(done.error()).message);
      else
        self->state.snap.nodes.clear();
      then();
    });
}

// The launch order a retrying launch stood for, without anyone waiting on
// it: the client that asked went away with the old skyd.
result<launch_order> order_of(const retrying_launch& r) {
  auto task = task::decode_task(r.task);
  if (!task)
    return task.error();
  launch_order order;
  order.task = std::move(*task);
  order.run_setup = r.run_setup;
  order.autostop = r.autostop;
  order.retry_until_up = true;
  order.task_id = r.task_id;
  return order;
}

// Starts the next round of the launch: at its recorded deadline, or now.
void next_round(cluster_ptr self) {
  auto& st = self->state;
  auto at = st.snap.retrying ? st.snap.retrying->retry_at_ms : 0;
  auto wait = at - st.deps.now_ms();
  // tries > 0: a round without candidates waits and tries again instead of
  // failing the launch, as before the restart.
  st.tries = std::max<uint32_t>(st.tries, 1);
  if (wait > 0) {
    self->delayed_send(self, std::chrono::milliseconds(wait), retry_atom_v);
    return;
  }
  retry_launch(self);
}

// Resumes an interrupted --retry-until-up launch. Instances of the attempt
// that was in flight are either all running (the attempt succeeded: adopt
// them and submit the job) or removed before the next round, so nothing
// half-made is left behind.
void resume_launch(cluster_ptr self) {
  auto& st = self->state;
  auto order = order_of(*st.snap.retrying);
  if (!order) {
    st.snap.retrying.reset();
    st.snap.phase.clear();
    set_status(st, cluster_status::init);
    st.snap.reason = "skyd restarted while provisioning and could not read "
                     "the launch back ("
                     + describe(order.error()).message + "); launch it again";
    persist(self, {cluster_event(st, "cluster.lost")}, [] {});
    return;
  }
  st.launches.push_back({std::move(*order), caf::response_promise{}});
  st.snap.phase = "provisioning";
  set_status(st, cluster_status::init);
  auto resumed = [=] {
    auto& s = self->state;
    persist(self,
            {cluster_event(s, "cluster.launch_resumed",
                           map_writer{2}
                             .add("retry_at_ms", s.snap.retrying->retry_at_ms)
                             .add("attempts", s.snap.attempts)
                             .bytes())},
            [=] { next_round(self); });
  };
  auto provider
    = st.snap.placement.provider.empty() ? nullptr : provider_of(self);
  if (!provider) {
    resumed(); // no attempt had reached a provider
    return;
  }
  query_instances(self, provider, [=](result<providers::cluster_record> r) {
    auto& s = self->state;
    if (s.snap.phase != "provisioning")
      return; // a teardown accepted meanwhile owns the cluster
    if (all_running(r)) {
      adopt_instances(self, *r);
      s.snap.phase.clear();
      s.snap.retrying.reset();
      set_status(s, cluster_status::up);
      if (s.snap.launched_at_ms == 0)
        s.snap.launched_at_ms = s.deps.now_ms();
      persist(self, {cluster_event(s, "cluster.up")}, [=] {
        process_launches(self);
        check_autostop(self);
      });
      return;
    }
    remove_interrupted_attempt(self, resumed);
  });
}

} // namespace

void restore_cluster(cluster_ptr self) {
  auto& st = self->state;
  // Finished jobs keep only their summary; pending ones re-enter the queue
  // in submission order.
  for (const auto& [id, job] : st.jobs)
    if (job.status == "PENDING")
      st.pending.push_back(id);
  if (st.snap.phase == "provisioning" && st.snap.retrying) {
    resume_launch(self);
    return;
  }
  if (st.snap.phase == "provisioning" && st.snap.placement.provider.empty()) {
    // skyd died between `cluster.launch_requested` and the first attempt's
    // `cluster.provisioning` (written before any provider is asked): no
    // provider holds anything of it, and the client that asked went away
    // with the old skyd. INIT with a reason, like any launch a restart
    // interrupted; `down` removes it (there is nothing to terminate).
    st.snap.phase.clear();
    set_status(st, cluster_status::init);
    st.snap.reason = "skyd restarted before the launch reached any infra; "
                     "launch it again";
    persist(self, {cluster_event(st, "cluster.lost")}, [] {});
    return;
  }
  auto provider = provider_of(self);
  if (!provider) {
    set_status(st, cluster_status::init);
    st.snap.reason = "provider '" + st.snap.placement.provider
                     + "' is not configured in this skyd";
    return;
  }
  auto phase = st.snap.phase;
  if (phase == "stopping") {
    st.snap.phase.clear();
    do_stop(self, caf::response_promise{}, "resuming a stop after a restart");
    return;
  }
  if (phase == "terminating") {
    st.snap.phase.clear();
    do_down(self, caf::response_promise{},
            "resuming a teardown after a "
            "restart");
    return;
  }
  auto status = status_of(st);
  if (phase.empty() && status != cluster_status::up
      && status != cluster_status::autostopping)
    return; // STOPPED or INIT: nothing runs
  query_instances(self, provider, [=](result<providers::cluster_record> r) {
    auto& s = self->state;
    // A stop or teardown accepted while the query was out owns the cluster
    // now: re-attaching jobs under it would leave them without a cluster.
    if (s.snap.phase != phase)
      return;
    if (all_running(r)) {
      // The instances are there: the cluster is (still or again) UP.
      adopt_instances(self, *r);
      bool changed
        = !s.snap.phase.empty() || status_of(s) != cluster_status::up;
      s.snap.phase.clear();
      set_status(s, cluster_status::up);
      auto resume = [=] {
        reattach_jobs(self);
        schedule(self);
        check_autostop(self);
      };
      if (changed)
        persist(self, {cluster_event(s, "cluster.up")}, resume);
      else
        resume();
      return;
    }
    // An interrupted provisioning or start, or instances that vanished:
    // the cluster needs a new launch.
    auto why = !s.snap.phase.empty() ? "skyd restarted while " + s.snap.phase
                                     : std::string{"its instances are gone"};
    auto mark_lost = [=] {
      auto& s2 = self->state;
      s2.snap.phase.clear();
      set_status(s2, cluster_status::init);
      s2.snap.reason = why + "; launch it again";
      end_all_jobs(self, "the cluster's instances are gone", [=] {
        persist(self, {cluster_event(self->state, "cluster.lost")}, [] {});
      });
    };
    // A first launch cut short leaves whatever its attempt made: remove it
    // (idempotent), so that nothing half-made holds capacity or costs
    // money until the user launches again. A stopped cluster being started
    // keeps its instances: they are its disks.
    if (s.snap.phase != "provisioning" || s.snap.launched_at_ms != 0) {
      mark_lost();
      return;
    }
    remove_interrupted_attempt(self, mark_lost);
  });
}

} // namespace sky::actors::cluster_detail
