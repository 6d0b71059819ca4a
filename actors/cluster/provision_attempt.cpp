#include "actors/cluster/provision_attempt.hpp"

#include "actors/core/worker_pool.hpp"

namespace sky::actors {

namespace {

// What one node of `rec` has: the smallest of its own machines when the
// provider names them "<region>/<ip>:<port>" (SSH pools, whose hosts
// differ), else the provider's one machine (local).
providers::node_resources
node_total(const std::vector<providers::machine_capacity>& machines,
           const providers::cluster_record& rec) {
  std::optional<providers::node_resources> least;
  for (const auto& inst : rec.instances) {
    auto prefix = rec.region + "/" + inst.internal_ip + ":";
    for (const auto& m : machines)
      if (!rec.region.empty() && m.name.rfind(prefix, 0) == 0
          && (!least || m.total.cpus < least->cpus))
        least = m.total;
  }
  return least.value_or(machines.front().total);
}

} // namespace

caf::behavior provision_attempt(caf::event_based_actor* self, caf::actor pool,
                                std::shared_ptr<providers::provider> provider,
                                providers::provision_request request,
                                std::chrono::milliseconds timeout) {
  return {
    [=](start_atom) {
      auto promise = self->make_response_promise();
      run_blocking<provision_result>(
        self, pool,
        [provider, request, timeout]() -> result<provision_result> {
          auto created = provider->run_instances(request);
          if (!created)
            return created.error();
          auto ready = provider->wait_instances(
            request.cluster, providers::instance_state::running, timeout);
          if (!ready)
            return ready.error();
          provision_result out;
          out.record = std::make_shared<const providers::cluster_record>(
            std::move(*ready));
          if (auto machines = provider->capacity();
              machines && !machines->empty())
            out.machine_total = node_total(*machines, *out.record);
          return out;
        },
        [=](result<provision_result> r) mutable {
          if (r)
            promise.deliver(std::move(*r));
          else
            promise.deliver(r.error());
          self->quit();
        });
      return promise;
    },
  };
}

} // namespace sky::actors
