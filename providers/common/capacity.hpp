#pragma once

// Capacity accounting of the local host (pure): what each cluster reserves,
// what is free, and whether a request fits, with a message that gives the
// numbers when it does not.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "providers/provider.hpp"

namespace sky::providers::local_detail {

/// What one cluster holds: `per_node` on each of its `nodes` nodes, all on
/// this host.
struct reservation {
  std::string cluster;
  uint32_t nodes = 0;
  node_resources per_node;
};

/// Sum of all reservations.
node_resources total_reserved(const std::vector<reservation>& held);

/// `total` minus what `held` reserves, never below zero.
node_resources free_capacity(const node_resources& total,
                             const std::vector<reservation>& held);

/// Whether `nodes` x `per_node` fits into `total` next to `held` (the other
/// clusters). Zero amounts reserve nothing and always fit. Refusals are
/// provider_error(no_capacity, cloud) with the numbers and who holds them.
result<void> check_fits(const node_resources& total,
                        const std::vector<reservation>& held,
                        const node_resources& per_node, uint32_t nodes);

/// Negative or non-finite amounts are an invalid_argument naming the field.
result<void> validate_resources(const node_resources& per_node);

/// "4", "0.5", "2.25": numbers as users write them.
std::string format_amount(double v);

} // namespace sky::providers::local_detail
