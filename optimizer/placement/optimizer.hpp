#pragma once

// Placement: from a task's resources to a ranked list of launchable
// candidates, with a user-readable reason for every infra left out. A pure
// function of its inputs: no clock, no I/O, no randomness, no logging.
// Rules: docs/OPTIMIZER.md.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"
#include "optimizer/placement/catalog.hpp"
#include "optimizer/placement/infra.hpp"
#include "optimizer/placement/resources.hpp"

namespace sky::optimizer {

/// One place to launch the task.
struct candidate {
  /// "aws", "gcp", ... or a fixed-capacity provider ("local", "ssh").
  std::string cloud;
  /// Cloud region; pool/cluster name for fixed-capacity infra ("" local).
  std::string region;
  /// Spot: the zone priced. On-demand: empty (price is per region).
  std::string zone;
  /// Zones of `region` to try, in order (on-demand: every zone offering the
  /// type and not blocked; spot: just `zone`). Empty for clouds priced per
  /// region and for fixed-capacity infra.
  std::vector<std::string> zones;
  /// Empty for fixed-capacity infra.
  std::string instance_type;
  /// Empty when no accelerator.
  std::string accelerator;
  double accelerator_count = 0;
  /// Per node; NaN when unknown (GCP TPU VMs).
  double vcpus = std::nan("");
  double memory_gib = std::nan("");
  bool use_spot = false;
  int num_nodes = 1;
  /// Hourly price of one node, and of all nodes (what the ranking uses).
  double price_per_node = 0;
  double hourly_price = 0;
  /// Index into ranking::expanded.alternatives that produced it, and its
  /// preference tier.
  size_t alternative = 0;
  size_t tier = 0;
  bool fixed_capacity = false;

  /// "gcp/us-central1/us-central1-a", "lambda/us-east-1", "local".
  std::string infra() const;
};

enum class exclusion_kind : uint8_t {
  /// The infra is named but not enabled, or has no catalog.
  not_enabled,
  /// The region or zone asked for does not exist there.
  unknown_location,
  /// Nothing matches the request (accelerator, instance type, shape, or
  /// nothing in the requested region/zone).
  no_match,
  /// Matches exist but none is offered as spot (or on demand).
  no_price,
  /// Cheaper than nothing: every match exceeds max_hourly_cost.
  too_expensive,
  /// Ruled out by the failover blocklist.
  blocked,
  /// Fixed-capacity infra without enough free capacity.
  no_free_capacity,
  /// The infra cannot do what is asked (spot on local, instance types on
  /// fixed-capacity infra).
  unsupported,
};

std::string_view to_string(exclusion_kind k);

/// Why an infra (or one of its regions) offers no candidate.
struct exclusion {
  /// "gcp", "lambda/us-south-1", "local".
  std::string infra;
  exclusion_kind kind = exclusion_kind::no_match;
  /// A full sentence for the user, e.g.
  /// "gcp: no instance type with 64+ vCPUs and A100:8".
  std::string reason;
  /// The alternative it concerns (index into expanded.alternatives).
  size_t alternative = 0;
};

struct ranking {
  expanded_resources expanded;
  /// Best first: by preference tier, then total hourly price, then cloud,
  /// region, zone, instance type (so equal prices rank the same every time).
  std::vector<candidate> candidates;
  std::vector<exclusion> exclusions;
  int num_nodes = 1;

  bool feasible() const { return !candidates.empty(); }
};

/// Ranks every place that can host `task` (its resources and num_nodes).
/// Fails only on an invalid request (errc::invalid_argument); an
/// infeasible one returns a ranking without candidates, with reasons.
result<ranking> optimize(const task::task_spec& task, const catalog& cat,
                         const enabled_infra& infra,
                         const blocklist& blocked = {});

/// The same for bare resources.
result<ranking> optimize_resources(const task::resources_spec& resources,
                                   int num_nodes, const catalog& cat,
                                   const enabled_infra& infra,
                                   const blocklist& blocked = {});

/// The first candidate, or errc::no_capacity whose message lists the
/// exclusions (what `launch` reports when nothing fits).
result<candidate> best_candidate(const ranking& r);

/// One line per exclusion, for messages and `--dryrun`.
std::string describe_exclusions(const ranking& r);

} // namespace sky::optimizer
