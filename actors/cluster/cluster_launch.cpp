// The cluster's life cycle: provisioning with failover, stop, start, down,
// and what to do after a skyd restart.

#include <cmath>

#include "actors/cluster/cluster_internal.hpp"
#include "optimizer/placement/failover_text.hpp"
#include "actors/core/logging.hpp"
#include "actors/cluster/provision_attempt.hpp"
#include "actors/core/worker_pool.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"
#include "optimizer/cluster/cluster_decisions.hpp"
#include "optimizer/cluster/cluster_fit.hpp"
#include "optimizer/placement/failover_rerank.hpp"

namespace sky::actors::cluster_detail {

namespace {

void rank_and_try(cluster_ptr self);
void try_candidate(cluster_ptr self, ranking_ptr ranking);

// After a failed attempt: the next candidate, from the held ranking when
// dropping the blocked place from it is what the planner would answer
// (optimizer/placement/failover_rerank.hpp), else from the planner.
void fail_over(cluster_ptr self, optimizer::block_entry block) {
  auto& st = self->state;
  auto next = st.held_ranking && !st.launches.empty()
                ? optimizer::without_blocked(*st.held_ranking, block)
                : std::nullopt;
  st.blocked.entries.push_back(std::move(block));
  if (!next) {
    rank_and_try(self);
    return;
  }
  st.held_ranking
    = std::make_shared<const optimizer::ranking>(std::move(*next));
  try_candidate(self, st.held_ranking);
}

double known(double v) {
  return std::isnan(v) ? 0 : v;
}

providers::provision_request request_for(const cluster_state& st,
                                         const placement_info& p) {
  providers::provision_request req;
  req.cluster = st.snap.name;
  req.attempt = st.snap.attempts;
  req.region = p.region;
  req.zone = p.zone;
  req.instance_type = p.instance_type;
  req.use_spot = p.use_spot;
  req.num_nodes = p.num_nodes;
  req.per_node.cpus = p.reserved_cpus;
  req.per_node.memory_gib = p.reserved_memory_gib;
  req.per_node.gpus = p.reserved_gpus;
  return req;
}

// What the chosen candidate means for the cluster's placement.
placement_info placement_of(const optimizer::candidate& c,
                            const task::task_spec& task) {
  placement_info p;
  p.provider = c.cloud;
  p.region = c.region;
  p.zone = c.zone.empty() && !c.zones.empty() ? c.zones.front() : c.zone;
  p.instance_type = c.instance_type;
  p.use_spot = c.use_spot;
  p.num_nodes = static_cast<uint32_t>(c.num_nodes);
  p.cpus = known(c.vcpus);
  p.memory_gib = known(c.memory_gib);
  p.accelerator = c.accelerator;
  p.accelerator_count = c.accelerator_count;
  p.hourly_price = c.hourly_price;
  if (c.fixed_capacity) {
    // Reserve what the task states, nothing else.
    p.reserved_cpus = p.cpus;
    p.reserved_memory_gib = p.memory_gib;
    if (!c.accelerator.empty())
      p.reserved_gpus[c.accelerator] = c.accelerator_count;
  }
  (void) task;
  return p;
}

} // namespace

void adopt_record(cluster_ptr self, const provision_result& r) {
  auto& st = self->state;
  st.record = r.record;
  st.snap.nodes.clear();
  for (const auto& inst : r.record->instances)
    st.snap.nodes.push_back(
      {inst.rank, inst.id,
       inst.internal_ip.empty() ? inst.external_ip : inst.internal_ip});
  if (!r.record->zone.empty())
    st.snap.placement.zone = r.record->zone;
  // A node that reserved less than a whole machine still has the machine:
  // that is what its jobs are scheduled against.
  if (r.machine_total) {
    auto& p = st.snap.placement;
    if (p.cpus <= 0)
      p.cpus = r.machine_total->cpus;
    if (p.memory_gib <= 0)
      p.memory_gib = r.machine_total->memory_gib;
    if (p.accelerator.empty() && !r.machine_total->gpus.empty()) {
      p.accelerator = r.machine_total->gpus.begin()->first;
      p.accelerator_count = r.machine_total->gpus.begin()->second;
    }
  }
}

bool run_waiting_down(cluster_ptr self, const provision_result* made) {
  auto& st = self->state;
  st.attempt_in_flight = false;
  if (st.down_waiters.empty())
    return false;
  if (made != nullptr)
    adopt_record(self, *made);
  for (auto& w : st.down_waiters)
    st.op_waiters.push_back(std::move(w));
  st.down_waiters.clear();
  do_down(self, caf::response_promise{}, stop_cause::user);
  return true;
}

namespace {

void fail_launch(cluster_ptr self, const caf::error& err) {
  auto& st = self->state;
  auto info = describe(err);
  auto launches = std::move(st.launches);
  st.launches.clear();
  st.watcher = nullptr;
  st.snap.retrying.reset();
  st.held_ranking = nullptr;
  for (auto& l : launches)
    l.promise.deliver(err);
  bool never_up = st.snap.nodes.empty() && st.snap.launched_at_ms == 0;
  st.snap.phase = cluster_phase::none;
  st.snap.reason = info.message;
  if (never_up) {
    // Nothing was created: the cluster does not exist (as in SkyPilot); its
    // failed launch stays in the event log.
    persist(
      self,
      {cluster_event(st, "cluster.launch_failed",
                     map_writer{1}.add("reason", info.message).bytes(), true)},
      [=] {
        self->send(self->state.registry, down_atom_v, self->state.snap.name);
        self->quit();
      },
      [=](const caf::error&) { self->quit(); });
    return;
  }
  set_status(st, st.snap.launched_at_ms != 0 && st.record
                   ? cluster_status::up
                   : cluster_status::init);
  persist(self,
          {cluster_event(st, "cluster.launch_failed",
                         map_writer{1}.add("reason", info.message).bytes())},
          [] {});
}

void on_provisioned(cluster_ptr self, const optimizer::candidate& c,
                    std::shared_ptr<providers::provider> provider,
                    const provision_result& r) {
  auto& st = self->state;
  st.provider = std::move(provider);
  adopt_record(self, r);
  st.snap.retrying.reset();
  st.held_ranking = nullptr;
  set_status(st, cluster_status::up);
  st.snap.phase = cluster_phase::none;
  st.snap.reason.clear();
  auto now = st.deps.now_ms();
  if (st.snap.launched_at_ms == 0)
    st.snap.launched_at_ms = now;
  st.snap.idle_since_ms = idle(st) ? now : 0;
  persist(
    self,
    {cluster_event(st, "cluster.up",
                   map_writer{7}
                     .add("infra", st.snap.placement.infra())
                     .add("resources", st.snap.placement.resources_text())
                     .add("hourly_price", st.snap.placement.hourly_price)
                     .add("attempt", st.snap.attempts)
                     .add("instance_type", st.snap.placement.instance_type)
                     .add("num_nodes", st.snap.placement.num_nodes)
                     .add("use_spot", st.snap.placement.use_spot)
                     .bytes())},
    [=] {
      progress(self, "up",
               "Cluster '" + self->state.snap.name + "' is UP on "
                 + self->state.snap.placement.infra() + ".");
      (void) c;
      process_launches(self);
      finish_op(self, {});
    },
    [=](const caf::error& err) { fail_launch(self, err); });
}

// A `down` that found no attempt in flight tears the cluster down at once;
// the launch's next step (a ranking, a retry timer) must then not start
// another attempt. The teardown answers the launch (cancelled).
bool torn_down_meanwhile(cluster_ptr self) {
  return self->state.snap.phase == cluster_phase::terminating;
}

void try_candidate(cluster_ptr self, ranking_ptr ranking) {
  auto& st = self->state;
  if (torn_down_meanwhile(self))
    return;
  const auto& c = ranking->candidates.front();
  auto provider = st.deps.providers->find(c.cloud);
  if (!provider) {
    auto reason = "skyd has no provider for " + c.cloud
                  + " (clouds are priced for planning only until they are "
                    "enabled as providers)";
    progress(self, "provisioning", c.infra() + ": " + reason);
    fail_over(self, failover_block(c, {}, failure_scope::cloud, "no provider"));
    return;
  }
  ++st.snap.attempts;
  ++st.tries;
  auto task
    = st.launches.empty() ? task::task_spec{} : st.launches.front().order.task;
  st.snap.placement = placement_of(c, task);
  auto req = request_for(st, st.snap.placement);
  auto fields = map_writer{4}
                  .add("attempt", st.snap.attempts)
                  .add("infra", st.snap.placement.infra())
                  .add("instance_type", c.instance_type)
                  .add("hourly_price", c.hourly_price)
                  .bytes();
  persist(
    self, {cluster_event(st, "cluster.provisioning", fields)},
    [=] {
      auto& s = self->state;
      progress(self, "provisioning",
               "Launching on " + s.snap.placement.infra() + " "
                 + s.snap.placement.resources_text() + " (attempt "
                 + std::to_string(s.snap.attempts) + ")");
      auto attempt = self->spawn(provision_attempt, s.deps.pool, provider, req,
                                 s.deps.provision_timeout);
      s.attempt_in_flight = true;
      self->request(attempt, caf::infinite, start_atom_v)
        .then(
          [=](provision_result& r) {
            self->state.provider = provider;
            if (!run_waiting_down(self, &r))
              on_provisioned(self, c, provider, r);
          },
          [=](caf::error& err) {
            if (run_waiting_down(self, nullptr))
              return;
            auto& s2 = self->state;
            auto info = describe(err);
            auto scope = providers::scope_of(err);
            logger("clusters")
              ->info("cluster {}: attempt {} on {} failed: {}", s2.snap.name,
                     s2.snap.attempts, c.infra(), info.message);
            // The zone actually tried (an on-demand candidate names its
            // region; placement_of picked the first of its zones).
            auto block = failover_block(c, req.zone, scope, info.message);
            progress(self, "provisioning",
                     failover_line(s2.snap.placement.infra(), c.instance_type,
                                   info.message, block.scope));
            // Recorded with whatever comes next (the next attempt's intent,
            // or the launch's failure): the attempt left nothing behind
            // (providers roll back), so a crash before then loses only
            // this line of history.
            s2.deferred.push_back(
              cluster_event(s2, "cluster.provision_failed",
                            map_writer{3}
                              .add("attempt", s2.snap.attempts)
                              .add("infra", s2.snap.placement.infra())
                              .add("reason", info.message)
                              .bytes()));
            fail_over(self, std::move(block));
          });
    },
    [=](const caf::error& err) { fail_launch(self, err); });
}

void rank_and_try(cluster_ptr self) {
  auto& st = self->state;
  if (torn_down_meanwhile(self))
    return;
  if (st.launches.empty()) {
    fail_launch(self, make_error(errc::cancelled, "the launch was abandoned"));
    return;
  }
  rank_request req{st.launches.front().order.task, st.blocked};
  bool first = st.tries == 0 && st.blocked.entries.empty();
  self->request(st.deps.planner, timeouts::planner_rank, std::move(req))
    .then(
      [=](ranking_ptr ranking) {
        if (torn_down_meanwhile(self))
          return;
        auto& s = self->state;
        s.held_ranking = ranking;
        if (first) {
          protocol::plan_reply plan;
          plan.tasks.push_back(to_task_plan(
            *ranking, s.launches.front().order.task.name.value_or(""),
            ranking->feasible() ? std::optional<size_t>{0} : std::nullopt));
          if (ranking->feasible())
            plan.total_hourly_price = ranking->candidates.front().hourly_price;
          if (s.watcher)
            self->send(s.watcher, plan_atom_v, std::move(plan));
        }
        if (!ranking->feasible()) {
          auto now = s.deps.now_ms();
          auto d = optimizer::decide_cluster(
            facts_of(self),
            optimizer::cl_event::no_candidates{
              s.launches.front().order.retry_until_up, s.tries,
              optimizer::describe_exclusions(*ranking)},
            now);
          if (d.step != optimizer::cluster_step::retry_later) {
            fail_launch(self, d.error);
            return;
          }
          // --retry-until-up: wait, forget the blocks, try a new round.
          auto wait = std::chrono::milliseconds(d.retry_wait_ms);
          progress(self, "provisioning",
                   "No candidate left; retrying in "
                     + std::to_string(d.retry_wait_ms / 1000) + " s");
          s.blocked = {};
          s.snap = std::move(d.snap);
          // The deadline is in the log, so watchers (and the user) see
          // when the next round starts, and in the snapshot, so that a
          // skyd restart resumes the launch then (resume_launch).
          persist(self,
                  {cluster_event(s, d.record_kind,
                                 map_writer{2}
                                   .add("retry_at_ms", now + d.retry_wait_ms)
                                   .add("attempts", s.snap.attempts)
                                   .bytes())},
                  [] {});
          self->delayed_send(self, wait, retry_atom_v);
          return;
        }
        try_candidate(self, ranking);
      },
      [=](caf::error& err) {
        if (!torn_down_meanwhile(self))
          fail_launch(self, err);
      });
}

// The decision put the launch's intent in the snapshot (INIT,
// provisioning, the --retry-until-up launch): record it, then rank.
void begin_provisioning(cluster_ptr self, const std::string& kind) {
  auto& st = self->state;
  st.watcher = st.launches.front().order.watcher;
  st.blocked = st.launches.front().order.blocked;
  st.tries = 0;
  const auto& task = st.launches.front().order.task;
  auto fields = map_writer{3}
                  .add("task", task.name.value_or(""))
                  .add("num_nodes", task.num_nodes.value_or(1))
                  .add("owner", st.snap.owner.value_or(""))
                  .bytes();
  progress(self, "optimizing", "Choosing where to run.");
  persist(
    self, {cluster_event(st, kind, fields)}, [=] { rank_and_try(self); },
    [=](const caf::error& err) { fail_launch(self, err); });
}

} // namespace

void process_launches(cluster_ptr self) {
  auto& st = self->state;
  auto launches = std::move(st.launches);
  st.launches.clear();
  st.watcher = nullptr;
  for (auto& l : launches) {
    auto fits
      = optimizer::fits_cluster(l.order.task, st.snap.name, st.snap.placement);
    if (!fits) {
      l.promise.deliver(fits.error());
      continue;
    }
    if (l.order.autostop)
      st.snap.autostop = *l.order.autostop;
    submit_job(self, std::move(l.order.task), l.order.run_setup, l.promise,
               std::move(l.order.task_id));
  }
}

std::shared_ptr<providers::provider> provider_of(cluster_ptr self) {
  auto& st = self->state;
  if (!st.provider)
    st.provider = st.deps.providers->find(st.snap.placement.provider);
  return st.provider;
}

void provider_op(cluster_ptr self,
                 std::function<result<void>(providers::provider&)> op,
                 std::function<void(result<void>)> then) {
  auto provider = provider_of(self);
  if (!provider) {
    then(make_error(errc::unavailable,
                    "no provider '" + self->state.snap.placement.provider
                      + "' for cluster '" + self->state.snap.name + "'"));
    return;
  }
  run_blocking<bool>(
    self, self->state.deps.pool,
    [provider, op]() -> result<bool> {
      if (auto ok = op(*provider); !ok)
        return ok.error();
      return true;
    },
    [then](result<bool> r) {
      if (r)
        then({});
      else
        then(r.error());
    });
}

void retry_launch(cluster_ptr self) {
  if (self->state.snap.retrying)
    self->state.snap.retrying->retry_at_ms = 0;
  rank_and_try(self);
}

optimizer::cluster_facts facts_of(cluster_ptr self) {
  auto& st = self->state;
  optimizer::cluster_facts f;
  f.snap = st.snap;
  f.recorded = st.recorded;
  f.waiting_launches = st.launches.size();
  f.attempt_in_flight = st.attempt_in_flight;
  // Looked up without caching it in st.provider: the placement may change
  // before this provider is used (a launch tries other clouds).
  auto provider = st.provider
                    ? st.provider
                    : st.deps.providers->find(st.snap.placement.provider);
  f.provider_known = provider != nullptr;
  f.provider_can_stop = !provider || provider->features().stop;
  return f;
}

void on_launch(cluster_ptr self, launch_order order,
               caf::response_promise promise) {
  auto& st = self->state;
  using optimizer::cluster_step;
  auto d = optimizer::decide_cluster(
    facts_of(self),
    optimizer::cl_event::launch_requested{order.task, order.run_setup,
                                          order.autostop, order.retry_until_up,
                                          order.task_id, order.owner},
    st.deps.now_ms());
  switch (d.step) {
    case cluster_step::refuse:
      promise.deliver(d.error);
      return;
    case cluster_step::reuse:
      if (order.watcher) {
        protocol::plan_reply plan;
        plan.reused_cluster = st.snap.name;
        self->send(order.watcher, plan_atom_v, std::move(plan));
      }
      st.snap = std::move(d.snap); // the launch's autostop, if any
      submit_job(self, std::move(order.task), order.run_setup, promise,
                 std::move(order.task_id));
      return;
    case cluster_step::start_in_place:
      st.launches.push_back({std::move(order), promise});
      st.watcher = st.launches.front().order.watcher;
      progress(self, "starting",
               d.relaunch_in_place
                 ? "Relaunching cluster '" + st.snap.name
                     + "' where its nodes are (" + st.snap.placement.infra()
                     + ")."
                 : "Restarting stopped cluster '" + st.snap.name + "'.");
      do_start(self, caf::response_promise{});
      return;
    case cluster_step::provision:
      st.snap = std::move(d.snap);
      st.launches.push_back({std::move(order), promise});
      begin_provisioning(self, d.record_kind);
      return;
    default: // queue_launch: the provisioning or start in flight takes it
      st.launches.push_back({std::move(order), promise});
      return;
  }
}

// The decision's refusals and answers that need no operation: true when
// `d` was one of them (carried out here).
bool answered(cluster_ptr self, const optimizer::cluster_decision& d,
              caf::response_promise& promise) {
  using optimizer::cluster_step;
  if (d.step == cluster_step::refuse) {
    if (promise.pending())
      promise.deliver(d.error);
    return true;
  }
  if (promise.pending())
    self->state.op_waiters.push_back(promise);
  if (d.step == cluster_step::fail) {
    finish_op(self, d.error);
    return true;
  }
  return false;
}

void do_stop(cluster_ptr self, caf::response_promise promise,
             stop_cause cause) {
  auto& st = self->state;
  auto d = optimizer::decide_cluster(facts_of(self),
                                     optimizer::cl_event::stop_requested{cause},
                                     st.deps.now_ms());
  if (answered(self, d, promise))
    return;
  if (d.step == optimizer::cluster_step::finish) {
    finish_op(self, {});
    return;
  }
  st.snap = std::move(d.snap);
  auto name = st.snap.name;
  persist(
    self,
    {cluster_event(st, d.record_kind,
                   map_writer{1}.add("reason", d.reason).bytes())},
    [=] {
      end_all_jobs(self, "the cluster was stopped", [=] {
        provider_op(
          self,
          [name](providers::provider& p) { return p.stop_instances(name); },
          [=](result<void> r) {
            auto& s = self->state;
            s.snap.phase = cluster_phase::none;
            if (!r) {
              set_status(s, cluster_status::init);
              s.snap.reason = "stop failed: " + describe(r.error()).message;
              persist(self, {cluster_event(s, "cluster.stop_failed")},
                      [=] { finish_op(self, r.error()); });
              return;
            }
            set_status(s, cluster_status::stopped);
            s.record = nullptr;
            s.snap.idle_since_ms = 0;
            persist(self, {cluster_event(s, "cluster.stopped")},
                    [=] { finish_op(self, {}); });
          });
      });
    },
    [=](const caf::error& err) { finish_op(self, err); });
}

void do_start(cluster_ptr self, caf::response_promise promise) {
  auto& st = self->state;
  auto d = optimizer::decide_cluster(
    facts_of(self), optimizer::cl_event::start_requested{}, st.deps.now_ms());
  if (answered(self, d, promise))
    return;
  if (d.step == optimizer::cluster_step::finish) {
    finish_op(self, {});
    process_launches(self);
    return;
  }
  const auto before = status_of(st);
  auto provider = provider_of(self);
  st.snap = std::move(d.snap);
  auto req = request_for(st, st.snap.placement);
  persist(
    self, {cluster_event(st, d.record_kind)},
    [=] {
      auto& s = self->state;
      progress(self, "provisioning",
               "Starting on " + s.snap.placement.infra() + ".");
      auto attempt = self->spawn(provision_attempt, s.deps.pool, provider, req,
                                 s.deps.provision_timeout);
      s.attempt_in_flight = true;
      self->request(attempt, caf::infinite, start_atom_v)
        .then(
          [=](provision_result& r) {
            self->state.provider = provider;
            if (run_waiting_down(self, &r))
              return;
            optimizer::candidate none;
            on_provisioned(self, none, provider, r);
            check_autostop(self);
          },
          [=](caf::error& err) {
            if (run_waiting_down(self, nullptr))
              return;
            auto& s2 = self->state;
            s2.snap.phase = cluster_phase::none;
            set_status(s2, before);
            s2.snap.reason = "start failed: " + describe(err).message;
            persist(self, {cluster_event(s2, "cluster.start_failed")}, [=] {
              auto launches = std::move(self->state.launches);
              self->state.launches.clear();
              for (auto& l : launches)
                l.promise.deliver(err);
              finish_op(self, err);
            });
          });
    },
    [=](const caf::error& err) { finish_op(self, err); });
}

void do_down(cluster_ptr self, caf::response_promise promise,
             stop_cause cause) {
  auto& st = self->state;
  auto d = optimizer::decide_cluster(facts_of(self),
                                     optimizer::cl_event::down_requested{cause},
                                     st.deps.now_ms());
  if (d.step == optimizer::cluster_step::wait_for_attempt) {
    st.down_waiters.push_back(promise);
    progress(self, "terminating",
             "Teardown requested: it runs when the provisioning attempt "
             "in flight answers.");
    return;
  }
  if (answered(self, d, promise))
    return;
  st.snap = std::move(d.snap);
  auto reason = d.reason;
  auto name = st.snap.name;
  auto erase_all = [=] {
    auto& s = self->state;
    std::vector<event_draft> drafts;
    drafts.push_back(cluster_event(
      s, "cluster.terminated",
      map_writer{2}.add("reason", reason).add("jobs", s.jobs.size()).bytes(),
      true));
    for (const auto& [id, job] : s.jobs) {
      auto removed = job_event(job, "job.removed");
      removed.snapshot = snapshot_op::erase;
      removed.snapshot_value.clear();
      drafts.push_back(std::move(removed));
    }
    persist(self, std::move(drafts), [=] {
      set_status(self->state, cluster_status::stopped);
      self->state.snap.status = "TERMINATED";
      finish_op(self, {});
      for (auto& l : self->state.launches)
        l.promise.deliver(
          make_error(errc::cancelled, "the cluster was torn down"));
      self->send(self->state.registry, down_atom_v, name);
      self->quit();
    });
  };
  if (d.step == optimizer::cluster_step::erase) {
    erase_all();
    return;
  }
  persist(
    self,
    {cluster_event(st, d.record_kind,
                   map_writer{1}.add("reason", reason).bytes())},
    [=] {
      end_all_jobs(self, "the cluster was torn down", [=] {
        // A launch that never reached a provider (no `cluster.provisioning`
        // yet) left no instance anywhere: there is nothing to terminate,
        // and none of its steps starts an attempt once this runs
        // (torn_down_meanwhile).
        auto& s = self->state;
        if (s.snap.placement.provider.empty()) {
          erase_all();
          return;
        }
        provider_op(
          self,
          [name](providers::provider& p) {
            return p.terminate_instances(name);
          },
          [=](result<void> r) {
            if (!r) {
              auto& s = self->state;
              s.snap.phase = cluster_phase::none;
              set_status(s, cluster_status::init);
              s.snap.reason = "teardown failed: " + describe(r.error()).message;
              persist(self, {cluster_event(s, "cluster.down_failed")},
                      [=] { finish_op(self, r.error()); });
              return;
            }
            erase_all();
          });
      });
    },
    [=](const caf::error& err) { finish_op(self, err); });
}

} // namespace sky::actors::cluster_detail
