#include "actors/core/root_supervisor.hpp"

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>

#include "actors/cluster/cluster_registry.hpp"
#include "actors/core/logging.hpp"
#include "actors/managed_job/managed_jobs.hpp"
#include "actors/service/http_probe.hpp"
#include "actors/service/lb_link.hpp"
#include "actors/service/services.hpp"
#include "actors/sim/sim_watch.hpp"
#include "actors/core/worker_pool.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/version.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<root_state>*;

event_draft daemon_event(const root_state& st, std::string kind) {
  event_draft d;
  d.entity = "daemon";
  d.kind = std::move(kind);
  d.fields = map_writer{3}
               .add("version", std::string{sky::version})
               .add("pid", st.settings.identity.pid)
               .add("home", st.settings.identity.home)
               .bytes();
  return d;
}

// Provider events (a preemption, a lost node) go to the registry, which
// hands them to the cluster; sinks are called from any thread.
void hook_provider_events(self_ptr self) {
  auto& st = self->state;
  if (!st.settings.providers)
    return;
  for (const auto& [name, p] : st.settings.providers->by_name)
    p->set_event_sink([registry = st.registry, jobs = st.managed_jobs,
                       services = st.services](providers::provider_event ev) {
      // Managed jobs recover at once instead of waiting for their watch,
      // and services replace a preempted replica at once.
      if (jobs)
        caf::anon_send(jobs, node_event_atom_v, ev);
      if (services)
        caf::anon_send(services, node_event_atom_v, ev);
      caf::anon_send(registry, node_event_atom_v, std::move(ev));
    });
}

void unhook_provider_events(self_ptr self) {
  auto& st = self->state;
  if (st.settings.providers)
    for (const auto& [name, p] : st.settings.providers->by_name)
      p->set_event_sink({});
}

void stop_children(self_ptr self) {
  auto& st = self->state;
  unhook_provider_events(self);
  // The load balancer link leaves skyd-lb running: services outlive a
  // restart of skyd, and their traffic must not stop with it.
  for (auto* child :
       {&st.dispatcher, &st.services, &st.lb_link, &st.managed_jobs,
        &st.registry, &st.planner, &st.sim_watch, &st.pool})
    if (*child)
      self->send_exit(*child, caf::exit_reason::user_shutdown);
  self->send_exit(st.log, caf::exit_reason::user_shutdown);
  self->quit();
}

void drain_and_stop(self_ptr self) {
  self->request(self->state.log, timeouts::log_drain, drain_atom_v)
    .then(
      [=](uint64_t last) {
        logger("daemon")->info("event log drained at seq {}", last);
        stop_children(self);
      },
      [=](caf::error& err) {
        logger("daemon")->error("draining the event log failed: {}",
                                describe(err).message);
        self->state.settings.exit_code->store(1);
        stop_children(self);
      });
}

// Streams end with a final frame, then the gateway stops taking requests.
void close_front_door(self_ptr self) {
  auto stop_gateway = [=] {
    if (self->state.gateway)
      self->send(self->state.gateway, shutdown_atom_v);
    drain_and_stop(self);
  };
  self
    ->request(self->state.dispatcher, timeouts::shutdown_streams,
              shutdown_atom_v)
    .then([=] { stop_gateway(); },
          [=](caf::error&) {
            logger("daemon")->warn("some streams did not end in time");
            stop_gateway();
          });
}

void begin_shutdown(self_ptr self, int exit_code) {
  auto& st = self->state;
  if (exit_code != 0)
    st.settings.exit_code->store(exit_code);
  if (st.stopping)
    return;
  st.stopping = true;
  logger("daemon")->info("shutting down");
  if (st.settings.on_stopping)
    st.settings.on_stopping();
  // Record the stop first, so that followers still receive it.
  std::vector<event_draft> drafts{daemon_event(st, "daemon.stopped")};
  self->request(st.log, timeouts::log_append, append_atom_v, drafts)
    .then([=](uint64_t) { close_front_door(self); },
          [=](caf::error& err) {
            logger("daemon")->error("recording daemon.stopped failed: {}",
                                    describe(err).message);
            self->state.settings.exit_code->store(1);
            close_front_door(self);
          });
}

void announce_ready(self_ptr self);

void load_services(self_ptr self) {
  self->request(self->state.services, caf::infinite, load_atom_v)
    .then([=](bool) { announce_ready(self); },
          [=](caf::error& err) {
            self->state.settings.on_ready("restoring services failed: "
                                          + describe(err).message);
            begin_shutdown(self, 1);
          });
}

void on_ready(self_ptr self, const std::string& error) {
  auto& st = self->state;
  if (!error.empty()) {
    st.settings.on_ready(error);
    st.gateway = nullptr; // it has stopped already
    begin_shutdown(self, 1);
    return;
  }
  // Clusters and jobs come back from their snapshots before skyd says it
  // is ready, so the first `status` is complete.
  self->request(st.registry, caf::infinite, load_atom_v)
    .then(
      [=](bool) {
        // Managed jobs and services after the clusters they watch.
        self->request(self->state.managed_jobs, caf::infinite, load_atom_v)
          .then([=](bool) { load_services(self); },
                [=](caf::error& err) {
                  self->state.settings.on_ready(
                    "restoring managed jobs failed: " + describe(err).message);
                  begin_shutdown(self, 1);
                });
      },
      [=](caf::error& err) {
        self->state.settings.on_ready("restoring clusters failed: "
                                      + describe(err).message);
        begin_shutdown(self, 1);
      });
}

// Records `daemon.started`, then tells main that skyd serves requests.
void announce_ready(self_ptr self) {
  std::vector<event_draft> drafts{daemon_event(self->state, "daemon.started")};
  self->request(self->state.log, timeouts::log_append, append_atom_v, drafts)
    .then(
      [=](uint64_t seq) {
        logger("daemon")->info("skyd {} ready (pid {}, event seq {})",
                               sky::version, self->state.settings.identity.pid,
                               seq);
        self->state.settings.on_ready("");
      },
      [=](caf::error& err) {
        auto msg
          = "the event log does not accept events: " + describe(err).message;
        self->state.settings.on_ready(msg);
        begin_shutdown(self, 1);
      });
}

// The services registry and the load balancer link (detached: its
// ZeroMQ requests to skyd-lb block), which reports request counts to it.
void spawn_services(self_ptr self) {
  auto& st = self->state;
  const auto home = std::filesystem::path{st.settings.identity.home};
  service_deps sd;
  sd.log = st.log;
  sd.clusters = st.registry;
  st.prober = std::make_shared<http_prober>();
  sd.prober = st.prober;
  sd.lb_ports = std::make_shared<port_pool>(st.settings.lb_ports);
  sd.replica_ports = std::make_shared<port_pool>(st.settings.replica_ports);
  sd.now_ms = &system_now_ms;
  sd.settings = st.settings.serve;
  lb_link_config lc;
  lc.binary = st.settings.lb_binary;
  lc.control_endpoint = "ipc://" + (home / "run" / "lb.sock").string();
  lc.log_file = home / "logs" / "lb.log";
  st.lb_link = self->spawn<caf::detached>(lb_link, lc);
  sd.lb = st.lb_link;
  st.services = self->spawn(services, sd);
  self->send(st.lb_link, lb_report_to_atom_v, st.services);
}

} // namespace

caf::behavior root_supervisor(self_ptr self, root_settings settings,
                              std::shared_ptr<storage::event_log> storage) {
  auto& st = self->state;
  st.settings = std::move(settings);
  event_log_settings log_settings;
  log_settings.retention = st.settings.event_retention;
  log_settings.now_ms = &system_now_ms;
  st.log = self->spawn<caf::detached>(retaining_event_log, std::move(storage),
                                      std::move(log_settings));
  st.pool = self->spawn(worker_pool, st.settings.io_workers);
  // Detached: reading free capacity touches the disk.
  st.planner = self->spawn<caf::detached>(planner, st.settings.planner);
  cluster_deps cd;
  cd.log = st.log;
  cd.planner = st.planner;
  cd.pool = st.pool;
  cd.providers = st.settings.providers;
  cd.now_ms = &system_now_ms;
  st.registry = self->spawn(cluster_registry, cd);
  managed_job_deps mj;
  mj.log = st.log;
  mj.clusters = st.registry;
  mj.pool = st.pool;
  mj.dir = std::filesystem::path{st.settings.identity.home} / "managed_jobs";
  mj.max_concurrent_launches = st.settings.max_concurrent_launches;
  mj.limits = st.settings.managed_job_limits;
  // Tells "nothing can ever run this" (FAILED_PRECHECKS) from "no capacity
  // now" when a launch finds no place.
  mj.planner = st.planner;
  mj.now_ms = &system_now_ms;
  st.managed_jobs = self->spawn(managed_jobs, mj);
  spawn_services(self);
  hook_provider_events(self);
  if (st.settings.sim)
    st.sim_watch = self->spawn(sim_watch, st.settings.sim, st.pool,
                               caf::timespan{timeouts::sim_watch_max});
  dispatcher_deps deps;
  deps.log = st.log;
  deps.root = caf::actor{self};
  deps.identity = st.settings.identity;
  deps.registry = st.registry;
  deps.planner = st.planner;
  deps.pool = st.pool;
  deps.sim = st.settings.sim;
  deps.infra = std::make_shared<const infra_settings>(st.settings.infra);
  deps.managed_jobs = st.managed_jobs;
  deps.managed_jobs_dir = mj.dir;
  deps.services = st.services;
  st.dispatcher = self->spawn(dispatcher, deps);
  st.gateway = self->spawn<gateway>(st.settings.gateway, st.dispatcher, st.log,
                                    caf::actor{self});
  self->monitor(st.log);
  self->monitor(st.dispatcher);
  self->monitor(st.registry);
  self->monitor(st.managed_jobs);
  self->monitor(st.services);
  self->monitor(st.lb_link);
  self->monitor(st.gateway);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& s = self->state;
    if (s.stopping)
      return;
    std::string who = dm.source == s.log.address()          ? "event log"
                      : dm.source == s.dispatcher.address() ? "dispatcher"
                      : dm.source == s.gateway.address()    ? "gateway"
                      : dm.source == s.registry.address()   ? "cluster registry"
                      : dm.source == s.managed_jobs.address()
                        ? "managed jobs registry"
                      : dm.source == s.services.address() ? "services registry"
                      : dm.source == s.lb_link.address()  ? "load balancer link"
                                                          : "a child";
    logger("daemon")->critical("{} stopped unexpectedly ({}); shutting down",
                               who, caf::to_string(dm.reason));
    if (dm.source == s.gateway.address())
      s.gateway = nullptr;
    if (dm.source == s.log.address()) {
      // Without the log nothing can be recorded: stop at once.
      s.settings.exit_code->store(1);
      s.stopping = true;
      if (s.gateway)
        self->send(s.gateway, shutdown_atom_v);
      if (s.dispatcher)
        self->send_exit(s.dispatcher, caf::exit_reason::user_shutdown);
      self->quit();
      return;
    }
    begin_shutdown(self, 1);
  });
  if (st.settings.watchdog_interval)
    self->delayed_send(self, *st.settings.watchdog_interval, watchdog_atom_v);
  return {
    [=](ready_atom, const std::string& error) { on_ready(self, error); },
    [=](shutdown_atom) { begin_shutdown(self, 0); },
    [=](watchdog_atom) {
      auto& s = self->state;
      // Reaching this handler proves the scheduler still runs actors.
      if (s.settings.on_watchdog)
        s.settings.on_watchdog();
      self->delayed_send(self, *s.settings.watchdog_interval, watchdog_atom_v);
    },
  };
}

} // namespace sky::actors
