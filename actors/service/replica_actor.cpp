#include "actors/service/replica_actor.hpp"

#include "actors/cluster/cluster_registry.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

namespace rev = optimizer::replica_event;
using optimizer::replica_status;

std::string label(const replica_ptr self) {
  const auto& s = self->state.snap;
  return "service " + s.service + " replica " + std::to_string(s.r.id);
}

void next_event(replica_ptr self);
void carry_out(replica_ptr self, const optimizer::replica_decision& d);
void start_probing(replica_ptr self);

// Appends until durable: a replica must not act on an unrecorded change.
void append(replica_ptr self, std::vector<event_draft> drafts,
            std::function<void()> then) {
  self
    ->request(self->state.deps.log, timeouts::log_append, append_atom_v, drafts)
    .then([=](uint64_t) { then(); },
          [=](caf::error& err) {
            logger("serve")->error("{}: recording failed ({}); retrying",
                                   label(self), describe(err).message);
            self->state.retry_append = [=] { append(self, drafts, then); };
            self->delayed_send(self, timeouts::record_retry, flush_atom_v);
          });
}

void record(replica_ptr self, optimizer::replica_snapshot next,
            std::function<void()> then) {
  auto& st = self->state;
  st.recording = true;
  auto kind = status_event_kind("replica", optimizer::to_string(next.r.status));
  append(self, {replica_event(next, kind)}, [=] {
    auto& s = self->state;
    s.snap = next;
    s.recording = false;
    self->send(s.service, replica_atom_v, s.snap);
    then();
    next_event(self);
  });
}

// A change worth a record: one a restart must know, or one users see in
// `serve status` as a new status. A failed probe of a STARTING replica
// (one a second while it loads its model) only updates the reason in
// memory; it goes out with the next record.
bool significant(const optimizer::replica& a, const optimizer::replica& b) {
  return a.status != b.status || a.cluster_left != b.cluster_left
         || a.endpoint != b.endpoint || a.infra != b.infra || a.cause != b.cause
         || a.first_ready_ms != b.first_ready_ms;
}

void decide(replica_ptr self, const optimizer::replica_event_t& ev) {
  auto& st = self->state;
  auto d = optimizer::decide_replica(st.snap.r, ev, st.probe, st.deps.now_ms());
  if (!d.ignored.empty()) {
    logger("serve")->debug("{}: {}", label(self), d.ignored);
    next_event(self);
    return;
  }
  if (!significant(st.snap.r, d.next)
      && d.action == optimizer::replica_action::none) {
    st.snap.r = d.next;
    carry_out(self, d);
    next_event(self);
    return;
  }
  if (d.next.status != st.snap.r.status)
    logger("serve")->info("{}: {}{}", label(self),
                          optimizer::to_string(d.next.status),
                          d.next.reason.empty() ? "" : ": " + d.next.reason);
  auto next = st.snap;
  next.r = d.next;
  if (d.action == optimizer::replica_action::remove_record) {
    // The record goes with this event; nothing is left to carry out.
    st.recording = true;
    append(self, {replica_event(next, "replica.removed", snapshot_op::erase)},
           [=] {
             auto& s = self->state;
             s.recording = false;
             if (s.snap.port != 0)
               s.deps.replica_ports->release(s.snap.port);
             self->send(s.service, replica_atom_v, s.snap.r.id);
             self->quit();
           });
    return;
  }
  record(self, next, [=] { carry_out(self, d); });
}

void next_event(replica_ptr self) {
  auto& st = self->state;
  if (st.recording || st.queue.empty())
    return;
  auto ev = std::move(st.queue.front());
  st.queue.pop_front();
  decide(self, ev);
}

void feed(replica_ptr self, optimizer::replica_event_t ev) {
  self->state.queue.push_back(std::move(ev));
  next_event(self);
}

// ---- launch ----

void on_launched(replica_ptr self, uint64_t epoch) {
  auto& st = self->state;
  if (epoch != st.epoch)
    return;
  auto cluster = st.snap.r.cluster;
  protocol::clusters_request req{{cluster}, false};
  self->request(st.deps.clusters, timeouts::quick_request, status_atom_v, req)
    .then(
      [=](protocol::status_reply& reply) {
        auto& s = self->state;
        std::string host = "127.0.0.1";
        std::string infra;
        for (const auto& c : reply.clusters)
          if (c.name == cluster) {
            if (!c.head_ip.empty())
              host = c.head_ip;
            infra = c.placement.infra();
            s.snap.resources = c.placement.resources_text();
            s.snap.r.spot = c.placement.use_spot;
          }
        feed(self,
             rev::launched{host + ":" + std::to_string(s.snap.port), infra});
      },
      [=](caf::error& err) {
        feed(self, rev::launch_failed{"its cluster vanished after launching: "
                                      + describe(err).message});
      });
}

void launch(replica_ptr self) {
  auto& st = self->state;
  auto epoch = ++st.epoch;
  launch_order lo;
  lo.task = replica_task(st.task, st.snap);
  lo.run_setup = true;
  lo.task_id = replica_task_id(st.snap.service, st.snap.r.id);
  lo.owner = service_owner(st.snap.service);
  st.launching = true;
  self
    ->request(st.deps.clusters, caf::infinite, launch_atom_v, st.snap.r.cluster,
              std::move(lo))
    .then(
      [=](uint64_t) {
        self->state.launching = false;
        on_launched(self, epoch);
      },
      [=](caf::error& err) {
        self->state.launching = false;
        if (epoch != self->state.epoch)
          return;
        auto info = describe(err);
        feed(self, rev::launch_failed{
                     info.message
                     + (info.hint.empty() ? "" : " (" + info.hint + ")")});
      });
}

// ---- teardown ----

// A teardown that did not remove the cluster: tried again after a pause,
// up to teardown_attempts, then the replica is FAILED_CLEANUP.
void teardown_failed_once(replica_ptr self, uint64_t epoch,
                          const std::string& why) {
  auto& s = self->state;
  if (++s.teardown_tries >= s.deps.settings.teardown_attempts) {
    s.tearing_down = false;
    feed(self, rev::teardown_failed{why});
    return;
  }
  logger("serve")->warn("{}: teardown of {} failed ({}); retrying", label(self),
                        s.snap.r.cluster, why);
  self->delayed_send(self, s.deps.settings.teardown_retry, retry_atom_v, epoch);
}

void tear_down(replica_ptr self) {
  auto& st = self->state;
  ++st.epoch; // no more probes
  st.probing = false;
  st.tearing_down = true;
  auto epoch = st.epoch;
  protocol::clusters_request req{{st.snap.r.cluster}, false};
  self
    ->request(st.deps.clusters, caf::infinite, down_atom_v, req,
              service_owner(st.snap.service))
    .then(
      [=](protocol::outcomes_reply& reply) {
        auto& s = self->state;
        if (epoch != s.epoch)
          return;
        bool gone = reply.results.empty() || reply.results.front().ok
                    || reply.results.front().code == errc::not_found;
        if (gone) {
          s.tearing_down = false;
          s.teardown_tries = 0;
          feed(self, rev::torn_down{});
          return;
        }
        teardown_failed_once(self, epoch, reply.results.front().message);
      },
      [=](caf::error& err) {
        if (epoch == self->state.epoch)
          teardown_failed_once(self, epoch, describe(err).message);
      });
}

// ---- probes ----

probe_request probe_of(const replica_ptr self) {
  const auto& st = self->state;
  probe_request p;
  const auto& ep = st.snap.r.endpoint;
  auto colon = ep.rfind(':');
  p.host = ep.substr(0, colon);
  p.port = st.snap.port;
  if (st.task.service) {
    const auto& rp = st.task.service->readiness_probe;
    p.path = rp.path;
    p.post_data = rp.post_data;
    p.headers = rp.headers;
    p.timeout = std::chrono::seconds(std::max(1, rp.timeout_seconds));
  }
  return p;
}

void schedule_probe(replica_ptr self, std::chrono::milliseconds after) {
  self->delayed_send(self, after, probe_atom_v, self->state.epoch);
}

// The replica's job on its cluster (found by its task id), nullopt when
// the cluster has none; `lost` when the cluster itself is gone or did not
// answer. Answers of an older epoch are dropped.
void find_job(replica_ptr self,
              std::function<void(std::optional<job_summary>)> found,
              std::function<void(const caf::error&)> lost) {
  auto& st = self->state;
  auto epoch = st.epoch;
  auto task_id = replica_task_id(st.snap.service, st.snap.r.id);
  self
    ->request(st.deps.clusters, timeouts::quick_request, queue_atom_v,
              protocol::queue_request{{st.snap.r.cluster}})
    .then(
      [=](protocol::queue_reply& q) {
        if (epoch != self->state.epoch)
          return;
        for (auto& j : q.jobs)
          if (j.task_id == task_id) {
            found(std::move(j));
            return;
          }
        found(std::nullopt);
      },
      [=](caf::error& err) {
        if (epoch == self->state.epoch)
          lost(err);
      });
}

// Whether the replica's job still runs: a dead process fails the replica
// now rather than after its probe window.
void check_job(replica_ptr self) {
  find_job(
    self,
    [=](std::optional<job_summary> j) {
      if (!j)
        return;
      auto status = job_status_from(j->status);
      if (status && is_terminal(*status))
        feed(self, rev::job_ended{
                     j->status, j->exit_code
                                  ? "exit code " + std::to_string(*j->exit_code)
                                  : ""});
    },
    [=](const caf::error& err) {
      if (describe(err).code == errc::not_found)
        feed(self, rev::job_ended{"LOST", "its cluster is gone"});
    });
}

void probe_now(replica_ptr self) {
  auto& st = self->state;
  if (st.probe_in_flight || !st.deps.prober)
    return;
  st.probe_in_flight = true;
  auto epoch = st.epoch;
  caf::actor me{self};
  st.deps.prober->probe(probe_of(self), [me, epoch](probe_result r) {
    caf::anon_send(me, probe_atom_v, epoch, std::move(r));
  });
}

void on_probe(replica_ptr self, uint64_t epoch, probe_result& r) {
  auto& st = self->state;
  st.probe_in_flight = false;
  if (epoch != st.epoch || !st.probing)
    return;
  bool passed = r.http_status >= 200 && r.http_status < 300;
  if (r.http_status != 0)
    feed(self, rev::probe_answered{r.http_status, r.what});
  else
    feed(self, rev::probe_unanswered{r.what + ": " + r.error});
  if (!passed || ++st.probes % 10 == 0)
    check_job(self);
}

void start_probing(replica_ptr self) {
  auto& st = self->state;
  if (st.probing)
    return;
  st.probing = true;
  ++st.epoch;
  probe_now(self);
  schedule_probe(self, st.deps.settings.probe_interval);
}

void carry_out(replica_ptr self, const optimizer::replica_decision& d) {
  auto& st = self->state;
  using optimizer::replica_action;
  if (d.action == replica_action::tear_down) {
    if (st.launching)
      return; // the launch answers first, then `launched` tears down
    st.probing = false;
    ++st.epoch;
    if (d.drain) {
      // Out of rotation already (the service routes READY replicas only);
      // requests in flight get the drain period to finish.
      self->delayed_send(self, st.deps.settings.drain, retry_atom_v, st.epoch);
      st.tearing_down = true;
      return;
    }
    tear_down(self);
    return;
  }
  switch (st.snap.r.status) {
    case replica_status::provisioning:
      if (!st.launching && !st.tearing_down)
        launch(self);
      return;
    case replica_status::starting:
    case replica_status::ready:
    case replica_status::not_ready:
      start_probing(self);
      return;
    default:
      if (!st.snap.r.cluster_left && !st.tearing_down)
        self->quit(); // a failure whose cluster is gone: the record stays
      return;
  }
}

// skyd stopped while the replica launched: carry on with the cluster when
// its job is there (launching again would run a second copy), else launch
// again (the registry reuses what the interrupted launch left, or starts
// over).
void adopt_or_relaunch(replica_ptr self) {
  ++self->state.epoch;
  auto epoch = self->state.epoch;
  find_job(
    self,
    [=](std::optional<job_summary> j) {
      if (j)
        on_launched(self, epoch);
      else
        launch(self);
    },
    [=](const caf::error&) { launch(self); });
}

void resume(replica_ptr self) {
  auto& st = self->state;
  switch (st.snap.r.status) {
    case replica_status::pending:
      feed(self, rev::launch_started{});
      return;
    case replica_status::provisioning:
      adopt_or_relaunch(self);
      return;
    case replica_status::starting:
    case replica_status::ready:
    case replica_status::not_ready:
      start_probing(self);
      return;
    case replica_status::failed_cleanup:
      self->quit(); // the user's `serve down` tries again
      return;
    default:
      if (st.snap.r.cluster_left)
        tear_down(self);
      else
        self->quit();
      return;
  }
}

} // namespace

std::string replica_task_id(const std::string& service, uint64_t id) {
  return "sky-serve-" + service + "-" + std::to_string(id);
}

task::task_spec replica_task(const task::task_spec& version_task,
                             const optimizer::replica_snapshot& r) {
  auto t = version_task;
  t.service.reset();
  auto set = [&](const std::string& name, const std::string& value) {
    for (auto& v : t.envs)
      if (v.name == name) {
        v.value = value;
        return;
      }
    t.envs.push_back({name, value});
  };
  set("SKYPILOT_SERVE_REPLICA_ID", std::to_string(r.r.id));
  set("SKYD_REPLICA_PORT", std::to_string(r.port));
  t.resources.use_spot = r.r.spot;
  return t;
}

caf::behavior replica_actor(replica_ptr self, service_deps deps,
                            caf::actor service,
                            optimizer::replica_snapshot snap,
                            task::task_spec task) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.service = std::move(service);
  st.snap = std::move(snap);
  st.task = std::move(task);
  if (st.task.service) {
    const auto& svc = *st.task.service;
    st.probe.initial_delay_ms
      = int64_t{svc.readiness_probe.initial_delay_seconds} * 1000;
    st.probe.failure_window_ms
      = int64_t{svc.consecutive_failure_threshold_timeout_seconds} * 1000;
  }
  if (st.snap.port != 0)
    st.deps.replica_ports->hold(st.snap.port);
  return {
    [=](start_atom) { resume(self); },
    [=](down_atom, std::string& cause, std::string& reason) {
      auto c = optimizer::parse_teardown_cause(cause).value_or(
        optimizer::teardown_cause::user);
      feed(self, rev::teardown_requested{c, reason});
    },
    [=](node_event_atom, providers::provider_event& ev) {
      auto& s = self->state;
      if (ev.cluster != s.snap.r.cluster)
        return;
      auto reason
        = std::string{ev.what == providers::provider_event::kind::preempted
                        ? "preempted"
                        : "lost node " + std::to_string(ev.rank)};
      if (!ev.reason.empty())
        reason += " (" + ev.reason + ")";
      feed(self, rev::preempted{reason});
    },
    [=](caf::get_atom) { return self->state.snap; },
    [=](probe_atom, uint64_t epoch) {
      auto& s = self->state;
      if (epoch != s.epoch || !s.probing)
        return;
      probe_now(self);
      schedule_probe(self, s.deps.settings.probe_interval);
    },
    [=](probe_atom, uint64_t epoch, probe_result& r) {
      on_probe(self, epoch, r);
    },
    [=](retry_atom, uint64_t epoch) {
      if (epoch == self->state.epoch)
        tear_down(self);
    },
    [=](flush_atom) {
      auto retry = std::move(self->state.retry_append);
      self->state.retry_append = nullptr;
      if (retry)
        retry();
    },
  };
}

} // namespace sky::actors
