#pragma once

// Failover without asking the optimizer again. After an attempt fails, the
// launch blocks the place the error names and needs the ranking without
// it. Running the optimizer again costs a catalog scan and a read of every
// fixed-capacity provider's free capacity per attempt; for most blocks the
// answer is the held ranking minus the blocked candidates, computed here.
//
// Exact only where the optimizer's ranking loses nothing it would show
// again: it keeps the cheapest offer per spot zone and per on-demand
// region, so removing a whole spot zone, a region or a cloud removes
// exactly what a new ranking would lose. Anything else (an on-demand zone,
// whose region may still be offered by other zones or other types;
// fixed-capacity infra, whose free capacity changes; a block of one
// instance type) needs the optimizer: the function says so.

#include <optional>

#include "optimizer/placement/optimizer.hpp"

namespace sky::optimizer {

/// `held` without the candidates `block` rules out, with an exclusion for
/// the block, when that equals what optimize() would rank with the block
/// added to its blocklist; nullopt when only optimize() can tell (see
/// above), or when nothing would be left (the optimizer's exclusions then
/// explain why to the user).
std::optional<ranking> without_blocked(const ranking& held,
                                       const block_entry& block);

} // namespace sky::optimizer
