#include "actors/cluster/cluster_registry.hpp"

#include <cstdlib>
#include <functional>
#include <unistd.h>

#include "actors/core/fan_in.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<registry_state>*;

caf::error unknown_cluster(const std::string& name) {
  return make_error(errc::not_found, "cluster '" + name + "' does not exist",
                    "see skyctl status");
}

caf::actor spawn_cluster(self_ptr self, const std::string& name,
                         std::optional<cluster_restore> restore,
                         std::optional<std::string> owner) {
  auto& st = self->state;
  auto actor = self->spawn(cluster_actor, st.deps, caf::actor{self},
                           std::move(restore), name);
  st.clusters[name] = actor;
  st.owners[name] = std::move(owner);
  st.summaries.erase(name);
  return actor;
}

// The owner of a cluster skyd holds; "" = the user (so are clusters
// recorded before owners existed).
std::string owner_of(self_ptr self, const std::string& name) {
  auto it = self->state.owners.find(name);
  return it == self->state.owners.end() ? "" : it->second.value_or("");
}

// Refuses a request of `acting` ("" = the user: every verb from the wire)
// on a cluster of another owner: the user's verbs leave a managed job's
// cluster to the job, and a managed job never launches on a cluster that
// is not its own.
caf::error refuse_foreign(self_ptr self, const std::string& name,
                          const std::string& acting) {
  auto owner = owner_of(self, name);
  if (owner == acting)
    return {};
  auto text = "cluster '" + name + "' belongs to " + owner_text(owner);
  if (auto job = owner_job_id(owner); job && acting.empty())
    return make_error(errc::conflict,
                      text + "; cancel the job with skyctl jobs cancel "
                        + std::to_string(*job));
  if (owner.rfind("service.", 0) == 0 && acting.empty())
    return make_error(errc::conflict,
                      text + "; its service replaces or removes it: skyctl "
                             "serve down "
                        + owner.substr(8) + " [--replica-id N]");
  return make_error(errc::conflict, text + ", not to " + owner_text(acting),
                    "tear that cluster down or rename it, then launch the "
                    "job again");
}

// One outcome's message for an error: "why (hint)".
std::string outcome_text(const caf::error& err) {
  auto info = describe(err);
  return info.message + (info.hint.empty() ? "" : " (" + info.hint + ")");
}

// What a cluster's outcome is without asking it (a refusal, a cluster left
// alone); nullopt: ask the cluster.
using settled = std::optional<protocol::cluster_outcome>;
using screen_fn = std::function<settled(const std::string&)>;

// The screen of the user's stop, start and down: a managed job's cluster
// is refused.
screen_fn user_screen(self_ptr self) {
  return [self](const std::string& name) -> settled {
    if (auto err = refuse_foreign(self, name, ""))
      return protocol::cluster_outcome{name, false, "", outcome_text(err),
                                       describe(err).code};
    return std::nullopt;
  };
}

// The screen of an owner's own teardown: a cluster of another owner is not
// its to tear down. It is left alone and reported done, so that the owner
// (a managed job) counts it as gone: a user's cluster that happens to carry
// the job's cluster name survives the job. A cluster without a recorded
// owner (from before owners existed) may be the job's own: torn down.
screen_fn owner_screen(self_ptr self, std::string owner) {
  return [self, owner](const std::string& name) -> settled {
    auto it = self->state.owners.find(name);
    if (it == self->state.owners.end() || !it->second || *it->second == owner)
      return std::nullopt;
    return protocol::cluster_outcome{name, true, "",
                                     "cluster '" + name + "' belongs to "
                                       + owner_text(*it->second)
                                       + "; left alone"};
  };
}

// Restores every cluster and its jobs from their snapshots.
void load(self_ptr self, caf::response_promise promise) {
  auto log = self->state.deps.log;
  self
    ->request(log, timeouts::log_restore, snapshots_atom_v,
              std::string{"cluster."})
    .then(
      [=](snapshot_list& clusters) mutable {
        self
          ->request(log, timeouts::log_restore, snapshots_atom_v,
                    std::string{"job."})
          .then(
            [=](snapshot_list& jobs) mutable {
              std::map<std::string, cluster_restore> restores;
              for (const auto& [key, value] : clusters) {
                auto snap = protocol::decode_as<cluster_snapshot>(
                  value, "cluster snapshot " + key);
                if (!snap) {
                  logger("clusters")
                    ->error("{}", describe(snap.error()).message);
                  continue;
                }
                restores[snap->name].snapshot = std::move(*snap);
              }
              for (const auto& [key, value] : jobs) {
                auto snap = protocol::decode_as<job_snapshot>(
                  value, "job snapshot " + key);
                if (!snap) {
                  logger("clusters")
                    ->error("{}", describe(snap.error()).message);
                  continue;
                }
                auto i = restores.find(snap->cluster);
                if (i != restores.end())
                  i->second.jobs.push_back(std::move(*snap));
              }
              for (auto& [name, restore] : restores) {
                auto owner = restore.snapshot.owner;
                spawn_cluster(self, name, std::move(restore), std::move(owner));
              }
              self->state.loaded = true;
              logger("clusters")
                ->info("restored {} clusters and {} jobs", restores.size(),
                       jobs.size());
              promise.deliver(true);
              reconcile_providers(self);
            },
            [=](caf::error& err) mutable { promise.deliver(err); });
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
}

// Sends `msg` to each named cluster that `screen` lets through and gathers
// the outcomes.
template <class... Ts>
void fan_out(self_ptr self, std::vector<std::string> names,
             caf::response_promise promise, const screen_fn& screen, Ts... xs) {
  auto g = fan_in<protocol::outcomes_reply>::make(promise, names.size());
  g->reply().results.resize(names.size());
  if (g->deliver_if_empty())
    return;
  for (size_t i = 0; i < names.size(); ++i) {
    auto& out = g->reply().results[i];
    out.cluster = names[i];
    auto it = self->state.clusters.find(names[i]);
    if (it == self->state.clusters.end()) {
      auto unknown = describe(unknown_cluster(names[i]));
      out.message = unknown.message;
      out.code = unknown.code;
      g->arrived();
      continue;
    }
    if (auto known = screen(names[i])) {
      out = std::move(*known);
      g->arrived();
      continue;
    }
    self->request(it->second, caf::infinite, xs...)
      .then(
        [=](std::string& status) {
          auto& o = g->reply().results[i];
          o.ok = true;
          o.status = status;
          g->arrived();
        },
        [=](caf::error& err) {
          g->reply().results[i].message = outcome_text(err);
          g->reply().results[i].code = describe(err).code;
          g->arrived();
        });
  }
}

// The clusters a request names; with `all` (or no names) every cluster,
// or with `users_only` (stop, start, down, queue) every cluster of the
// user's: a managed job's cluster is its job's to tear down, and its queue
// is `jobs queue`.
std::vector<std::string> names_of(self_ptr self,
                                  const protocol::clusters_request& req,
                                  bool users_only) {
  if (req.all || req.clusters.empty()) {
    std::vector<std::string> all;
    for (const auto& [name, _] : self->state.clusters)
      if (!users_only || owner_of(self, name).empty())
        all.push_back(name);
    return all;
  }
  return req.clusters;
}

} // namespace

std::string generated_cluster_name(uint64_t entropy) {
  const char* user = std::getenv("USER");
  std::string u = user != nullptr && *user ? user : "user";
  std::string clean;
  for (char c : u)
    if (std::isalnum(static_cast<unsigned char>(c)))
      clean += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (clean.empty())
    clean = "user";
  char hex[8];
  std::snprintf(hex, sizeof(hex), "%04x",
                static_cast<unsigned>(entropy & 0xffff));
  return "sky-" + std::string{hex} + "-" + clean;
}

caf::behavior cluster_registry(self_ptr self, cluster_deps deps) {
  self->state.deps = std::move(deps);
  // Cluster actors are not linked (one failing must not take the others
  // down), so they are stopped explicitly with the registry.
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [name, cluster] : self->state.clusters)
      self->send_exit(cluster, em.reason);
    self->quit(em.reason);
  });
  return {
    [=](load_atom) {
      auto promise = self->make_response_promise();
      load(self, promise);
      return promise;
    },
    [=](reconcile_atom) { return self->state.reconciled; },
    [=](new_name_atom) {
      auto& st = self->state;
      std::string name;
      uint64_t salt = 0;
      do
        name = generated_cluster_name(
          static_cast<uint64_t>(st.deps.now_ms()) ^ (st.clusters.size() << 7)
          ^ static_cast<uint64_t>(getpid()) ^ (salt++ * 40503));
      while (st.clusters.count(name) > 0);
      return name;
    },
    [=](launch_atom, std::string& name,
        launch_order& order) -> caf::result<caf::message> {
      auto& st = self->state;
      if (auto ok = validate_cluster_name(name); !ok)
        return ok.error();
      auto it = st.clusters.find(name);
      if (it != st.clusters.end())
        if (auto err = refuse_foreign(self, name, order.owner))
          return err;
      auto actor = it != st.clusters.end()
                     ? it->second
                     : spawn_cluster(self, name, std::nullopt, order.owner);
      return self->delegate(actor, launch_atom_v, std::move(order));
    },
    [=](exec_atom, std::string& name,
        task::task_spec& task) -> caf::result<caf::message> {
      auto it = self->state.clusters.find(name);
      if (it == self->state.clusters.end())
        return unknown_cluster(name);
      if (auto err = refuse_foreign(self, name, ""))
        return err;
      return self->delegate(it->second, exec_atom_v, std::move(task));
    },
    [=](status_atom, protocol::clusters_request& req) {
      auto promise = self->make_response_promise();
      auto names = names_of(self, req, false);
      auto& st = self->state;
      std::vector<const cluster_summary*> known;
      std::vector<std::string> ask;
      for (const auto& n : names) {
        if (st.clusters.count(n) == 0)
          continue;
        if (auto s = st.summaries.find(n); s != st.summaries.end())
          known.push_back(&s->second);
        else
          ask.push_back(n);
      }
      auto g = fan_in<protocol::status_reply>::make(
        promise, ask.size(), [](protocol::status_reply& r) {
          std::sort(
            r.clusters.begin(), r.clusters.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
        });
      for (const auto* s : known)
        g->reply().clusters.push_back(*s);
      if (g->deliver_if_empty())
        return promise;
      for (const auto& n : ask) {
        auto actor = st.clusters[n];
        self->request(actor, timeouts::actor_query, status_atom_v)
          .then(
            [=](cluster_summary& s) {
              // A cluster's messages arrive in order: this reply is newer
              // than any summary it sent before, older than any after.
              auto it = self->state.clusters.find(s.name);
              if (it != self->state.clusters.end() && it->second == actor)
                self->state.summaries[s.name] = s;
              g->reply().clusters.push_back(std::move(s));
              g->arrived();
            },
            [=](caf::error& err) {
              logger("clusters")
                ->warn("status of a cluster failed: {}", describe(err).message);
              g->arrived();
            });
      }
      return promise;
    },
    [=](stop_atom, protocol::clusters_request& req) {
      auto promise = self->make_response_promise();
      fan_out(self, names_of(self, req, true), promise, user_screen(self),
              stop_atom_v);
      return promise;
    },
    [=](start_atom, protocol::clusters_request& req) {
      auto promise = self->make_response_promise();
      fan_out(self, names_of(self, req, true), promise, user_screen(self),
              start_atom_v);
      return promise;
    },
    [=](down_atom, protocol::clusters_request& req) {
      auto promise = self->make_response_promise();
      fan_out(self, names_of(self, req, true), promise, user_screen(self),
              down_atom_v);
      return promise;
    },
    [=](down_atom, protocol::clusters_request& req, std::string& owner) {
      // A managed job tearing down its own cluster (the dispatcher never
      // sends this form).
      auto promise = self->make_response_promise();
      fan_out(self, req.clusters, promise, owner_screen(self, owner),
              down_atom_v);
      return promise;
    },
    [=](autostop_atom,
        protocol::autostop_request& req) -> caf::result<caf::message> {
      auto it = self->state.clusters.find(req.cluster);
      if (it == self->state.clusters.end())
        return unknown_cluster(req.cluster);
      if (auto err = refuse_foreign(self, req.cluster, ""))
        return err;
      return self->delegate(it->second, autostop_atom_v, std::move(req));
    },
    [=](queue_atom, protocol::queue_request& req) {
      auto promise = self->make_response_promise();
      // Without names: the user's clusters, as `status` shows them (a
      // managed job's queue is `jobs queue`); a cluster named is shown.
      auto names = names_of(self, {req.clusters, false}, true);
      for (const auto& n : names)
        if (self->state.clusters.count(n) == 0) {
          promise.deliver(unknown_cluster(n));
          return promise;
        }
      // Answers come in any order; the reply keeps the clusters' order.
      using job_lists = std::vector<std::vector<job_summary>>;
      auto per_cluster = std::make_shared<job_lists>(names.size());
      auto g = fan_in<protocol::queue_reply>::make(
        promise, names.size(), [per_cluster](protocol::queue_reply& r) {
          for (auto& jobs : *per_cluster)
            for (auto& j : jobs)
              r.jobs.push_back(std::move(j));
        });
      if (g->deliver_if_empty())
        return promise;
      for (size_t i = 0; i < names.size(); ++i)
        self
          ->request(self->state.clusters[names[i]], timeouts::actor_query,
                    queue_atom_v)
          .then(
            [=](std::vector<job_summary>& jobs) {
              (*per_cluster)[i] = std::move(jobs);
              g->arrived();
            },
            [=](caf::error&) { g->arrived(); });
      return promise;
    },
    [=](cancel_atom,
        protocol::cancel_request& req) -> caf::result<caf::message> {
      auto it = self->state.clusters.find(req.cluster);
      if (it == self->state.clusters.end())
        return unknown_cluster(req.cluster);
      if (auto err = refuse_foreign(self, req.cluster, ""))
        return err;
      return self->delegate(it->second, cancel_atom_v, std::move(req));
    },
    [=](logs_atom, std::string& name,
        uint64_t job) -> caf::result<caf::message> {
      auto it = self->state.clusters.find(name);
      if (it == self->state.clusters.end())
        return unknown_cluster(name);
      return self->delegate(it->second, logs_atom_v, job);
    },
    [=](node_event_atom, providers::provider_event& ev) {
      // From a provider's event sink: the owning cluster decides what it
      // means. Events of clusters skyd does not know (torn down meanwhile)
      // are only logged.
      auto it = self->state.clusters.find(ev.cluster);
      if (it == self->state.clusters.end()) {
        logger("clusters")
          ->info("{} event of unknown cluster {} on {}: {}",
                 ev.what == providers::provider_event::kind::preempted
                   ? "preemption"
                   : "lost-node",
                 ev.cluster, ev.provider, ev.reason);
        return;
      }
      self->send(it->second, node_event_atom_v, std::move(ev));
    },
    [=](down_atom, std::string& name) {
      auto it = self->state.clusters.find(name);
      if (it != self->state.clusters.end()
          && it->second.address() == self->current_sender()) {
        self->state.clusters.erase(it);
        self->state.owners.erase(name);
        self->state.summaries.erase(name);
      }
    },
    [=](summary_atom, cluster_summary& s) {
      // Only from the cluster's current actor: a torn-down one may still
      // send its last summary after its down message.
      auto it = self->state.clusters.find(s.name);
      if (it == self->state.clusters.end()
          || it->second.address() != self->current_sender())
        return;
      self->state.summaries[s.name] = std::move(s);
    },
  };
}

} // namespace sky::actors
