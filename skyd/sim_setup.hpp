#pragma once

// Opens the simulated clouds of the configuration (sim.clouds, sim.scenario,
// sim.mode) and registers one sim provider per cloud. A bad scenario stops
// skyd at start-up with the scenario's file:line:col message.

#include <memory>

#include "actors/core/provider_set.hpp"
#include "messages/result.hpp"
#include "optimizer/placement/catalog.hpp"
#include "providers/sim/sim_world.hpp"
#include "skyd/config.hpp"

namespace sky::daemon {

/// nullptr when no cloud is simulated (sim.clouds empty). Otherwise the
/// world rooted at $SKYD_HOME/sim, its providers added to `providers`.
result<std::shared_ptr<providers::sim_world>>
open_sim(const config& cfg, std::shared_ptr<const optimizer::catalog> catalog,
         actors::provider_set& providers);

} // namespace sky::daemon
