// Start-up reconciliation of the cluster registry with every provider:
// instances a provider holds for a cluster skyd does not know are orphans.
// Write-ahead makes them rare (a cluster is recorded before any provider is
// asked), but a crash inside a provider's rollback, or state restored from
// an older backup, leaves some: they cost money and hold capacity, so they
// are terminated and logged. Restored clusters reconcile their own
// instances (cluster_restore.cpp: adopt, resume, or mark lost).

#include <memory>

#include "actors/cluster/cluster_registry.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/worker_pool.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<registry_state>*;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items)
    out += (out.empty() ? "" : "; ") + i;
  return out;
}

// Records the result once every provider has answered.
void finish(self_ptr self) {
  auto& r = self->state.reconciled;
  r.finished_at_ms = self->state.deps.now_ms();
  logger("clusters")
    ->info("reconciled with {} providers: {} clusters there, {} orphans "
           "terminated{}",
           r.providers, r.provider_clusters, r.orphans.size(),
           r.problems.empty() ? "" : ", problems: " + r.problems_text());
  // An event when reconciliation changed something or could not finish;
  // a clean result is only in the log file and `daemon status`.
  if (r.orphans.empty() && r.problems.empty())
    return;
  event_draft d;
  d.entity = "daemon";
  d.kind = "daemon.reconciled";
  d.fields = map_writer{4}
               .add("providers", r.providers)
               .add("provider_clusters", r.provider_clusters)
               .add("orphans", r.orphans_text())
               .add("problems", r.problems_text())
               .bytes();
  self
    ->request(self->state.deps.log, timeouts::log_append, append_atom_v,
              std::vector<event_draft>{std::move(d)})
    .then([](uint64_t) {},
          [](caf::error& err) {
            logger("clusters")
              ->warn("recording the reconciliation failed: {}",
                     describe(err).message);
          });
}

struct progress {
  size_t left = 0;
};

void one_done(self_ptr self, std::shared_ptr<progress> p) {
  if (--p->left == 0)
    finish(self);
}

void terminate_orphan(self_ptr self, std::shared_ptr<providers::provider> prov,
                      std::string cluster, std::shared_ptr<progress> p) {
  logger("clusters")
    ->warn("{} holds instances of cluster '{}', which skyd does not know: "
           "terminating them",
           prov->name(), cluster);
  run_blocking<bool>(
    self, self->state.deps.pool,
    [prov, cluster]() -> result<bool> {
      if (auto ok = prov->terminate_instances(cluster); !ok)
        return ok.error();
      return true;
    },
    [=](result<bool> r) {
      auto what = prov->name() + "/" + cluster;
      if (r)
        self->state.reconciled.orphans.push_back(what);
      else
        self->state.reconciled.problems.push_back(
          what + ": terminate failed: " + describe(r.error()).message);
      one_done(self, p);
    });
}

} // namespace

std::string reconcile_report::orphans_text() const {
  return joined(orphans);
}

std::string reconcile_report::problems_text() const {
  return joined(problems);
}

void reconcile_providers(self_ptr self) {
  auto& st = self->state;
  st.reconciled = {};
  auto p = std::make_shared<progress>();
  p->left = 1; // this call, so that finish runs once, after everything
  if (st.deps.providers)
    for (const auto& entry : st.deps.providers->by_name) {
      auto prov = entry.second;
      ++p->left;
      ++st.reconciled.providers;
      run_blocking<std::vector<providers::cluster_record>>(
        self, st.deps.pool, [prov] { return prov->list_clusters(); },
        [=](result<std::vector<providers::cluster_record>> r) {
          auto& s = self->state;
          if (!r) {
            s.reconciled.problems.push_back(prov->name()
                                            + ": cannot list clusters: "
                                            + describe(r.error()).message);
            one_done(self, p);
            return;
          }
          for (const auto& rec : *r) {
            ++s.reconciled.provider_clusters;
            // Checked now, in the registry's own turn: a cluster launched
            // since the listing is in the map already (it is registered
            // before any provider is asked).
            if (s.clusters.count(rec.cluster) == 0) {
              ++p->left;
              terminate_orphan(self, prov, rec.cluster, p);
            }
          }
          one_done(self, p);
        });
    }
  one_done(self, p);
}

} // namespace sky::actors
