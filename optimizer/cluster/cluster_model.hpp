#pragma once

// What a cluster's decisions read: its snapshot (the durable state) and the
// few facts the actor holds besides (is it recorded yet, what waits, which
// provider it has). The phase and the cause of a stop are enums of
// messages/cluster.hpp, where the snapshot that stores them lives
// (messages/ cannot include optimizer/).

#include <cstddef>
#include <cstdint>
#include <string>

#include "messages/cluster.hpp"
#include "messages/cluster_snapshot.hpp"

namespace sky::optimizer {

/// A cluster as its decisions see it.
struct cluster_facts {
  cluster_snapshot snap;
  /// The cluster's first event is durable (a brand-new cluster actor has
  /// none until its first launch is recorded).
  bool recorded = false;
  /// Launches waiting for provisioning (or a start) to finish.
  size_t waiting_launches = 0;
  /// A provisioning attempt (launch or start) is with a provider.
  bool attempt_in_flight = false;
  /// The provider of the cluster's placement is configured in this skyd.
  bool provider_known = false;
  /// It can stop instances (only read when provider_known).
  bool provider_can_stop = true;
};

/// The snapshot's status (INIT when it holds a text this build does not
/// know).
cluster_status status_of(const cluster_snapshot& snap);

/// An INIT cluster that was UP and still has nodes (a node was preempted
/// or lost): it relaunches where it is, replacing the missing nodes.
bool restarts_in_place(const cluster_snapshot& snap);

/// The text events and logs give for a stop (`teardown` false) or a
/// teardown: "stopped by the user", "idle for 5 min (autostop)", ...
std::string stop_cause_text(stop_cause cause, bool teardown,
                            int32_t idle_minutes);

/// --retry-until-up: the wait before the next round after `tries`
/// provisioning attempts: 5 s, doubling every 8 attempts, at most 300 s
/// (a long outage is not polled more than every 5 minutes).
int64_t retry_until_up_wait_ms(uint32_t tries);

} // namespace sky::optimizer
