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
#include "optimizer/cluster/cluster_restore_plan.hpp"

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

// Takes running instances the provider reported as the cluster's nodes
// (after the plan's snapshot: they change only nodes and placement).
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

// Asks reconcile_restored what to do with what has been observed, takes its
// snapshot, records, and carries the step out; a query or a removal comes
// back here with its answer.
void carry_out_restore(cluster_ptr self, optimizer::restore_observed seen,
                       std::shared_ptr<const providers::cluster_record> running
                       = nullptr) {
  using step = optimizer::restore_step;
  auto& st = self->state;
  auto plan = optimizer::reconcile_restored(st.snap, seen, st.deps.now_ms());
  if (plan.step == step::drop || plan.step == step::nothing)
    return;
  st.snap = std::move(plan.snap);
  if (plan.enqueue_launch) {
    auto order = order_of(*st.snap.retrying);
    st.launches.push_back({std::move(*order), caf::response_promise{}});
  }
  auto kind = plan.record_kind;
  switch (plan.step) {
    case step::keep:
      return;
    case step::record_lost:
      persist(self, {cluster_event(st, kind)}, [] {});
      return;
    case step::resume_stop:
      do_stop(self, caf::response_promise{}, stop_cause::restart_resume);
      return;
    case step::resume_teardown:
      do_down(self, caf::response_promise{}, stop_cause::restart_resume);
      return;
    case step::query: {
      seen.queried_phase = st.snap.phase;
      query_instances(self, provider_of(self),
                      [=](result<providers::cluster_record> r) mutable {
                        seen.all_running = all_running(r);
                        carry_out_restore(
                          self, seen,
                          *seen.all_running
                            ? std::make_shared<providers::cluster_record>(*r)
                            : nullptr);
                      });
      return;
    }
    case step::remove_attempt:
      remove_interrupted_attempt(self, [=]() mutable {
        seen.attempt_removed = true;
        carry_out_restore(self, seen);
      });
      return;
    case step::resume_rounds:
      persist(
        self,
        {cluster_event(st, kind,
                       map_writer{2}
                         .add("retry_at_ms", st.snap.retrying->retry_at_ms)
                         .add("attempts", st.snap.attempts)
                         .bytes())},
        [=] { next_round(self); });
      return;
    case step::adopt_launch:
      adopt_instances(self, *running);
      persist(self, {cluster_event(st, kind)}, [=] {
        process_launches(self);
        check_autostop(self);
      });
      return;
    case step::adopt_up: {
      adopt_instances(self, *running);
      auto resume = [=] {
        reattach_jobs(self);
        schedule(self);
        check_autostop(self);
      };
      if (!kind.empty())
        persist(self, {cluster_event(st, kind)}, resume);
      else
        resume();
      return;
    }
    case step::end_jobs_lost:
      end_all_jobs(self, "the cluster's instances are gone", [=] {
        persist(self, {cluster_event(self->state, kind)}, [] {});
      });
      return;
    default:
      return;
  }
}

} // namespace

void restore_cluster(cluster_ptr self) {
  auto& st = self->state;
  // Finished jobs keep only their summary; pending ones re-enter the queue
  // in submission order.
  for (const auto& [id, job] : st.jobs)
    if (job.status == "PENDING")
      st.pending.push_back(id);
  optimizer::restore_observed seen;
  if (st.snap.phase == cluster_phase::provisioning && st.snap.retrying) {
    // A --retry-until-up launch: only one that reached a provider is asked.
    seen.provider_known
      = !st.snap.placement.provider.empty() && provider_of(self) != nullptr;
    if (auto order = order_of(*st.snap.retrying); !order)
      seen.unreadable_launch = describe(order.error()).message;
  } else if (!(st.snap.phase == cluster_phase::provisioning
               && st.snap.placement.provider.empty())) {
    seen.provider_known = provider_of(self) != nullptr;
  }
  carry_out_restore(self, std::move(seen));
}

} // namespace sky::actors::cluster_detail
