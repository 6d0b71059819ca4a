#pragma once

// One provisioning try: a cloud, region, zone and instance type (or a
// fixed-capacity infra). It asks the provider for the instances, waits for
// them, and answers with the record or the provider's error (whose scope
// tells failover what to block). One actor per try, so that every try is
// an entity of its own in logs and tests.

#include <chrono>
#include <memory>
#include <optional>

#include <caf/event_based_actor.hpp>

#include "messages/caf/type_ids.hpp"
#include "providers/provider.hpp"

namespace sky::actors {

struct provision_result {
  std::shared_ptr<const providers::cluster_record> record;
  /// What one machine has in total, for fixed-capacity infra (the size of
  /// a node that reserved less).
  std::optional<providers::node_resources> machine_total;
};

} // namespace sky::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::provision_result)

namespace sky::actors {

/// Answers one (start_atom) with provision_result, then quits.
caf::behavior provision_attempt(caf::event_based_actor* self, caf::actor pool,
                                std::shared_ptr<providers::provider> provider,
                                providers::provision_request request,
                                std::chrono::milliseconds timeout);

} // namespace sky::actors
