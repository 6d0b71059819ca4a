#pragma once

// `skyctl check`: every kind of infra skyd knows and whether this skyd can
// use it (enabled, simulated, not configured and how to enable it, not
// supported yet). describe_infra is pure; gather_infra does the little I/O
// it needs (listing the catalog directory, reading the SSH pools file) and
// runs on the worker pool.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "messages/sim_protocol.hpp"
#include "providers/provider.hpp"

namespace sky::actors {

/// What skyd was configured with (fixed at start-up).
struct infra_settings {
  /// The catalog directory in use (resolved: never empty).
  std::filesystem::path catalogs_dir;
  /// Clouds simulated by the sim provider (config sim.clouds).
  std::vector<std::string> sim_clouds;
  std::string sim_scenario;
  std::string sim_mode;
  /// $SKYD_HOME, where ssh_node_pools.yaml would be.
  std::filesystem::path home;
  /// Names of the providers skyd registered ("local", "gcp", "ssh", ...).
  std::vector<std::string> providers;
  /// The SSH pools' provider, when a pools file was loaded: its hosts are
  /// probed by gather_infra (check_pools).
  std::shared_ptr<providers::provider> ssh;
};

/// What gather_infra read from disk.
struct infra_facts {
  /// Clouds with `<catalogs_dir>/<cloud>/vms.csv`, sorted.
  std::vector<std::string> catalog_clouds;
  /// Pools in $SKYD_HOME/ssh_node_pools.yaml; nullopt when there is no such
  /// file. `ssh_problem` says why it could not be read.
  std::optional<size_t> ssh_pools;
  std::string ssh_problem;
  /// Each pool host, probed (reachable, authenticated, resources).
  std::vector<providers::machine_report> ssh_hosts;
};

/// Pure: the rows of `check`, local first, then the simulated clouds (in
/// sim.clouds order), the catalog's other clouds, ssh, slurm, kubernetes.
protocol::check_reply describe_infra(const infra_settings& settings,
                                     const infra_facts& facts);

/// Reads the catalog directory and the SSH pools file, and probes every
/// pool host in parallel (blocking I/O).
infra_facts gather_infra(const infra_settings& settings);

} // namespace sky::actors
