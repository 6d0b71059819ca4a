#include "actors/service/services.hpp"

#include <random>

#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "actors/service/lb_link.hpp"
#include "actors/service/service_actor.hpp"
#include "messages/cluster.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<services_state>*;

std::string generated_name() {
  std::random_device rd;
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::string{"sky-service-"} + buf;
}

caf::actor spawn_service(self_ptr self, optimizer::service_snapshot snap,
                         std::vector<optimizer::replica_snapshot> replicas) {
  auto& st = self->state;
  auto name = snap.name;
  auto a = self->spawn(service_actor, st.deps, caf::actor{self},
                       std::move(snap), std::move(replicas));
  st.services[name] = a;
  self->send(a, start_atom_v);
  return a;
}

result<void> check_task(const protocol::serve_up_request& req) {
  if (!req.task.service)
    return make_error(errc::invalid_argument,
                      "the task has no 'service:' section",
                      "add one, e.g.\n  service:\n    readiness_probe: /\n"
                      "    replicas: 2\n(docs/SERVICES.md)");
  if (!req.task.run || req.task.run->empty())
    return make_error(errc::invalid_argument,
                      "the service's task has no 'run' command",
                      "add run: with the command that starts the server on "
                      "$SKYD_REPLICA_PORT");
  return {};
}

void up(self_ptr self, protocol::serve_up_request& req,
        caf::response_promise promise) {
  auto& st = self->state;
  if (auto ok = check_task(req); !ok) {
    promise.deliver(ok.error());
    return;
  }
  // As `sky serve up`: -n NAME, else a generated one (not the task's
  // name, which a second `serve up` of the same YAML would collide with).
  auto name = req.name.empty() ? generated_name() : req.name;
  if (auto ok = protocol::validate_service_name(name); !ok) {
    promise.deliver(ok.error());
    return;
  }
  if (st.services.count(name) != 0) {
    promise.deliver(make_error(errc::conflict,
                               "service '" + name + "' already exists",
                               "use skyctl serve update " + name
                                 + " service.yaml to deploy a new version"));
    return;
  }
  auto port = st.deps.lb_ports->take();
  if (!port) {
    promise.deliver(make_error(errc::unavailable,
                               "no free load balancer port in serve.lb_ports",
                               "widen serve.lb_ports in config.yaml or tear "
                               "a service down"));
    return;
  }
  optimizer::service_snapshot snap;
  snap.name = name;
  optimizer::service_version v;
  v.min_replicas = req.task.service->replica_policy.min_replicas;
  snap.state.versions.push_back(v);
  snap.tasks.push_back(std::move(req.task));
  snap.lb_port = *port;
  snap.created_at_ms = st.deps.now_ms();
  const auto& t = snap.tasks.front();
  snap.scaler = optimizer::initial_autoscaler(
    optimizer::policy_of(t.service->replica_policy,
                         t.resources.use_spot.value_or(false)),
    0);
  // Reserve the name now: a second `serve up` of it while this one is
  // recorded must be refused.
  st.services[name] = caf::actor{};
  self
    ->request(st.deps.log, timeouts::log_append, append_atom_v,
              std::vector<event_draft>{service_event(snap, "service.created")})
    .then(
      [=](uint64_t) mutable {
        logger("serve")->info("service {} created (load balancer port {})",
                              name, snap.lb_port);
        auto a = spawn_service(self, snap, {});
        self->request(a, timeouts::quick_request, status_atom_v)
          .then(
            [=](protocol::serve_status_reply& r) mutable {
              promise.deliver(r.services.front());
            },
            [=](caf::error& err) mutable { promise.deliver(err); });
      },
      [=](caf::error& err) mutable {
        self->state.services.erase(name);
        self->state.deps.lb_ports->release(snap.lb_port);
        promise.deliver(err);
      });
}

void load(self_ptr self, caf::response_promise promise) {
  auto& st = self->state;
  self
    ->request(st.deps.log, timeouts::log_restore, snapshots_atom_v,
              std::string{"replica."})
    .then(
      [=](snapshot_list& replica_list) mutable {
        std::map<std::string, std::vector<optimizer::replica_snapshot>> by;
        for (const auto& [key, value] : replica_list) {
          auto r = optimizer::decode_replica_snapshot(value);
          if (!r) {
            logger("serve")->error("{}: {}", key, describe(r.error()).message);
            continue;
          }
          by[r->service].push_back(std::move(*r));
        }
        self
          ->request(self->state.deps.log, timeouts::log_restore,
                    snapshots_atom_v, std::string{"service."})
          .then(
            [=](snapshot_list& list) mutable {
              size_t n = 0;
              for (const auto& [key, value] : list) {
                auto s = optimizer::decode_service_snapshot(value);
                if (!s) {
                  logger("serve")->error("{}: {}", key,
                                         describe(s.error()).message);
                  continue;
                }
                auto name = s->name;
                spawn_service(self, std::move(*s), std::move(by[name]));
                ++n;
              }
              self->state.loaded = true;
              logger("serve")->info("restored {} services", n);
              promise.deliver(true);
            },
            [=](caf::error& err) mutable { promise.deliver(err); });
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
}

caf::error no_service(const std::string& name) {
  return make_error(errc::not_found, "no service named '" + name + "'",
                    "see skyctl serve status");
}

void status(self_ptr self, const protocol::serve_status_request& req,
            caf::response_promise promise) {
  auto& st = self->state;
  std::vector<caf::actor> targets;
  for (const auto& name : req.names) {
    auto it = st.services.find(name);
    if (it == st.services.end() || !it->second) {
      promise.deliver(no_service(name));
      return;
    }
    targets.push_back(it->second);
  }
  if (req.names.empty())
    for (const auto& [name, a] : st.services)
      if (a)
        targets.push_back(a);
  auto reply = std::make_shared<protocol::serve_status_reply>();
  auto left = std::make_shared<size_t>(targets.size());
  if (targets.empty()) {
    promise.deliver(*reply);
    return;
  }
  for (const auto& a : targets)
    self->request(a, timeouts::actor_query, status_atom_v)
      .then(
        [=](protocol::serve_status_reply& r) mutable {
          for (auto& s : r.services)
            reply->services.push_back(std::move(s));
          for (auto& x : r.replicas)
            reply->replicas.push_back(std::move(x));
          if (--*left == 0) {
            std::sort(
              reply->services.begin(), reply->services.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
            std::sort(reply->replicas.begin(), reply->replicas.end(),
                      [](const auto& a, const auto& b) {
                        return std::tie(a.service, a.id)
                               < std::tie(b.service, b.id);
                      });
            promise.deliver(*reply);
          }
        },
        [=](caf::error&) mutable {
          // A service going away meanwhile is simply not listed.
          if (--*left == 0)
            promise.deliver(*reply);
        });
}

void down(self_ptr self, const protocol::serve_down_request& req,
          caf::response_promise promise) {
  auto& st = self->state;
  std::vector<std::string> names = req.names;
  if (req.all)
    for (const auto& [name, a] : st.services)
      names.push_back(name);
  if (names.empty()) {
    promise.deliver(make_error(errc::invalid_argument,
                               "serve down needs service names or -a",
                               "for example: skyctl serve down my-service"));
    return;
  }
  if (req.replica_id != 0 && names.size() != 1) {
    promise.deliver(make_error(errc::invalid_argument,
                               "--replica-id needs exactly one service name",
                               "for example: skyctl serve down svc "
                               "--replica-id 2"));
    return;
  }
  auto reply = std::make_shared<protocol::serve_down_reply>();
  auto left = std::make_shared<size_t>(names.size());
  auto add = [=](protocol::serve_outcome o) mutable {
    reply->results.push_back(std::move(o));
    if (--*left == 0)
      promise.deliver(*reply);
  };
  for (const auto& name : names) {
    auto it = st.services.find(name);
    if (it == st.services.end() || !it->second) {
      add({name, false, "no service named '" + name + "'"});
      continue;
    }
    auto on_error = [=](caf::error& err) mutable {
      add({name, false, describe(err).message});
    };
    if (req.replica_id != 0)
      self
        ->request(it->second, timeouts::quick_request, down_atom_v,
                  req.replica_id)
        .then([=](protocol::serve_outcome& o) mutable { add(o); }, on_error);
    else
      self->request(it->second, caf::infinite, down_atom_v, req.purge)
        .then([=](protocol::serve_outcome& o) mutable { add(o); }, on_error);
  }
}

} // namespace

std::optional<std::string>
service_of_cluster(const std::map<std::string, caf::actor>& names,
                   const std::string& cluster) {
  auto dash = cluster.rfind('-');
  if (dash == std::string::npos || dash + 1 == cluster.size())
    return std::nullopt;
  for (size_t i = dash + 1; i < cluster.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(cluster[i])))
      return std::nullopt;
  auto name = cluster.substr(0, dash);
  if (names.count(name) == 0)
    return std::nullopt;
  return name;
}

caf::behavior services(self_ptr self, service_deps deps) {
  self->state.deps = std::move(deps);
  return {
    [=](load_atom) {
      auto promise = self->make_response_promise();
      load(self, promise);
      return promise;
    },
    [=](launch_atom, protocol::serve_up_request& req) {
      auto promise = self->make_response_promise();
      up(self, req, promise);
      return promise;
    },
    [=](update_atom,
        protocol::serve_up_request& req) -> caf::result<protocol::service_row> {
      auto it = self->state.services.find(req.name);
      if (it == self->state.services.end() || !it->second)
        return caf::error{no_service(req.name)};
      if (auto ok = check_task(req); !ok)
        return ok.error();
      auto promise = self->make_response_promise<protocol::service_row>();
      auto mode = req.mode;
      self
        ->request(it->second, timeouts::quick_request, update_atom_v,
                  std::move(req), mode)
        .then([=](protocol::service_row& row) mutable { promise.deliver(row); },
              [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](status_atom, protocol::serve_status_request& req) {
      auto promise = self->make_response_promise();
      status(self, req, promise);
      return promise;
    },
    [=](down_atom, protocol::serve_down_request& req) {
      auto promise = self->make_response_promise();
      down(self, req, promise);
      return promise;
    },
    [=](down_atom, std::string& name) { self->state.services.erase(name); },
    [=](lb_report_atom, lb::service_report& rep) {
      auto it = self->state.services.find(rep.service);
      if (it != self->state.services.end() && it->second)
        self->send(it->second, lb_report_atom_v, std::move(rep));
    },
    [=](node_event_atom, providers::provider_event& ev) {
      auto& s = self->state;
      if (auto name = service_of_cluster(s.services, ev.cluster))
        if (auto& a = s.services[*name])
          self->send(a, node_event_atom_v, std::move(ev));
    },
  };
}

} // namespace sky::actors
