#pragma once

// The shared state of every simulated cloud: the scenario, what each
// simulated instance is (cluster, rank, place, type, spot, state, start
// time, idempotency key), the capacity they use, fault counters, admin
// changes, and the sim clock. One world serves one sim_provider per cloud;
// provider calls come from several worker threads, so every operation
// takes the world's lock (callbacks to the event sinks are made after it is
// released). Time-driven changes (readiness, preemptions) are evaluated
// lazily from the clock on every call. State is persisted under
// settings.root (world_store.hpp) so that a restarted skyd finds its
// simulated instances again. User-facing rules: docs/SIM.md.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "messages/result.hpp"
#include "providers/node_channel.hpp"
#include "providers/provider.hpp"
#include "providers/sim/scenario.hpp"
#include "providers/sim/sim_catalog.hpp"
#include "providers/sim/sim_settings.hpp"
#include "providers/sim/world_store.hpp"
#include "providers/sim/world_types.hpp"

namespace sky::providers {

/// One node as a channel addresses it: the instance it was opened for, so
/// that a node replaced by a newer instance is not mistaken for it.
struct sim_node_ref {
  std::string cloud;
  std::string cluster;
  uint32_t rank = 0;
  std::string instance_id;
  std::filesystem::path home;
  std::string ip;
};

/// A virtual process's script directive (`# sim: duration=30s exit=0`).
struct sim_directive {
  /// nullopt: runs until signalled or its node goes away.
  std::optional<int64_t> duration_ms = 0;
  int exit_code = 0;
};

/// What wait_instances needs to decide, read in one critical section.
struct sim_wait_view {
  cluster_record record;
  int64_t now_ms = 0;
  /// A stop or terminate is in progress.
  bool busy = false;
  /// When the last pending instance becomes ready; nullopt when none is
  /// pending or one never will.
  std::optional<int64_t> ready_at_ms;
  /// Some pending instance never becomes ready (injected failure).
  bool never_ready = false;
  /// The latest launch (creation or restart) of a pending instance.
  int64_t launched_at_ms = 0;
};

class sim_world {
public:
  /// Loads settings.scenario_file (when set), then opens the world.
  static result<std::shared_ptr<sim_world>> open(sim_settings settings);
  /// With a scenario already parsed (tests; an empty one = plenty of
  /// everything).
  static result<std::shared_ptr<sim_world>> open(sim_settings settings,
                                                 sim::scenario scenario);

  sim_world(const sim_world&) = delete;
  sim_world& operator=(const sim_world&) = delete;
  ~sim_world();

  const sim_settings& settings() const { return settings_; }
  const sim::scenario& scenario() const { return scenario_; }
  const sim::catalog_index& catalog() const { return index_; }
  /// The simulated clouds, in the order of settings.clouds.
  const std::vector<std::string>& clouds() const { return clouds_; }

  /// The sim clock (never goes backwards, whatever now_ms does).
  int64_t now();

  // The provider verbs, for the cloud `cloud` (see provider.hpp).
  result<cluster_record> run_instances(const std::string& cloud,
                                       const provision_request& req);
  result<cluster_record> query(const std::string& cloud,
                               const std::string& cluster);
  std::vector<cluster_record> list(const std::string& cloud);
  result<void> stop(const std::string& cloud, const std::string& cluster);
  result<void> terminate(const std::string& cloud, const std::string& cluster);
  /// errc::not_found when the cloud holds no such cluster.
  result<sim_wait_view> wait_view(const std::string& cloud,
                                  const std::string& cluster);

  /// Where the instances' events go (one sink per cloud; an empty function
  /// removes it). Called from whichever thread notices the event, never
  /// with the world's lock held.
  void set_event_sink(const std::string& cloud,
                      std::function<void(provider_event)> sink);

  /// The earliest scheduled preemption of a live instance (of `cloud`, or
  /// of any cloud): when skyd should look again (check_preemptions or any
  /// provider call).
  std::optional<int64_t>
  next_preemption_at(const std::optional<std::string>& cloud = {});
  /// Applies every preemption due by now; returns how many happened.
  /// Watched virtual processes whose scripted end is due are reported too.
  size_t check_preemptions();
  /// The earliest time something scheduled happens: a preemption, or the
  /// scripted end of a watched virtual process (watch_virtual). sim_watch
  /// looks again then.
  std::optional<int64_t> next_due_at();

  // Admin verbs (skyctl sim ...), for demos and tests.

  /// Preempts the running instances of `cluster` (every cloud that holds
  /// it), or only its node `rank`, now. Returns the events (also pushed to
  /// the sinks).
  result<std::vector<provider_event>>
  preempt(const std::string& cluster, std::optional<uint32_t> rank = {});
  /// Sets the capacity limit of an instance type or accelerator in a place
  /// (region and zone may be empty: the whole cloud or region), for spot
  /// or on-demand; nullopt = unlimited. Kept across restarts while the
  /// scenario file is unchanged. Instances already running keep running.
  result<void> set_capacity(const std::string& cloud, const std::string& region,
                            const std::string& zone,
                            const std::string& instance_type_or_accelerator,
                            bool spot, std::optional<int64_t> n);

  // Nodes, for the node channels.

  /// The node of `rank` as it is now (its current instance).
  result<sim_node_ref> node(const std::string& cloud,
                            const std::string& cluster, uint32_t rank);
  /// The state of the instance `ref` was opened for; terminated when it is
  /// gone or was replaced.
  instance_state node_state(const sim_node_ref& ref);

  result<process_handle> start_virtual(const sim_node_ref& ref,
                                       const process_spec& spec,
                                       const sim_directive& directive);
  result<process_status> poll_virtual(const sim_node_ref& ref,
                                      const process_handle& handle);
  result<std::optional<process_handle>>
  find_virtual(const sim_node_ref& ref, const std::string& log_file);
  result<log_chunk> read_virtual_log(const sim_node_ref& ref,
                                     const std::string& log_file,
                                     uint64_t offset, size_t max_bytes);
  result<void> signal_virtual(const sim_node_ref& ref,
                              const process_handle& handle, int sig);
  /// Calls `notify` once the virtual process ends: its scripted duration
  /// is over (seen by the first call into the world from then on, e.g.
  /// sim_watch's at next_due_at()), it is signalled, or its node is
  /// stopped, preempted, torn down or replaced. At once (from this call,
  /// after the lock is released) when it has already ended or is unknown.
  /// In memory only: a restarted skyd watches again.
  void watch_virtual(const sim_node_ref& ref, const process_handle& handle,
                     std::function<void()> notify);

private:
  /// Sink calls collected under the lock and made when it is released:
  /// declare it before the lock guard.
  struct effects {
    std::vector<std::pair<std::function<void(provider_event)>, provider_event>>
      calls;
    /// Ended watched processes (watch_virtual).
    std::vector<std::function<void()>> notices;
    effects() = default;
    effects(const effects&) = delete;
    effects& operator=(const effects&) = delete;
    ~effects();
  };
  using cluster_key = std::pair<std::string, std::string>;

  explicit sim_world(sim_settings settings);
  /// Either `scenario` or, when nullopt, settings.scenario_file.
  static result<std::shared_ptr<sim_world>>
  open(sim_settings settings, std::optional<sim::scenario> scenario);
  result<void> load();

  // Everything below: the caller holds mu_.

  /// Moves the clock to `raw_now` (never backwards), applies what is due
  /// and returns the clock.
  int64_t advance(int64_t raw_now, effects& fx);
  /// Terminates `inst` as preempted at `at`; returns the event, which is
  /// also queued for the cloud's sink.
  provider_event preempt_instance(sim::sim_cluster& c, sim::sim_instance& inst,
                                  int64_t at, const std::string& reason,
                                  effects& fx);
  void schedule(const sim::sim_cluster& c, const sim::sim_instance& inst);
  sim::sim_cluster* find(const std::string& cloud, const std::string& cluster);
  cluster_record record_of(const sim::sim_cluster& c, int64_t now) const;
  std::vector<sim::held_instance> held(const std::string& cloud) const;
  result<void> persist(const sim::sim_cluster& c);
  result<void> persist_world();
  /// Real mode: marks the node as gone and kills its processes at once.
  void end_real_node(const sim::sim_cluster& c, const sim::sim_instance& inst);
  result<void> check_cloud(const std::string& cloud) const;
  /// One try of run_instances in one zone (world_provision.cpp).
  result<cluster_record> provision_in(const std::string& cloud,
                                      const provision_request& req,
                                      const std::string& zone, int64_t now,
                                      std::optional<sim::refusal>& refused);
  /// The instance of a virtual node, or nullptr when it is gone/replaced.
  sim::sim_instance* instance_of(const sim_node_ref& ref);
  /// Queues the notices of the cluster's watched processes that are no
  /// longer running (world_processes.cpp).
  void settle_watches(const std::string& cloud, const std::string& cluster,
                      effects& fx);

  sim_settings settings_;
  sim::scenario scenario_;
  sim::catalog_index index_;
  sim::world_store store_;
  std::vector<std::string> clouds_;

  std::mutex mu_;
  std::map<cluster_key, sim::sim_cluster> clusters_;
  /// Scheduled preemptions: (time, cloud, cluster, rank). Entries of
  /// instances that changed since are skipped when reached.
  std::set<std::tuple<int64_t, std::string, std::string, uint32_t>> timeline_;
  sim::world_file world_;
  std::map<std::string, std::function<void(provider_event)>> sinks_;
  /// Processes someone waits for the end of (watch_virtual), per cluster.
  std::map<cluster_key, std::vector<sim::exit_watch>> watches_;
  /// Scripted ends of watched processes: (time, cloud, cluster). Entries
  /// whose watches are gone are skipped when reached.
  std::set<std::tuple<int64_t, std::string, std::string>> watched_ends_;
  /// Preemptions applied since the world was opened (check_preemptions).
  size_t preemptions_ = 0;
  int64_t clock_ms_ = 0;
  bool clock_started_ = false;
};

} // namespace sky::providers
