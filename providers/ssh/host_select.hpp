#pragma once

// Which pool hosts a cluster gets (pure): whole hosts, the first ones in
// pool order that are free and have at least the CPUs, memory and GPUs
// asked per node. A refusal says, host by host, why each was not taken.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "providers/provider.hpp"

namespace sky::providers::ssh {

/// What selection knows about one host of the pool.
struct host_view {
  /// "ip:port".
  std::string key;
  /// Detected resources; nullopt when the probe failed (see problem).
  std::optional<node_resources> resources;
  /// Why the host cannot be used now ("unreachable: ...", "cleanup of
  /// ... pending"); empty when usable.
  std::string problem;
  /// Cluster holding the host; empty when free.
  std::string taken_by;
};

/// Empty when `have` has at least `want` (zero amounts always fit); else
/// what is short, e.g. "has 2 CPUs, 4 asked".
std::string shortfall(const node_resources& have, const node_resources& want);

/// Indexes into `hosts` of the `nodes` hosts chosen, or a
/// provider_error(no_capacity, region) naming each host's reason.
result<std::vector<size_t>> select_hosts(const std::string& pool,
                                         const std::vector<host_view>& hosts,
                                         const node_resources& per_node,
                                         uint32_t nodes);

} // namespace sky::providers::ssh
