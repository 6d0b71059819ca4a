#pragma once

// When a simulated instance is preempted: a fixed time after it starts, or
// a seeded random lifetime. Pure: the same seed and instance always give
// the same time, whatever the order in which instances were created or the
// thread that asks.

#include <cstdint>
#include <string_view>

#include "providers/sim/scenario.hpp"

namespace sky::providers::sim {

/// A uniform number in (0, 1] drawn from `seed` and `identity` (the
/// instance: cloud, cluster, idempotency key, rank).
double seeded_uniform(uint64_t seed, std::string_view identity);

/// The sim time at which an instance that starts running at
/// `started_at_ms` is preempted under `rule`. With rate_per_hour the
/// lifetime is exponential (a memoryless reclaim, like spot markets).
int64_t preemption_time(const preemption_rule& rule, uint64_t seed,
                        std::string_view identity, int64_t started_at_ms);

} // namespace sky::providers::sim
