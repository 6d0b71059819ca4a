#pragma once

// One actor per service replica (docs/SERVICES.md "How it is built"). It is a
// shell around the pure optimizer::decide_replica: every fact (its launch
// began, the launch answered, a probe answered or not, its job ended, a node
// was preempted, the service wants it gone, its cluster is gone) is folded
// into the replica by that function, the new replica is recorded (event +
// snapshot, durable) and only then carried out: launch its cluster through
// the cluster registry (owned by the service, with failover), probe it,
// tear its cluster down after a drain, drop its record.
//
// Probes run on the shared http_prober's thread; their results come back as
// messages, so no actor thread waits on a replica. A failed probe also asks
// the cluster whether the replica's job still runs (a process that died
// fails fast instead of waiting for the probe window), and every tenth
// probe does so anyway.
//
// Protocol:
//   (start_atom)                      begin (new) or resume (restored)
//   (down_atom, cause, reason)        the service wants it gone
//                                     (cause: optimizer::teardown_cause name)
//   (node_event_atom, provider_event) its cluster lost a node
//   (get_atom)                     -> replica_snapshot (tests)
// It reports (replica_atom, replica_snapshot) to its service after every
// durable change and (replica_atom, id) once its record is gone, then quits;
// a failed replica whose cluster is gone quits leaving its record with the
// service.

#include <deque>
#include <functional>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/service/http_probe.hpp"
#include "actors/service/service_deps.hpp"
#include "optimizer/serve/replica_rules.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::probe_result)

namespace sky::actors {

struct replica_actor_state {
  static inline const char* name = "replica";

  service_deps deps;
  caf::actor service;
  optimizer::replica_snapshot snap;
  /// The task of the replica's version (its probe and its run).
  task::task_spec task;
  optimizer::probe_settings probe;

  std::deque<optimizer::replica_event_t> queue;
  bool recording = false;
  std::function<void()> retry_append;
  /// Bumped when the replica's activity changes (a new launch, probing
  /// stopped): replies and timers of an older one are ignored.
  uint64_t epoch = 0;
  /// A launch request is with the registry: a teardown waits for it.
  bool launching = false;
  bool probing = false;
  bool probe_in_flight = false;
  uint32_t probes = 0;
  uint32_t teardown_tries = 0;
  bool tearing_down = false;
};

using replica_ptr = caf::stateful_actor<replica_actor_state>*;

caf::behavior replica_actor(replica_ptr self, service_deps deps,
                            caf::actor service,
                            optimizer::replica_snapshot snap,
                            task::task_spec task);

/// SKYPILOT_TASK_ID of a replica's job: "sky-serve-<service>-<id>", found
/// again on its cluster after a restart.
std::string replica_task_id(const std::string& service, uint64_t id);

/// The task a replica's cluster runs: the version's task with
/// SKYPILOT_SERVE_REPLICA_ID and SKYD_REPLICA_PORT in its environment, its
/// spot choice, and no `service:` section.
task::task_spec replica_task(const task::task_spec& version_task,
                             const optimizer::replica_snapshot& r);

} // namespace sky::actors
