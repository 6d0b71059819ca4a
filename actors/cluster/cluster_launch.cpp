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
  do_down(self, caf::response_promise{}, "torn down by the user");
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
  st.snap.phase.clear();
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
  st.snap.phase.clear();
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
  return self->state.snap.phase == "terminating";
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
          bool retry = s.launches.front().order.retry_until_up && s.tries > 0;
          if (retry) {
            // --retry-until-up: wait, forget the blocks, try a new round.
            auto wait = std::chrono::seconds(std::min<int64_t>(
              300, int64_t{5} << std::min<uint32_t>(s.tries / 8, 6)));
            progress(self, "provisioning",
                     "No candidate left; retrying in "
                       + std::to_string(wait.count()) + " s");
            s.blocked = {};
            // The deadline is in the log, so watchers (and the user) see
            // when the next round starts, and in the snapshot, so that a
            // skyd restart resumes the launch then (resume_launch).
            auto at
              = s.deps.now_ms()
                + std::chrono::duration_cast<std::chrono::milliseconds>(wait)
                    .count();
            if (s.snap.retrying)
              s.snap.retrying->retry_at_ms = at;
            persist(self,
                    {cluster_event(s, "cluster.retry_scheduled",
                                   map_writer{2}
                                     .add("retry_at_ms", at)
                                     .add("attempts", s.snap.attempts)
                                     .bytes())},
                    [] {});
            self->delayed_send(self, wait, retry_atom_v);
            return;
          }
          auto reasons = optimizer::describe_exclusions(*ranking);
          fail_launch(self,
                      make_error(errc::no_capacity,
                                 "no place can run the task now:\n" + reasons,
                                 s.tries > 0
                                   ? "retry later, or use --retry-until-up"
                                   : "change the task's resources or enable "
                                     "more infra (skyctl check)"));
          return;
        }
        try_candidate(self, ranking);
      },
      [=](caf::error& err) {
        if (!torn_down_meanwhile(self))
          fail_launch(self, err);
      });
}

void begin_provisioning(cluster_ptr self) {
  auto& st = self->state;
  st.watcher = st.launches.front().order.watcher;
  st.blocked = st.launches.front().order.blocked;
  st.tries = 0;
  set_status(st, cluster_status::init);
  st.snap.phase = "provisioning";
  st.snap.reason.clear();
  const auto& order = st.launches.front().order;
  if (order.retry_until_up)
    st.snap.retrying
      = retrying_launch{task::encode_task(order.task), order.run_setup,
                        order.autostop, order.task_id, 0};
  else
    st.snap.retrying.reset();
  const auto& task = order.task;
  auto fields = map_writer{3}
                  .add("task", task.name.value_or(""))
                  .add("num_nodes", task.num_nodes.value_or(1))
                  .add("owner", st.snap.owner.value_or(""))
                  .bytes();
  progress(self, "optimizing", "Choosing where to run.");
  persist(
    self, {cluster_event(st, "cluster.launch_requested", fields)},
    [=] { rank_and_try(self); },
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

namespace {

// An INIT cluster that was UP and still has nodes (a node was preempted or
// lost): it relaunches where it is.
bool restarts_in_place(const cluster_state& st) {
  return status_of(st) == cluster_status::init && !st.snap.nodes.empty()
         && st.snap.launched_at_ms != 0 && !st.snap.placement.provider.empty();
}

} // namespace

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

void on_launch(cluster_ptr self, launch_order order,
               caf::response_promise promise) {
  auto& st = self->state;
  auto status = status_of(st);
  if (!st.recorded) {
    if (st.launches.empty())
      st.snap.owner = order.owner; // the first launch makes the cluster
    st.launches.push_back({std::move(order), promise});
    if (st.launches.size() == 1)
      begin_provisioning(self);
    return;
  }
  if (st.snap.phase == "provisioning" || st.snap.phase == "starting") {
    st.launches.push_back({std::move(order), promise});
    return;
  }
  if (!st.snap.phase.empty()) {
    promise.deliver(make_error(
      errc::conflict, "cluster '" + st.snap.name + "' is " + st.snap.phase,
      "wait for it to finish (skyctl status)"));
    return;
  }
  if (status == cluster_status::up) {
    auto fits
      = optimizer::fits_cluster(order.task, st.snap.name, st.snap.placement);
    if (!fits) {
      promise.deliver(fits.error());
      return;
    }
    if (order.watcher) {
      protocol::plan_reply plan;
      plan.reused_cluster = st.snap.name;
      self->send(order.watcher, plan_atom_v, std::move(plan));
    }
    if (order.autostop)
      st.snap.autostop = *order.autostop;
    submit_job(self, std::move(order.task), order.run_setup, promise,
               std::move(order.task_id));
    return;
  }
  st.launches.push_back({std::move(order), promise});
  if (status == cluster_status::stopped || restarts_in_place(st)) {
    st.watcher = st.launches.front().order.watcher;
    progress(self, "starting",
             status == cluster_status::stopped
               ? "Restarting stopped cluster '" + st.snap.name + "'."
               : "Relaunching cluster '" + st.snap.name
                   + "' where its nodes "
                     "are ("
                   + st.snap.placement.infra() + ").");
    do_start(self, caf::response_promise{});
    return;
  }
  begin_provisioning(self); // INIT: a launch failed before; try again
}

void do_stop(cluster_ptr self, caf::response_promise promise,
             const std::string& why) {
  auto& st = self->state;
  if (promise.pending())
    st.op_waiters.push_back(promise);
  auto status = status_of(st);
  if (status == cluster_status::stopped) {
    finish_op(self, {});
    return;
  }
  auto provider = provider_of(self);
  if (provider && !provider->features().stop) {
    finish_op(
      self,
      make_error(errc::unsupported,
                 st.snap.placement.provider + " clusters cannot be stopped",
                 "tear it down instead: skyctl down " + st.snap.name));
    return;
  }
  if (st.snap.placement.use_spot) {
    // As on real clouds (and in SkyPilot): refused before any job is ended.
    finish_op(self,
              make_error(errc::unsupported,
                         "cluster '" + st.snap.name
                           + "' runs on spot instances, which cannot "
                             "be stopped",
                         "tear it down instead: skyctl down " + st.snap.name));
    return;
  }
  if (status == cluster_status::init && st.snap.nodes.empty()) {
    finish_op(self, make_error(errc::conflict,
                               "cluster '" + st.snap.name
                                 + "' has no instances to stop",
                               "tear it down: skyctl down " + st.snap.name));
    return;
  }
  st.snap.phase = "stopping";
  if (status == cluster_status::up && why.find("autostop") != std::string::npos)
    set_status(st, cluster_status::autostopping);
  auto name = st.snap.name;
  persist(
    self,
    {cluster_event(st, "cluster.stopping",
                   map_writer{1}.add("reason", why).bytes())},
    [=] {
      end_all_jobs(self, "the cluster was stopped", [=] {
        provider_op(
          self,
          [name](providers::provider& p) { return p.stop_instances(name); },
          [=](result<void> r) {
            auto& s = self->state;
            s.snap.phase.clear();
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
  if (promise.pending())
    st.op_waiters.push_back(promise);
  auto status = status_of(st);
  if (status == cluster_status::up) {
    finish_op(self, {});
    process_launches(self);
    return;
  }
  if (status != cluster_status::stopped && !restarts_in_place(st)) {
    finish_op(self,
              make_error(
                errc::conflict,
                "cluster '" + st.snap.name + "' is " + st.snap.status
                  + (st.snap.reason.empty() ? "" : " (" + st.snap.reason + ")"),
                "launch it again: skyctl launch -c " + st.snap.name));
    return;
  }
  auto provider = provider_of(self);
  if (!provider) {
    finish_op(self,
              make_error(errc::unavailable,
                         "no provider '" + st.snap.placement.provider + "'"));
    return;
  }
  // A stopped cluster restarts only where its disks are: same provider,
  // region, zone and instance type. So does an INIT cluster that still has
  // nodes (one was preempted or lost): the provider replaces the missing
  // ones beside the others, never elsewhere (that would leak them).
  const auto before = status;
  ++st.snap.attempts;
  st.snap.phase = "starting";
  auto req = request_for(st, st.snap.placement);
  persist(
    self, {cluster_event(st, "cluster.starting")},
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
            s2.snap.phase.clear();
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
             const std::string& why) {
  auto& st = self->state;
  if (promise.pending())
    st.op_waiters.push_back(promise);
  st.snap.phase = "terminating";
  auto name = st.snap.name;
  auto erase_all = [=] {
    auto& s = self->state;
    std::vector<event_draft> drafts;
    drafts.push_back(cluster_event(
      s, "cluster.terminated",
      map_writer{2}.add("reason", why).add("jobs", s.jobs.size()).bytes(),
      true));
    for (const auto& [id, job] : s.jobs) {
      auto d = job_event(job, "job.removed");
      d.snapshot = snapshot_op::erase;
      d.snapshot_value.clear();
      drafts.push_back(std::move(d));
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
  if (!st.recorded) {
    erase_all();
    return;
  }
  persist(
    self,
    {cluster_event(st, "cluster.terminating",
                   map_writer{1}.add("reason", why).bytes())},
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
              s.snap.phase.clear();
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
