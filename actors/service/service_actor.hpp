#pragma once

// One actor per service (docs/SERVICES.md "How it is built"). It holds the
// service's snapshot and the records of its replicas, runs the pure planner
// (optimizer::plan_service) and autoscaler whenever a replica changes and
// every decision interval, records what the plan changes (new replicas with
// their ids and ports, a rollback, the status), then carries it out: spawns
// replica actors, asks replicas to go, and pushes the ready set to the load
// balancer the moment it changes.
//
// Protocol:
//   (start_atom)                          new or restored: go
//   (replica_atom, replica_snapshot)      a replica's durable change
//   (replica_atom, uint64_t id)           a replica's record is gone
//   (lb_report_atom, lb::service_report)  request counts for the autoscaler
//   (node_event_atom, provider_event)     a replica cluster lost a node
//   (update_atom, serve_up_request)    -> service_row (version recorded)
//   (down_atom, bool purge)            -> serve_outcome (once all is gone)
//   (down_atom, uint64_t replica_id)   -> serve_outcome
//   (status_atom)                      -> serve_status_reply
// It tells the registry (down_atom, name) when it is gone, then quits.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/service/service_deps.hpp"
#include "actors/cluster/cluster_actor.hpp"
#include "optimizer/serve/autoscaler.hpp"

namespace sky::actors {

struct service_actor_state {
  static inline const char* name = "service";

  service_deps deps;
  caf::actor registry;
  optimizer::service_snapshot snap;
  std::map<uint64_t, optimizer::replica_snapshot> replicas;
  std::map<uint64_t, caf::actor> actors;
  /// Replicas asked to go (not asked again by the next plan).
  std::set<uint64_t> removing;
  optimizer::request_rate rate;
  double qps = 0;
  /// A record is being written: plans wait for it.
  bool recording = false;
  bool replan_wanted = false;
  /// Facts that changed the snapshot outside a plan (a version became
  /// ready, a launch failed): recorded with the next plan.
  bool dirty = false;
  std::function<void()> retry_append;
  /// The ready set last pushed to the load balancer, and its generation.
  std::optional<std::vector<std::string>> routed;
  uint64_t generation = 0;
  /// The versions the last plan routes to (for `serve status -v`).
  std::vector<uint64_t> routed_versions;
  bool lb_listening = false;
  /// `serve down` callers, answered once everything is gone.
  std::vector<caf::response_promise> down_promises;
  bool purge = false;
  bool finished = false;
};

using service_ptr = caf::stateful_actor<service_actor_state>*;

caf::behavior service_actor(service_ptr self, service_deps deps,
                            caf::actor registry,
                            optimizer::service_snapshot snap,
                            std::vector<optimizer::replica_snapshot> replicas);

} // namespace sky::actors
