#include "actors/cluster/cluster_actor.hpp"

#include <iterator>

#include "actors/cluster/cluster_internal.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"
#include "optimizer/cluster/autostop.hpp"

namespace sky::actors {

namespace cluster_detail {

event_draft cluster_event(const cluster_state& st, const std::string& kind,
                          std::string fields, bool erase) {
  event_draft d;
  d.entity = cluster_entity(st.snap.name);
  d.kind = kind;
  if (fields.empty())
    fields = map_writer{3}
               .add("status", st.snap.status)
               .add("phase", std::string{to_string(st.snap.phase)})
               .add("infra", st.snap.placement.infra())
               .bytes();
  d.fields = std::move(fields);
  if (erase) {
    d.snapshot = snapshot_op::erase;
  } else {
    d.snapshot = snapshot_op::put;
    d.snapshot_value = encode(st.snap);
  }
  return d;
}

void persist(cluster_ptr self, std::vector<event_draft> drafts,
             std::function<void()> then,
             std::function<void(const caf::error&)> on_error) {
  auto& deferred = self->state.deferred;
  if (!deferred.empty()) {
    drafts.insert(drafts.begin(), std::make_move_iterator(deferred.begin()),
                  std::make_move_iterator(deferred.end()));
    deferred.clear();
  }
  self
    ->request(self->state.deps.log, timeouts::log_append, append_atom_v,
              std::move(drafts))
    .then(
      [=](uint64_t) {
        self->state.recorded = true;
        then();
        // Every state change is recorded: after its follow-up ran, the
        // summary is current.
        publish_summary(self);
      },
      [=](caf::error& err) {
        logger("clusters")
          ->error("cluster {}: recording failed: {}", self->state.snap.name,
                  describe(err).message);
        if (on_error)
          on_error(err);
        publish_summary(self);
      });
}

void publish_summary(cluster_ptr self) {
  auto& st = self->state;
  if (!st.registry)
    return;
  auto summary = summary_of(st);
  auto bytes = encode(summary);
  if (bytes == st.published_summary)
    return;
  st.published_summary = std::move(bytes);
  self->send(st.registry, summary_atom_v, std::move(summary));
}

void progress(cluster_ptr self, const std::string& stage,
              const std::string& message) {
  if (self->state.watcher)
    self->send(self->state.watcher, progress_atom_v, stage, message);
}

cluster_status status_of(const cluster_state& st) {
  return optimizer::status_of(st.snap);
}

void set_status(cluster_state& st, cluster_status s) {
  st.snap.status = std::string{to_string(s)};
}

bool idle(const cluster_state& st) {
  return st.pending.empty() && st.job_actors.empty();
}

cluster_summary summary_of(const cluster_state& st) {
  cluster_summary s;
  s.name = st.snap.name;
  s.status = st.snap.status;
  s.placement = st.snap.placement;
  s.autostop = st.snap.autostop;
  s.launched_at_ms = st.snap.launched_at_ms;
  if (st.snap.autostop.enabled() && st.snap.idle_since_ms > 0
      && status_of(st) == cluster_status::up)
    s.autostop_at_ms
      = st.snap.idle_since_ms + int64_t{st.snap.autostop.idle_minutes} * 60'000;
  if (!st.snap.nodes.empty())
    s.head_ip = st.snap.nodes.front().ip;
  s.reason = st.snap.reason;
  s.jobs_total = st.jobs.size();
  s.jobs_active = st.pending.size() + st.job_actors.size();
  s.owner = st.snap.owner.value_or("");
  return s;
}

void check_autostop(cluster_ptr self) {
  auto& st = self->state;
  if (st.snap.phase != cluster_phase::none)
    return; // an operation is in flight
  auto now = st.deps.now_ms();
  auto d = optimizer::decide_autostop(status_of(st), st.snap.autostop,
                                      st.snap.idle_since_ms, now);
  ++st.autostop_epoch;
  if (d.action == optimizer::autostop_action::none) {
    if (d.check_at_ms)
      self->delayed_send(self, std::chrono::milliseconds(*d.check_at_ms - now),
                         tick_atom_v, st.autostop_epoch);
    return;
  }
  auto why = optimizer::stop_cause_text(
    stop_cause::autostop, d.action == optimizer::autostop_action::down,
    st.snap.autostop.idle_minutes);
  logger("clusters")
    ->info("cluster {}: {} after being {}", st.snap.name,
           d.action == optimizer::autostop_action::down ? "tearing down"
                                                        : "stopping",
           why);
  if (d.action == optimizer::autostop_action::down)
    do_down(self, caf::response_promise{}, stop_cause::autostop);
  else
    do_stop(self, caf::response_promise{}, stop_cause::autostop);
}

void finish_op(cluster_ptr self, const caf::error& err) {
  auto waiters = std::move(self->state.op_waiters);
  self->state.op_waiters.clear();
  for (auto& w : waiters) {
    if (!w.pending())
      continue;
    if (err)
      w.deliver(err);
    else
      w.deliver(self->state.snap.status);
  }
}

} // namespace cluster_detail

using namespace cluster_detail;

caf::behavior cluster_actor(cluster_ptr self, cluster_deps deps,
                            caf::actor registry,
                            std::optional<cluster_restore> restore,
                            std::string name) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.registry = std::move(registry);
  st.snap.name = std::move(name);
  if (restore) {
    st.snap = std::move(restore->snapshot);
    st.recorded = true;
    for (auto& j : restore->jobs) {
      auto id = j.job_id;
      st.jobs.emplace(id, std::move(j));
    }
    self->send(self, load_atom_v);
  }
  // Job actors stop with their cluster (at skyd shutdown): their processes
  // run on and are re-attached by the next skyd.
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [id, job] : self->state.job_actors)
      self->send_exit(job, em.reason);
    self->quit(em.reason);
  });
  return {
    [=](load_atom) { restore_cluster(self); },
    [=](launch_atom, launch_order& order) {
      auto promise = self->make_response_promise();
      on_launch(self, std::move(order), promise);
      return promise;
    },
    [=](exec_atom, task::task_spec& task) -> caf::result<uint64_t> {
      auto& s = self->state;
      bool in_flight = s.snap.phase != cluster_phase::none;
      if (status_of(s) != cluster_status::up || in_flight)
        return make_error(
          errc::conflict,
          "cluster '" + s.snap.name + "' is " + s.snap.status
            + (in_flight ? " (" + std::string{to_string(s.snap.phase)} + ")"
                         : "")
            + "; exec needs an UP cluster",
          status_of(s) == cluster_status::stopped
            ? "start it first: skyctl start " + s.snap.name
            : "see skyctl status");
      auto promise = self->make_response_promise<uint64_t>();
      submit_job(self, std::move(task), false, promise);
      return promise;
    },
    // Busy clusters refuse these in decide_cluster.
    [=](stop_atom) -> caf::result<std::string> {
      auto promise = self->make_response_promise();
      do_stop(self, promise, stop_cause::user);
      return promise;
    },
    [=](start_atom) -> caf::result<std::string> {
      auto promise = self->make_response_promise();
      do_start(self, promise);
      return promise;
    },
    [=](down_atom) -> caf::result<std::string> {
      auto promise = self->make_response_promise();
      do_down(self, promise, stop_cause::user);
      return promise;
    },
    [=](autostop_atom,
        protocol::autostop_request& req) -> caf::result<std::string> {
      auto& s = self->state;
      if (!s.recorded)
        return make_error(errc::not_found,
                          "cluster '" + s.snap.name + "' does not exist");
      if (req.cancel)
        s.snap.autostop = autostop_info{};
      else
        s.snap.autostop = autostop_info{req.idle_minutes, req.down};
      auto promise = self->make_response_promise<std::string>();
      auto text = req.cancel
                    ? "Autostop cancelled for cluster '" + s.snap.name + "'."
                    : "Cluster '" + s.snap.name + "' will "
                        + (req.down ? "be torn down" : "stop") + " after "
                        + std::to_string(req.idle_minutes) + " idle minutes.";
      persist(
        self, {cluster_event(s, "cluster.autostop_set")},
        [=]() mutable {
          check_autostop(self);
          promise.deliver(text);
        },
        [=](const caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](status_atom) { return summary_of(self->state); },
    [=](queue_atom) { return queue_of(self->state); },
    [=](cancel_atom, protocol::cancel_request& req) {
      return cancel_jobs(self, req);
    },
    [=](logs_atom, uint64_t job) -> caf::result<job_log_target> {
      auto target = log_target(self, job);
      if (!target)
        return target.error();
      return std::move(*target);
    },
    [=](job_update_atom, job_snapshot& snap) {
      on_job_update(self, std::move(snap));
      publish_summary(self);
    },
    [=](retry_atom) { retry_launch(self); },
    [=](node_event_atom, providers::provider_event& ev) {
      on_node_event(self, ev);
    },
    [=](tick_atom, uint64_t epoch) {
      if (epoch == self->state.autostop_epoch)
        check_autostop(self);
    },
  };
}

} // namespace sky::actors
