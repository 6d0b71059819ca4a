#pragma once

// Opens the SSH node pools ($SKYD_HOME/ssh_node_pools.yaml) and registers
// the ssh provider that serves them (`infra: ssh/<pool>`). A bad pool file
// stops skyd at start-up with the file's file:line:col message.

#include <memory>

#include "actors/core/provider_set.hpp"
#include "messages/result.hpp"
#include "providers/ssh/ssh_provider.hpp"
#include "skyd/config.hpp"

namespace sky::daemon {

/// nullptr when there is no pool file (or it lists no pool). Otherwise the
/// provider (state in $SKYD_HOME/ssh, host keys in
/// $SKYD_HOME/ssh/known_hosts), also added to `providers` as "ssh".
result<std::shared_ptr<providers::ssh_provider>>
open_ssh(const config& cfg, actors::provider_set& providers);

} // namespace sky::daemon
