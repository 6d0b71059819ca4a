#include "actors/service/service_actor.hpp"

#include <algorithm>

#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "actors/service/lb_link.hpp"
#include "actors/service/replica_actor.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

using optimizer::replica_status;
using optimizer::service_status;

const task::task_spec& latest_task(const service_ptr self) {
  const auto& s = self->state.snap;
  const auto* t = optimizer::task_of(s, s.state.latest);
  return t ? *t : s.tasks.back();
}

optimizer::autoscale_policy policy_now(const service_ptr self) {
  const auto& t = latest_task(self);
  task::replica_policy_spec spec;
  if (t.service)
    spec = t.service->replica_policy;
  return optimizer::policy_of(spec, t.resources.use_spot.value_or(false));
}

std::vector<optimizer::replica> replica_list(const service_ptr self) {
  std::vector<optimizer::replica> out;
  for (const auto& [id, r] : self->state.replicas)
    out.push_back(r.r);
  return out;
}

void replan(service_ptr self);

// Appends until durable: nothing the plan decided happens unrecorded.
void append(service_ptr self, std::vector<event_draft> drafts,
            std::function<void()> then) {
  auto& st = self->state;
  st.recording = true;
  self->request(st.deps.log, timeouts::log_append, append_atom_v, drafts)
    .then(
      [=](uint64_t) {
        self->state.recording = false;
        then();
        if (self->state.replan_wanted) {
          self->state.replan_wanted = false;
          replan(self);
        }
      },
      [=](caf::error& err) {
        logger("serve")->error("service {}: recording failed ({}); retrying",
                               self->state.snap.name, describe(err).message);
        self->state.retry_append = [=] { append(self, drafts, then); };
        self->delayed_send(self, timeouts::record_retry, flush_atom_v);
      });
}

std::string lb_host(const service_ptr self) {
  const auto& a = self->state.deps.settings.lb_bind_address;
  return a == "0.0.0.0" || a.empty() ? "127.0.0.1" : a;
}

void push_routes(service_ptr self, std::vector<std::string> endpoints) {
  auto& st = self->state;
  if (!st.deps.lb)
    return;
  st.routed = endpoints;
  lb::routes_request req;
  req.service = st.snap.name;
  req.bind_address = st.deps.settings.lb_bind_address;
  req.port = st.snap.lb_port;
  const auto& t = latest_task(self);
  if (t.service)
    req.balancing = lb::parse_policy(t.service->load_balancing_policy)
                      .value_or(lb::policy::least_load);
  req.endpoints = std::move(endpoints);
  req.queue_timeout_ms = st.deps.settings.lb_queue_timeout_ms;
  req.generation = ++st.generation;
  self->request(st.deps.lb, timeouts::quick_request, lb_routes_atom_v, req)
    .then(
      [=](lb::routes_ack& ack) {
        auto& s = self->state;
        s.lb_listening = ack.listening;
        if (ack.listening)
          return;
        logger("serve")->error("service {}: the load balancer cannot "
                               "listen on port {}: {}",
                               s.snap.name, s.snap.lb_port, ack.error);
        // Another program took the port: move to a free one (the old one
        // stays held, so it is not handed out again) and record it.
        if (ack.error.find("in use") == std::string::npos)
          return;
        if (auto port = s.deps.lb_ports->take()) {
          s.snap.lb_port = *port;
          s.dirty = true;
          s.routed.reset();
          replan(self);
        }
      },
      [=](caf::error& err) {
        logger("serve")->warn("service {}: pushing routes failed ({})",
                              self->state.snap.name, describe(err).message);
        // The link re-pushes what it was last given after it restarts the
        // load balancer; ask again at the next plan.
        self->state.routed.reset();
      });
}

void spawn_replica(service_ptr self, const optimizer::replica_snapshot& r) {
  auto& st = self->state;
  const auto* task = optimizer::task_of(st.snap, r.r.version);
  if (task == nullptr) {
    logger("serve")->error("service {}: replica {} runs version {} that is "
                           "not recorded",
                           st.snap.name, r.r.id, r.r.version);
    return;
  }
  auto a = self->spawn(replica_actor, st.deps, caf::actor{self}, r, *task);
  self->monitor(a);
  st.actors[r.r.id] = a;
  self->send(a, start_atom_v);
}

bool needs_actor(const optimizer::replica& r) {
  return (optimizer::is_live(r) || r.cluster_left)
         && r.status != replica_status::failed_cleanup;
}

void finish(service_ptr self) {
  auto& st = self->state;
  st.finished = true;
  std::vector<event_draft> drafts;
  for (const auto& [id, r] : st.replicas)
    drafts.push_back(replica_event(r, "replica.removed", snapshot_op::erase));
  auto d = service_event(st.snap, "service.down");
  d.snapshot = snapshot_op::erase;
  d.snapshot_value.clear();
  drafts.push_back(d);
  append(self, drafts, [=] {
    auto& s = self->state;
    for (const auto& [id, r] : s.replicas)
      if (r.port != 0)
        s.deps.replica_ports->release(r.port);
    auto done = [=] {
      auto& s2 = self->state;
      if (s2.snap.lb_port != 0)
        s2.deps.lb_ports->release(s2.snap.lb_port);
      logger("serve")->info("service {} is down", s2.snap.name);
      for (auto& p : s2.down_promises)
        p.deliver(protocol::serve_outcome{s2.snap.name, true, "down"});
      self->send(s2.registry, down_atom_v, s2.snap.name);
      self->quit();
    };
    if (!s.deps.lb) {
      done();
      return;
    }
    self
      ->request(s.deps.lb, timeouts::quick_request, lb_remove_atom_v,
                s.snap.name)
      .then([=](bool) { done(); }, [=](caf::error&) { done(); });
  });
}

// `serve down` is complete when no replica actor runs; a cluster that could
// not be torn down keeps the service unless --purge.
void check_finished(service_ptr self) {
  auto& st = self->state;
  if (!st.snap.state.shutting_down || !st.actors.empty() || st.finished)
    return;
  std::vector<std::string> stuck;
  for (const auto& [id, r] : st.replicas)
    if (r.r.cluster_left)
      stuck.push_back(r.r.cluster);
  if (!stuck.empty() && !st.purge) {
    std::string list;
    for (const auto& c : stuck)
      list += (list.empty() ? "" : ", ") + c;
    for (auto& p : st.down_promises)
      p.deliver(protocol::serve_outcome{
        st.snap.name, false,
        "cluster(s) " + list
          + " could not be torn down; remove them, then run skyctl serve "
            "down --purge "
          + st.snap.name});
    st.down_promises.clear();
    return;
  }
  finish(self);
}

std::string kind_of(const optimizer::service_snapshot& before,
                    const optimizer::service_snapshot& after, bool launched) {
  if (after.state.latest < before.state.latest)
    return "service.rolled_back";
  if (after.status != before.status)
    return status_event_kind("service", optimizer::to_string(after.status));
  if (launched)
    return "service.scaled";
  return "service.changed";
}

void replan(service_ptr self) {
  auto& st = self->state;
  if (st.recording) {
    st.replan_wanted = true;
    return;
  }
  if (st.finished)
    return;
  auto now = st.deps.now_ms();
  auto policy = policy_now(self);
  auto list = replica_list(self);
  auto plan = optimizer::plan_service(
    st.snap.state, list, policy, st.snap.scaler, st.deps.settings.limits, now);
  auto next = st.snap;
  std::vector<event_draft> drafts;
  if (plan.roll_back_to) {
    logger("serve")->warn("service {}: {}", st.snap.name, plan.why);
    next.state.latest = *plan.roll_back_to;
    next.reason = plan.why;
    next.state.launch_failures = 0;
    drafts.push_back(service_event(next, kind_of(st.snap, next, false)));
    append(self, drafts, [=] {
      self->state.snap = next;
      self->state.dirty = false;
      replan(self);
    });
    return;
  }
  if (plan.frozen)
    next.reason = plan.why;
  else if (next.status == service_status::failed)
    next.reason.clear();
  next.status = plan.status;
  if (plan.status == service_status::ready && next.ready_since_ms == 0)
    next.ready_since_ms = now;
  std::vector<optimizer::replica_snapshot> fresh;
  for (const auto& l : plan.launches) {
    auto port = st.deps.replica_ports->take();
    if (!port) {
      logger("serve")->error("service {}: no free replica port in "
                             "serve.replica_ports; widen the range",
                             st.snap.name);
      break;
    }
    optimizer::replica_snapshot r;
    r.service = st.snap.name;
    r.r.id = next.next_replica_id++;
    r.r.version = l.version;
    r.r.spot = l.spot;
    r.r.cluster = optimizer::replica_cluster_name(st.snap.name, r.r.id);
    r.r.status_since_ms = now;
    r.port = *port;
    r.launched_at_ms = now;
    fresh.push_back(r);
    drafts.push_back(replica_event(r, "replica.pending", snapshot_op::put));
  }
  for (auto id : plan.forget)
    if (auto it = st.replicas.find(id); it != st.replicas.end())
      drafts.push_back(
        replica_event(it->second, "replica.forgotten", snapshot_op::erase));
  bool changed = st.dirty || !fresh.empty() || next.status != st.snap.status
                 || next.reason != st.snap.reason
                 || next.ready_since_ms != st.snap.ready_since_ms;
  if (changed)
    drafts.insert(drafts.begin(),
                  service_event(next, kind_of(st.snap, next, !fresh.empty())));
  auto act = [=] {
    auto& s = self->state;
    if (s.snap.status != next.status)
      logger("serve")->info("service {}: {}", next.name,
                            optimizer::to_string(next.status));
    s.snap = next;
    s.dirty = false;
    for (auto id : plan.forget)
      s.replicas.erase(id);
    for (const auto& r : fresh) {
      s.replicas[r.r.id] = r;
      spawn_replica(self, r);
    }
    for (const auto& rm : plan.removals) {
      if (!s.removing.insert(rm.id).second)
        continue;
      auto it = s.actors.find(rm.id);
      if (it != s.actors.end())
        self->send(it->second, down_atom_v,
                   std::string{optimizer::to_string(rm.cause)},
                   std::string{optimizer::to_string(rm.cause)});
    }
    s.routed_versions = plan.routed_versions;
    auto endpoints = optimizer::routed_endpoints(replica_list(self), plan);
    if (!s.routed || *s.routed != endpoints)
      push_routes(self, endpoints);
    check_finished(self);
  };
  if (drafts.empty())
    act();
  else
    append(self, drafts, act);
}

// Facts of a replica's change that the service keeps: a version that was
// ready once (blue-green and rollback read it), when the service first
// served, and the launch backoff.
void on_replica(service_ptr self, optimizer::replica_snapshot& r) {
  auto& st = self->state;
  auto before = st.replicas.find(r.r.id);
  auto was = before == st.replicas.end() ? replica_status::pending
                                         : before->second.r.status;
  st.replicas[r.r.id] = r;
  if (r.r.status != was) {
    if (r.r.status == replica_status::ready)
      for (auto& v : st.snap.state.versions)
        if (v.version == r.r.version && !v.ever_ready) {
          v.ever_ready = true;
          st.dirty = true;
        }
    if (r.r.version == st.snap.state.latest) {
      if (r.r.status == replica_status::starting
          && st.snap.state.launch_failures != 0) {
        st.snap.state.launch_failures = 0;
        st.dirty = true;
      }
      if (r.r.status == replica_status::failed_provision) {
        ++st.snap.state.launch_failures;
        st.snap.state.last_launch_failure_ms = st.deps.now_ms();
        st.dirty = true;
      }
    }
  }
  replan(self);
}

void autoscale(service_ptr self) {
  auto& st = self->state;
  auto now = st.deps.now_ms();
  st.qps = st.rate.qps(now);
  auto scaler
    = optimizer::autoscale(policy_now(self), st.snap.scaler, st.qps, now);
  if (!(scaler == st.snap.scaler)) {
    if (scaler.target != st.snap.scaler.target)
      logger("serve")->info("service {}: autoscaler target {} -> {} at "
                            "{:.2f} qps",
                            st.snap.name, st.snap.scaler.target, scaler.target,
                            st.qps);
    st.snap.scaler = scaler;
    st.dirty = true;
  }
}

protocol::serve_outcome update(service_ptr self,
                               protocol::serve_up_request& req,
                               optimizer::update_mode mode) {
  auto& st = self->state;
  optimizer::service_version v;
  v.version = 1;
  for (const auto& old : st.snap.state.versions)
    v.version = std::max(v.version, old.version + 1);
  v.min_replicas
    = req.task.service ? req.task.service->replica_policy.min_replicas : 1;
  st.snap.state.versions.push_back(v);
  st.snap.tasks.push_back(std::move(req.task));
  st.snap.state.latest = v.version;
  st.snap.state.mode = mode;
  st.snap.state.launch_failures = 0;
  st.snap.reason.clear();
  // A new version starts from its own policy's count (no hysteresis).
  st.snap.scaler = optimizer::initial_autoscaler(policy_now(self), st.qps);
  return {st.snap.name, true, "version " + std::to_string(v.version)};
}

} // namespace

caf::behavior service_actor(service_ptr self, service_deps deps,
                            caf::actor registry,
                            optimizer::service_snapshot snap,
                            std::vector<optimizer::replica_snapshot> replicas) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.registry = std::move(registry);
  st.snap = std::move(snap);
  st.rate = optimizer::request_rate{st.deps.settings.qps_window_ms};
  for (auto& r : replicas)
    st.replicas[r.r.id] = std::move(r);
  if (st.snap.lb_port != 0)
    st.deps.lb_ports->hold(st.snap.lb_port);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& s = self->state;
    for (auto it = s.actors.begin(); it != s.actors.end(); ++it) {
      if (it->second.address() != dm.source)
        continue;
      auto id = it->first;
      s.actors.erase(it);
      auto rec = s.replicas.find(id);
      if (dm.reason && dm.reason != caf::exit_reason::user_shutdown
          && rec != s.replicas.end() && needs_actor(rec->second.r)) {
        // It died abnormally: a new one carries on from its last record.
        logger("serve")->error("service {}: replica {} actor died ({}); "
                               "restarting it",
                               s.snap.name, id, caf::to_string(dm.reason));
        s.removing.erase(id);
        spawn_replica(self, rec->second);
        return;
      }
      check_finished(self);
      return;
    }
  });
  return {
    [=](start_atom) {
      auto& s = self->state;
      for (const auto& [id, r] : s.replicas)
        if (needs_actor(r.r))
          spawn_replica(self, r);
      self->delayed_send(self, s.deps.settings.decision_interval, tick_atom_v);
      replan(self);
    },
    [=](tick_atom) {
      auto& s = self->state;
      if (s.finished)
        return;
      autoscale(self);
      replan(self);
      self->delayed_send(self, s.deps.settings.decision_interval, tick_atom_v);
    },
    [=](replica_atom, optimizer::replica_snapshot& r) { on_replica(self, r); },
    [=](replica_atom, uint64_t id) {
      auto& s = self->state;
      s.replicas.erase(id);
      s.removing.erase(id);
      replan(self);
    },
    [=](lb_report_atom, lb::service_report& rep) {
      auto& s = self->state;
      for (const auto& [second, count] : rep.requests)
        s.rate.add(second * 1000, count);
    },
    [=](node_event_atom, providers::provider_event& ev) {
      for (const auto& [id, a] : self->state.actors)
        self->send(a, node_event_atom_v, ev);
    },
    [=](update_atom, protocol::serve_up_request& req,
        std::string& mode) -> caf::result<protocol::service_row> {
      auto& s = self->state;
      if (s.snap.state.shutting_down)
        return make_error(errc::conflict,
                          "service '" + s.snap.name + "' is shutting down",
                          "wait for skyctl serve down to finish, then serve "
                          "up again");
      auto m = optimizer::parse_update_mode(mode.empty() ? "rolling" : mode);
      if (!m)
        return make_error(errc::invalid_argument,
                          "--mode '" + mode + "' is not an update mode",
                          "use --mode rolling or --mode blue_green");
      update(self, req, *m);
      auto promise = self->make_response_promise<protocol::service_row>();
      auto next = s.snap;
      append(self, {service_event(next, "service.updated")}, [=]() mutable {
        auto& s2 = self->state;
        logger("serve")->info("service {}: version {} ({})", s2.snap.name,
                              s2.snap.state.latest,
                              optimizer::to_string(s2.snap.state.mode));
        s2.dirty = false;
        std::vector<optimizer::replica_snapshot> rs;
        for (const auto& [id, r] : s2.replicas)
          rs.push_back(r);
        promise.deliver(service_row_of(s2.snap, rs, s2.qps, lb_host(self),
                                       s2.routed_versions));
        replan(self);
      });
      return promise;
    },
    [=](down_atom, bool purge) {
      auto& s = self->state;
      auto promise = self->make_response_promise();
      s.down_promises.push_back(promise);
      s.purge = s.purge || purge;
      if (s.snap.state.shutting_down) {
        replan(self);
        check_finished(self);
        return promise;
      }
      s.snap.state.shutting_down = true;
      s.dirty = true;
      replan(self);
      return promise;
    },
    [=](down_atom, uint64_t id) -> caf::result<protocol::serve_outcome> {
      auto& s = self->state;
      auto rec = s.replicas.find(id);
      if (rec == s.replicas.end())
        return make_error(errc::not_found,
                          "service '" + s.snap.name + "' has no replica "
                            + std::to_string(id),
                          "see skyctl serve status " + s.snap.name);
      if (auto a = s.actors.find(id); a != s.actors.end()) {
        s.removing.insert(id);
        self->send(a->second, down_atom_v, std::string{"user"},
                   std::string{"skyctl serve down --replica-id"});
        return protocol::serve_outcome{s.snap.name, true,
                                       "replica " + std::to_string(id)
                                         + " is being torn down"};
      }
      // A failure record whose cluster is gone: drop it now.
      auto promise = self->make_response_promise<protocol::serve_outcome>();
      auto r = rec->second;
      append(self, {replica_event(r, "replica.removed", snapshot_op::erase)},
             [=]() mutable {
               self->state.replicas.erase(id);
               promise.deliver(protocol::serve_outcome{
                 self->state.snap.name, true,
                 "replica " + std::to_string(id) + " removed"});
               replan(self);
             });
      return promise;
    },
    [=](status_atom) {
      auto& s = self->state;
      protocol::serve_status_reply reply;
      std::vector<optimizer::replica_snapshot> rs;
      for (const auto& [id, r] : s.replicas) {
        rs.push_back(r);
        reply.replicas.push_back(replica_row_of(r));
      }
      reply.services.push_back(
        service_row_of(s.snap, rs, s.qps, lb_host(self), s.routed_versions));
      return reply;
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
