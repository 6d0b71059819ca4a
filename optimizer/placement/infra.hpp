#pragma once

// What the optimizer may place work on (enabled clouds and fixed-capacity
// infra such as this host), and what failover has ruled out (blocklist).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::optimizer {

/// GPUs of one model free on a fixed-capacity node.
struct gpu_capacity {
  /// Canonical accelerator name, e.g. "A100" (matched case-insensitively).
  std::string name;
  /// Free devices; fractional when a device is partly shared.
  double count = 0;
  /// Memory of one device in GiB, when known (else the catalogs' figure is
  /// used for by-memory requests such as `80GB+`).
  std::optional<double> memory_gib;
};

/// Free capacity of one machine of a fixed-capacity infra.
struct node_capacity {
  double vcpus = 0;
  double memory_gib = 0;
  std::vector<gpu_capacity> gpus;
  /// The machine as refusals name it ("10.0.0.1:22"); may be empty.
  std::string name;
};

/// Infra whose machines already exist and cost nothing per hour: `local`
/// (this host), later `ssh/<pool>` and `slurm/<cluster>`. The caller passes
/// FREE capacity, so the answer reflects what is running now.
struct fixed_capacity_infra {
  /// Provider as written in `infra:`: "local", "ssh", "slurm".
  std::string provider;
  /// Pool or cluster name ("" for local); matched against infra's region.
  std::string name;
  /// One entry per machine. A task's nodes are packed onto these machines
  /// (several task nodes may share a machine, as on `local`).
  std::vector<node_capacity> nodes;
  /// A machine takes at most one task node, whatever its size (SSH pool
  /// hosts are taken whole); refusals then name each machine.
  bool whole_machines = false;
  /// Machines that cannot take a node at all, as "<name>: <why>" (held by
  /// a cluster, not answering); only named in refusals.
  std::vector<std::string> unavailable;
  /// Every machine's whole capacity, used or not, when all of them are known
  /// (none is unreachable). A task that does not fit even in these can never
  /// run here, whatever ends: the refusal is then permanent (no_match), not
  /// no_free_capacity, so a managed job fails its prechecks at once instead
  /// of waiting for capacity that cannot come.
  std::optional<std::vector<node_capacity>> whole;
};

/// Enabled infra, as configured (`sim.clouds`, local capacity, ...).
struct enabled_infra {
  /// Clouds priced from the catalog, lower case ("aws", "gcp", ...).
  std::vector<std::string> clouds;
  std::vector<fixed_capacity_infra> fixed;
};

/// How wide a failover block is (SPEC "Optimizer and failover": zone by
/// default, region for regional quota, cloud for credentials/global quota).
enum class block_scope : uint8_t { zone, region, cloud };

/// One thing failover has ruled out.
struct block_entry {
  block_scope scope = block_scope::zone;
  std::string cloud;
  /// Required for zone and region scope (for fixed-capacity infra: the
  /// pool name, "" for local).
  std::string region;
  /// Required for zone scope.
  std::string zone;
  /// When set, only this instance type is blocked in the scope.
  std::optional<std::string> instance_type;
  /// Why, for the user: "no capacity", "quota exceeded", ...
  std::string reason = "no capacity";
  /// Who blocked it, shown in parentheses: "failover", "preemption".
  std::string source = "failover";

  friend bool operator==(const block_entry&, const block_entry&) = default;
};

/// Entries accumulated during one launch (or kept across recoveries).
struct blocklist {
  std::vector<block_entry> entries;

  /// Index of the first entry blocking this place/type, if any. Names are
  /// compared case-insensitively.
  std::optional<size_t> find(std::string_view cloud, std::string_view region,
                             std::string_view zone,
                             std::string_view instance_type) const;

  friend bool operator==(const blocklist&, const blocklist&) = default;
};

/// "gcp/us-central1/us-central1-a", "gcp/us-central1", "gcp".
std::string scope_text(const block_entry& e);

/// "blocked: no capacity in gcp/us-central1-a (failover)".
std::string block_reason(const block_entry& e);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

} // namespace sky::optimizer
