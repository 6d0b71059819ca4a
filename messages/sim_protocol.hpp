#pragma once

// Bodies of the verbs about infra and the simulator: `check` (what infra
// skyd can use), `sim.preempt` and `sim.capacity` (the simulator's admin
// verbs). Listed with their fields in docs/PROTOCOL.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

namespace sky::protocol {

/// One infra of `check`.
struct infra_row {
  /// "local", "gcp", "ssh", "slurm", "kubernetes", ...
  std::string name;
  /// "local", "cloud", "ssh", "slurm", "kubernetes".
  std::string kind;
  /// "enabled", "not configured" or "not supported".
  std::string status;
  /// A simulated cloud (sim provider), never a real one.
  bool simulated = false;
  /// What it is or why it is not enabled.
  std::string detail;
  /// How to enable it, when it is not.
  std::string hint;

  MSGPACK_DEFINE_MAP(name, kind, status, simulated, detail, hint)
};

/// Reply of `check`.
struct check_reply {
  std::vector<infra_row> infra;
  /// The price catalogs directory skyd reads.
  std::string catalogs_dir;
  /// sim.scenario ("" = none) and sim.mode ("" when no cloud is simulated).
  std::string sim_scenario;
  std::string sim_mode;

  MSGPACK_DEFINE_MAP(infra, catalogs_dir, sim_scenario, sim_mode)
};

/// `sim.preempt`: preempt a simulated cluster now, or one node of it.
struct sim_preempt_request {
  std::string cluster;
  std::optional<uint32_t> node;

  MSGPACK_DEFINE_MAP(cluster, node)
};

struct sim_preempted_node {
  std::string cloud;
  uint32_t rank = 0;
  std::string reason;

  MSGPACK_DEFINE_MAP(cloud, rank, reason)
};

struct sim_preempt_reply {
  std::string cluster;
  std::vector<sim_preempted_node> nodes;

  MSGPACK_DEFINE_MAP(cluster, nodes)
};

/// `sim.capacity`: set the capacity limit of an instance type or
/// accelerator in a place.
struct sim_capacity_request {
  /// "cloud", "cloud/region" or "cloud/region/zone".
  std::string place;
  /// Instance type or accelerator name.
  std::string type;
  /// Instances (instance type) or devices (accelerator); nullopt =
  /// unlimited.
  std::optional<int64_t> n;
  /// "both" (default), "spot" or "on_demand".
  std::string pool = "both";

  MSGPACK_DEFINE_MAP(place, type, n, pool)
};

} // namespace sky::protocol
