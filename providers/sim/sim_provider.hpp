#pragma once

// The sim provider: one object per simulated cloud ("aws", "gcp", ...), all
// sharing one sim_world. It answers the provider verbs as the cloud would
// under the world's scenario: capacity, quota and auth errors with the
// scope failover should block, provisioning delays, never-ready instances,
// spot preemptions. Everything it reports is labelled "(simulated)".
// User-facing rules: docs/SIM.md.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/provider.hpp"
#include "providers/sim/sim_world.hpp"

namespace sky::providers {

class sim_provider final : public provider {
public:
  /// `cloud` must be one of world->clouds().
  sim_provider(std::shared_ptr<sim_world> world, std::string cloud);
  ~sim_provider() override;

  /// Preemptions of this cloud's instances go to `sink` when noticed.
  void set_event_sink(std::function<void(provider_event)> sink) override;

  /// The cloud's name: "aws", "gcp", ...
  const std::string& name() const override;
  /// stop, spot, multi_node, open_ports and gpus: like a real cloud.
  feature_set features() const override;

  /// Checks injected failures, quotas and capacity; creates the nodes one
  /// by one and undoes them all when one does not fit. A repeat with the
  /// same idempotency key returns the same instances; a stopped cluster is
  /// restarted where it is; preempted nodes are replaced.
  result<cluster_record> run_instances(const provision_request& req) override;

  /// Target running: with settings.virtual_time, never sleeps: an instance
  /// not ready yet is errc::transient "not ready until T" (see ready_at);
  /// one that never becomes ready is errc::transient once `timeout` has
  /// passed on the sim clock since it was launched. In real time, sleeps
  /// in small steps up to `timeout`. Errors are scoped to the zone.
  result<cluster_record>
  wait_instances(const std::string& cluster, instance_state target,
                 std::chrono::milliseconds timeout) override;
  /// Instances, preempted ones included (terminated).
  result<cluster_record> query_instances(const std::string& cluster) override;
  result<std::vector<cluster_record>> list_clusters() override;
  /// On-demand only: spot instances cannot be stopped (errc::unsupported).
  result<void> stop_instances(const std::string& cluster) override;
  /// Releases the capacity, kills the nodes' processes and removes their
  /// sandboxes (real mode). Idempotent.
  result<void> terminate_instances(const std::string& cluster) override;
  /// A sim_real_channel or sim_virtual_channel, by settings.mode.
  result<std::unique_ptr<node_channel>>
  open_channel(const cluster_record& cluster, uint32_t rank) override;
  /// nullopt: simulated clouds are priced from the catalog.
  std::optional<std::vector<machine_capacity>> capacity() override;

  /// When the next preemption of this cloud's instances is due (sim
  /// clock), so that skyd can set a timer and then call query_instances or
  /// sim_world::check_preemptions.
  std::optional<int64_t> next_preemption_at();
  /// When every pending instance of `cluster` is ready (sim clock);
  /// nullopt when none is pending or one never will be. A deterministic
  /// caller advances its clock to it and waits again.
  std::optional<int64_t> ready_at(const std::string& cluster);

  const std::shared_ptr<sim_world>& world() const { return world_; }

private:
  std::shared_ptr<sim_world> world_;
  std::string cloud_;
};

/// One provider per simulated cloud of `world`, in world->clouds() order.
std::vector<std::shared_ptr<sim_provider>>
make_sim_providers(const std::shared_ptr<sim_world>& world);

} // namespace sky::providers
