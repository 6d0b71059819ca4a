#pragma once

// What the sim world holds: simulated clusters, their instances and the
// virtual processes of virtual nodes. Plain data, persisted by world_store
// and guarded by the world's lock.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "providers/provider.hpp"
#include "providers/sim/admission.hpp"
#include "providers/sim/sim_catalog.hpp"

namespace sky::providers::sim {

/// What an instance is, apart from what the clock decides: an active
/// instance is pending until its ready time, then running.
enum class phase : uint8_t { active, stopped, terminated };

std::string_view to_string(phase p) noexcept;

/// A process of a virtual node: nothing runs, its life is computed from
/// the sim clock.
struct virtual_process {
  int64_t pid = 0;
  std::string name;
  /// Absolute, under the node's (virtual) home.
  std::string log_file;
  int64_t started_at_ms = 0;
  /// From the script's `# sim: duration=...`; nullopt = runs until
  /// signalled or its node goes away.
  std::optional<int64_t> duration_ms;
  int exit_code = 0;
  /// Ended by a signal at this time, with signal_exit_code (128+N).
  std::optional<int64_t> signalled_at_ms;
  int signal_exit_code = 0;
};

/// Someone waiting for the end of a virtual process (in memory only).
struct exit_watch {
  uint32_t rank = 0;
  /// The instance the process runs on: a replaced node ends it too.
  std::string instance_id;
  int64_t pid = 0;
  int64_t started_at_ms = 0;
  std::function<void()> notify;
};

struct sim_instance {
  /// "sim:<cloud>:<cluster>#<attempt>:<rank>": the attempt that created it.
  std::string id;
  uint32_t rank = 0;
  /// Key of the attempt that created or last restarted it.
  std::string idempotency_key;
  phase state = phase::active;
  /// When it was created or last restarted.
  int64_t launched_at_ms = 0;
  /// When it is (or was) running; nullopt = never (an injected
  /// never_ready failure).
  std::optional<int64_t> ready_at_ms;
  /// Scheduled preemption; only for active instances.
  std::optional<int64_t> preempt_at_ms;
  /// When it stopped or was preempted.
  std::optional<int64_t> ended_at_ms;
  bool preempted = false;
  /// Why it is terminated, for users ("spot preemption (scenario ...)").
  std::string end_reason;
  /// The preemption was pushed to the event sink.
  bool reported = false;
  int64_t next_pid = 1000;
  std::vector<virtual_process> processes;

  bool holds_capacity() const { return state == phase::active; }
  /// Pending or running at `now`.
  bool running_at(int64_t now) const {
    return state == phase::active && ready_at_ms && *ready_at_ms <= now;
  }
};

struct sim_cluster {
  std::string cloud;
  std::string cluster;
  std::string region;
  /// Empty for clouds without zones.
  std::string zone;
  shape what;
  bool spot = false;
  uint32_t num_nodes = 1;
  node_resources per_node;
  std::map<std::string, std::string> labels;
  int64_t created_at_ms = 0;
  /// One per rank, sorted.
  std::vector<sim_instance> instances;
  /// In memory only: a stop or terminate is killing the nodes' processes.
  int busy = 0;

  /// What an instance of this cluster holds, for check_limits.
  held_instance held() const {
    return {region,
            zone,
            what.instance_type,
            what.accelerator,
            what.accelerator_count,
            what.vcpus,
            spot};
  }
};

/// Fault counters and admin capacity changes, kept across restarts while
/// the scenario stays the same.
struct world_file {
  std::string fingerprint;
  /// Fault rule id -> times it fired.
  std::map<std::string, int64_t> fired;
  capacity_overrides overrides;
};

} // namespace sky::providers::sim
