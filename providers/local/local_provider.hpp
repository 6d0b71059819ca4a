#pragma once

// The `local` provider: this host as infra. Each node of a cluster is a
// sandbox directory <root>/<cluster>/<rank> reached at 127.0.0.1; capacity
// is this host's CPUs, memory and GPUs minus what other local clusters
// reserved. User-facing rules: docs/LOCAL_INFRA.md.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "providers/common/capacity.hpp"
#include "providers/common/cluster_store.hpp"
#include "providers/common/host_resources.hpp"
#include "providers/provider.hpp"

namespace sky::providers {

struct local_settings {
  /// Where node sandboxes and cluster records live: $SKYD_HOME/nodes
  /// (home_layout::nodes_dir()).
  std::filesystem::path root;
  /// Overrides of what the host has (tests pretend, users hold back part
  /// of the machine). Unset: detected.
  std::optional<double> cpus;
  std::optional<double> memory_gib;
  /// Canonical accelerator name -> count; set (even empty) skips nvidia-smi.
  std::optional<std::map<std::string, double>> gpus;
  /// Command used to detect GPUs.
  std::string nvidia_smi = "nvidia-smi";
  /// stop/terminate: SIGTERM, then SIGKILL after this long.
  std::chrono::milliseconds kill_grace{5000};
};

/// The host's resources with `settings`' overrides applied; runs nvidia-smi
/// unless GPUs are overridden. A failing nvidia-smi (a broken driver is
/// common on hosts that once had GPUs) does not make the local infra
/// unusable: the host counts as having no GPUs and
/// host_resources::gpu_detection_problem says why. Negative overrides are
/// an error.
result<host_resources> detect_host_resources(const local_settings& settings);

class local_provider final : public provider {
public:
  /// Use make_local_provider, which detects the host and prepares `root`.
  local_provider(local_settings settings, host_resources host);

  const std::string& name() const override;
  feature_set features() const override;
  result<cluster_record> run_instances(const provision_request& req) override;
  result<cluster_record>
  wait_instances(const std::string& cluster, instance_state target,
                 std::chrono::milliseconds timeout) override;
  result<cluster_record> query_instances(const std::string& cluster) override;
  result<std::vector<cluster_record>> list_clusters() override;
  result<void> stop_instances(const std::string& cluster) override;
  result<void> terminate_instances(const std::string& cluster) override;
  result<std::unique_ptr<node_channel>>
  open_channel(const cluster_record& cluster, uint32_t rank) override;
  std::optional<std::vector<machine_capacity>> capacity() override;

  const host_resources& host() const { return host_; }
  const std::filesystem::path& root() const { return store_.root(); }

private:
  /// The host's totals as a node_resources.
  node_resources host_total() const;
  /// Reservations of every cluster but `except`; caller holds the locks.
  result<std::vector<local_detail::reservation>>
  reservations_except(const std::string& except) const;
  /// Creates the node sandboxes of `c` (idempotent).
  result<void> create_sandboxes(const local_detail::stored_cluster& c) const;
  /// Kills every process on the cluster's nodes; no lock held.
  void kill_cluster_processes(const std::string& cluster) const;
  /// Callers hold mu_.
  bool busy(const std::string& cluster) const;
  void release_busy(const std::string& cluster);

  local_settings settings_;
  host_resources host_;
  local_detail::cluster_store store_;
  std::string name_ = "local";
  /// Guards busy_ and serialises this object's read-modify-write sections
  /// (the store's flock serialises them across objects and processes).
  mutable std::mutex mu_;
  /// Clusters with a stop or terminate in progress (killing processes,
  /// done without the lock): run_instances refuses them as transient.
  std::map<std::string, int> busy_;
};

/// Detects the host, creates `settings.root`, and clears what a crash may
/// have left in its trash.
result<std::unique_ptr<local_provider>>
make_local_provider(local_settings settings);

} // namespace sky::providers
