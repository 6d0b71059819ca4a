#pragma once

// The `ssh` provider: machines someone already owns, reached over SSH and
// grouped in node pools ($SKYD_HOME/ssh_node_pools.yaml). One provider
// serves every pool; a provision request names its pool in `region`, as the
// optimizer writes `infra: ssh/<pool>` (cloud "ssh", region "<pool>"). A
// cluster takes whole hosts; stop is not supported; terminate kills what
// the cluster runs on its hosts, removes its directories there and releases
// the hosts. User-facing rules: docs/SSH.md.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "providers/provider.hpp"
#include "providers/ssh/host_keys.hpp"
#include "providers/ssh/host_probe.hpp"
#include "providers/ssh/pool_config.hpp"
#include "providers/ssh/session.hpp"
#include "providers/ssh/ssh_store.hpp"

namespace sky::providers {

struct ssh_settings {
  /// skyd's SSH state: $SKYD_HOME/ssh (cluster records, known_hosts).
  std::filesystem::path root;
  ssh::pool_file pools;
  /// Empty: <root>/known_hosts.
  std::filesystem::path known_hosts;
  ssh::host_key_policy policy = ssh::host_key_policy::accept_new;
  /// Where node directories go on the hosts: `~/...` (the login user's
  /// home) or absolute. A node of cluster C, rank R is <remote_root>/C/R.
  std::string remote_root = "~/.skyd-nodes";
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{10'000};
  /// A host that has not answered for this long is lost.
  std::chrono::milliseconds loss_after{30'000};
  /// Probed CPUs/memory/GPUs are reused for this long.
  std::chrono::milliseconds probe_ttl{300'000};
  /// terminate: SIGTERM, then SIGKILL after this long (whole seconds).
  std::chrono::seconds kill_grace{5};
};

/// One host as `skyctl check` shows it.
struct ssh_host_report {
  std::string pool;
  ssh::pool_host host;
  /// Reachable, authenticated, probed.
  bool ok = false;
  /// Why not (names the host and the problem), or a GPU detection problem.
  std::string problem;
  ssh::probe_result probe;
  /// Cluster holding the host; empty when free.
  std::string held_by;
};

class ssh_provider final : public provider {
public:
  /// Use make_ssh_provider.
  explicit ssh_provider(ssh_settings settings);

  void set_event_sink(std::function<void(provider_event)> sink) override;
  const std::string& name() const override;
  feature_set features() const override;
  result<cluster_record> run_instances(const provision_request& req) override;
  result<cluster_record>
  wait_instances(const std::string& cluster, instance_state target,
                 std::chrono::milliseconds timeout) override;
  result<cluster_record> query_instances(const std::string& cluster) override;
  result<std::vector<cluster_record>> list_clusters() override;
  /// errc::unsupported: pool hosts are not skyd's to power off.
  result<void> stop_instances(const std::string& cluster) override;
  result<void> terminate_instances(const std::string& cluster) override;
  result<std::unique_ptr<node_channel>>
  open_channel(const cluster_record& cluster, uint32_t rank) override;
  /// Every host of every pool that answers, named "<pool>/<ip>:<port>";
  /// free is zero on held hosts. Probes (in parallel) hosts whose probe is
  /// older than probe_ttl.
  std::optional<std::vector<machine_capacity>> capacity() override;

  /// The configured pools and their hosts ("<ip>:<port>"), in file order.
  std::vector<machine_pool> pools() const override;
  /// check_hosts() of every pool, as the interface reports machines.
  std::vector<machine_report> check_pools() override;

  /// The hosts of one pool (capacity() filtered), for the planner's
  /// per-pool fixed-capacity infra.
  std::vector<machine_capacity> capacity_of(const std::string& pool);

  /// Probes every host of `pool` (every pool when empty) in parallel,
  /// afresh: what `skyctl check` shows.
  std::vector<ssh_host_report> check_hosts(const std::string& pool = {});

  /// Asks each node's host of a cluster whether it answers; ranks whose
  /// host has not answered for loss_after are returned (and pushed as lost
  /// events). For a periodic health check when no job is being polled.
  result<std::vector<uint32_t>> check_nodes(const std::string& cluster);

  /// Closes every SSH connection (they reopen on demand).
  void drop_sessions();

  const ssh_settings& settings() const { return settings_; }

private:
  struct probe_entry {
    ssh::probe_result probe;
    std::chrono::steady_clock::time_point at;
  };
  struct event_hub;

  std::shared_ptr<ssh::host_session> session_for(const ssh::pool_host& h);
  /// Probe of `h` (cached unless `fresh`).
  result<ssh::probe_result> probe(const ssh::pool_host& h, bool fresh);
  /// Probes in parallel; result i for hosts[i].
  std::vector<result<ssh::probe_result>>
  probe_all(const std::vector<ssh::pool_host>& hosts, bool fresh);
  result<const ssh::node_pool*> pool_for(const std::string& region) const;
  /// Host key -> cluster, from every record but `except`.
  result<std::map<std::string, std::string>>
  holders(const std::string& except) const;
  /// Removes node directories left by terminate on hosts that were down;
  /// returns the problem for hosts whose cleanup still fails.
  std::map<std::string, std::string> run_pending_cleanups();
  /// Drops the cached probe of `h` (it stopped answering).
  void forget_probe(const ssh::pool_host& h);
  /// A new cluster's hosts: the first free ones in pool order that fit and
  /// have no problem (`problems`: host key -> why not); `held`: host key ->
  /// cluster.
  result<ssh::stored_cluster>
  choose_hosts(const provision_request& req, const ssh::node_pool& pool,
               const std::vector<result<ssh::probe_result>>& probes,
               const std::map<std::string, std::string>& held,
               const std::map<std::string, std::string>& problems);
  /// Makes every node's directory; the first host that failed and why.
  std::optional<std::pair<ssh::pool_host, caf::error>>
  prepare_nodes(const ssh::stored_cluster& c);
  /// Kills the node's processes and removes its directory on the host.
  result<void> cleanup_node(const ssh::pool_host& h, const std::string& home);
  std::string node_home(const std::string& remote_home,
                        const std::string& cluster, uint32_t rank) const;

  ssh_settings settings_;
  ssh::ssh_store store_;
  std::string name_ = "ssh";
  std::shared_ptr<event_hub> events_;
  /// Serialises this object's read-modify-write sections (the store's
  /// flock serialises them across objects and processes).
  std::mutex mu_;
  std::mutex sessions_mu_;
  std::map<std::string, std::shared_ptr<ssh::host_session>> sessions_;
  std::mutex probes_mu_;
  std::map<std::string, probe_entry> probes_;
};

/// Checks the settings (pools, remote_root), creates `root` (mode 0700).
result<std::unique_ptr<ssh_provider>> make_ssh_provider(ssh_settings settings);

} // namespace sky::providers
