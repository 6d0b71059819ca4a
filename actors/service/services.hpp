#pragma once

// The services registry: name -> service actor (docs/SERVICES.md). At
// start-up it restores every service with its replicas from their snapshots
// (after the clusters, before skyd says it is ready), so that a skyd killed
// with -9 carries on with the replicas it had. It validates `serve up`
// (a `service:` section, a free name), records the new service before
// answering, routes the other verbs, and hands the load balancer's reports
// and the providers' node events to the service they concern.
//
//   (load_atom)                                  -> bool (when restored)
//   (launch_atom, serve_up_request)              -> service_row
//   (update_atom, serve_up_request)              -> service_row
//   (status_atom, serve_status_request)          -> serve_status_reply
//   (down_atom, serve_down_request)              -> serve_down_reply
//   (down_atom, std::string name)                from a service that is gone
//   (lb_report_atom, lb::service_report)         from the load balancer link
//   (node_event_atom, provider_event)            from a provider's event sink

#include <map>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/service/service_deps.hpp"

namespace sky::actors {

struct services_state {
  static inline const char* name = "services";

  service_deps deps;
  std::map<std::string, caf::actor> services;
  bool loaded = false;
};

caf::behavior services(caf::stateful_actor<services_state>* self,
                       service_deps deps);

/// The service whose replica cluster `cluster` is ("<service>-<id>"), if
/// any of `names`.
std::optional<std::string>
service_of_cluster(const std::map<std::string, caf::actor>& names,
                   const std::string& cluster);

} // namespace sky::actors
