#pragma once

// The provider interface: one per kind of infra (local, ssh, slurm, sim,
// later clouds), with the verbs SkyPilot's provisioners use. Calls block
// (they do I/O): skyd runs them on provider worker actors, never on the
// scheduler threads. Failures are mapped at this boundary to the outcomes
// failover understands (see provider_error below).

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/failure_scope.hpp"
#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"
#include "providers/node_channel.hpp"

namespace sky::providers {

/// What a provider can do, declared up front so that the optimizer filters
/// before acting instead of failing at call time.
struct feature_set {
  /// Stop and restart instances, keeping their disks.
  bool stop = false;
  bool spot = false;
  bool multi_node = false;
  bool open_ports = false;
  bool gpus = false;
};

/// A provider failure: `code` is one of errc::no_capacity, quota, auth,
/// transient, fatal, unsupported (or invalid_argument for a bad request).
caf::error provider_error(errc code, failure_scope scope, std::string message,
                          std::string hint = {});

/// The scope of an error built by provider_error (zone for other errors).
failure_scope scope_of(const caf::error& err);

/// What each node of a cluster reserves on fixed-capacity infra (local,
/// ssh pools): zero means "not stated, reserve nothing".
struct node_resources {
  double cpus = 0;
  double memory_gib = 0;
  /// Accelerator name -> count per node.
  std::map<std::string, double> gpus;

  friend bool operator==(const node_resources&, const node_resources&)
    = default;
};

/// One provisioning attempt (SkyPilot's ProvisionConfig), typed.
struct provision_request {
  std::string cluster;
  /// Attempt number; the idempotency key "cluster#attempt" is tagged on
  /// every instance created, so a crash mid-attempt never leaves an unseen
  /// second copy.
  uint32_t attempt = 1;
  std::string region;
  std::string zone;
  std::string instance_type;
  bool use_spot = false;
  uint32_t num_nodes = 1;
  node_resources per_node;
  uint32_t disk_size_gb = 0;
  std::vector<task::port_range> ports;
  std::map<std::string, std::string> labels;

  std::string idempotency_key() const {
    return cluster + "#" + std::to_string(attempt);
  }
};

enum class instance_state : uint8_t {
  pending,
  running,
  stopping,
  stopped,
  terminated
};

std::string_view to_string(instance_state s) noexcept;

struct instance_info {
  /// Provider-unique id, e.g. "local:train:0".
  std::string id;
  /// 0 is the head node.
  uint32_t rank = 0;
  instance_state state = instance_state::pending;
  std::string internal_ip;
  std::string external_ip;
  std::string zone;
  std::string idempotency_key;
};

/// What exists for one cluster on a provider (SkyPilot's ProvisionRecord and
/// ClusterInfo in one).
struct cluster_record {
  std::string provider;
  std::string cluster;
  std::string region;
  std::string zone;
  std::string instance_type;
  bool use_spot = false;
  node_resources per_node;
  /// Sorted by rank.
  std::vector<instance_info> instances;
};

/// A machine of fixed-capacity infra and what is still free on it.
struct machine_capacity {
  std::string name;
  node_resources total;
  node_resources free;
};

/// A pool of machines taken whole, one node per machine (SSH node pools):
/// each pool is a fixed-capacity infra of its own, `<provider>/<pool>`.
struct machine_pool {
  std::string name;
  /// The pool's machines in the pool's order; capacity() names each
  /// "<pool>/<machine>".
  std::vector<std::string> machines;
};

/// One pool machine as `skyctl check` shows it, probed afresh.
struct machine_report {
  std::string pool;
  std::string machine;
  /// Reachable, authenticated, probed.
  bool ok = false;
  /// Why not (names the machine and the problem), or a problem the probe
  /// met on the way (GPU detection).
  std::string problem;
  /// What the probe found (when ok).
  node_resources resources;
  /// Cluster holding the machine; empty when free.
  std::string held_by;
};

/// Something that happened to a cluster's instances without skyd asking: a
/// spot preemption, a node that stopped answering.
struct provider_event {
  enum class kind : uint8_t { preempted, lost };
  kind what = kind::preempted;
  std::string provider;
  std::string cluster;
  uint32_t rank = 0;
  std::string reason;
  int64_t at_ms = 0;
};

class provider {
public:
  virtual ~provider() = default;

  /// Providers that learn about instance events on their own (a simulated
  /// preemption, a lost SSH host) push them to `sink`, from any thread.
  /// skyd also polls query_instances, so pushing is an optimisation of
  /// detection latency, not a requirement.
  virtual void set_event_sink(std::function<void(provider_event)> sink) {
    (void) sink;
  }

  /// "local", "ssh", "slurm", "aws" (simulated clouds use the cloud's name).
  virtual const std::string& name() const = 0;

  virtual feature_set features() const = 0;

  /// Creates the cluster's instances, or restarts its stopped ones. Safe to
  /// repeat with the same idempotency key: instances already created for
  /// it are reused, never duplicated.
  virtual result<cluster_record> run_instances(const provision_request& req)
    = 0;

  /// Waits until every instance is in `target` (or fails, e.g. an instance
  /// that never becomes ready).
  virtual result<cluster_record>
  wait_instances(const std::string& cluster, instance_state target,
                 std::chrono::milliseconds timeout)
    = 0;

  /// The cluster's instances and their states; errc::not_found when the
  /// provider knows none.
  virtual result<cluster_record> query_instances(const std::string& cluster)
    = 0;

  /// Every cluster the provider holds instances for (tagged by skyd), for
  /// reconciliation after a restart.
  virtual result<std::vector<cluster_record>> list_clusters() = 0;

  virtual result<void> stop_instances(const std::string& cluster) = 0;

  /// Removes the cluster's instances and whatever they hold. Idempotent.
  virtual result<void> terminate_instances(const std::string& cluster) = 0;

  /// A channel to one node (rank) of a running cluster.
  virtual result<std::unique_ptr<node_channel>>
  open_channel(const cluster_record& cluster, uint32_t rank) = 0;

  /// Machines and free capacity of fixed-capacity infra (local, ssh pools);
  /// nullopt for catalog-priced clouds.
  virtual std::optional<std::vector<machine_capacity>> capacity() = 0;

  /// Pools whose machines are taken whole (SSH node pools). The planner
  /// makes each its own infra, so that a task lands on one pool and a
  /// refusal names the machines that did not fit; the default, no pools,
  /// suits providers whose capacity() is one infra (local) or none.
  virtual std::vector<machine_pool> pools() const { return {}; }

  /// Probes every pool machine afresh, for `skyctl check` (blocking);
  /// empty for providers without pools.
  virtual std::vector<machine_report> check_pools() { return {}; }
};

} // namespace sky::providers
