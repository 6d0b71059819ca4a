#pragma once

// The CAF type-ID block of skyd: every atom and message type actors exchange.
// Load it with `cfg.add_message_types<caf::id_block::sky>()`.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include "messages/event.hpp"
#include "messages/wire.hpp"

namespace sky {

/// A request that arrived on the control socket, on its way to the actor
/// that serves its verb. `peer` is the ZeroMQ routing id of the client.
struct wire_request {
  std::string peer;
  uint64_t id = 0;
  std::string verb;
  std::string body;
};

/// One reply frame on its way back to the client through the gateway.
struct wire_reply {
  std::string peer;
  uint64_t id = 0;
  wire::status status = wire::status::ok;
  std::string body;
};

/// A page of the event log. `live` is set when a subscriber has been
/// registered because the page reached the head of the log.
struct event_page {
  std::vector<event> events;
  uint64_t last_seq = 0;
  uint64_t first_seq = 0;
  bool live = false;
};

/// Entity snapshots by entity name, as loaded at start-up.
using snapshot_list = std::vector<std::pair<std::string, std::string>>;

/// Events just committed, shared read-only between all subscribers so that
/// fan-out does not copy them.
using event_batch = std::shared_ptr<const std::vector<event>>;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_request& x) {
  return f(caf::meta::type_name("wire_request"), x.peer, x.id, x.verb, x.body);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_reply& x) {
  return f(caf::meta::type_name("wire_reply"), x.peer, x.id, x.status, x.body);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("event"), x.seq, x.time_ms, x.entity, x.kind,
           x.fields);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_draft& x) {
  return f(caf::meta::type_name("event_draft"), x.entity, x.kind, x.fields,
           x.time_ms, x.snapshot, x.snapshot_value);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_page& x) {
  return f(caf::meta::type_name("event_page"), x.events, x.last_seq,
           x.first_seq, x.live);
}

} // namespace sky

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::event_batch)

CAF_BEGIN_TYPE_ID_BLOCK(sky, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(sky, (sky::wire_request))
CAF_ADD_TYPE_ID(sky, (sky::wire_reply))
CAF_ADD_TYPE_ID(sky, (sky::event))
CAF_ADD_TYPE_ID(sky, (sky::event_draft))
CAF_ADD_TYPE_ID(sky, (sky::event_page))
CAF_ADD_TYPE_ID(sky, (std::vector<sky::event_draft>) )
CAF_ADD_TYPE_ID(sky, (sky::snapshot_list))

CAF_ADD_ATOM(sky, sky, append_atom, "append")
CAF_ADD_ATOM(sky, sky, read_atom, "read")
CAF_ADD_ATOM(sky, sky, subscribe_atom, "subscribe")
CAF_ADD_ATOM(sky, sky, unsubscribe_atom, "unsub")
CAF_ADD_ATOM(sky, sky, committed_atom, "committed")
CAF_ADD_ATOM(sky, sky, flush_atom, "flush")
CAF_ADD_ATOM(sky, sky, drain_atom, "drain")
CAF_ADD_ATOM(sky, sky, snapshots_atom, "snapshots")
CAF_ADD_ATOM(sky, sky, credit_atom, "credit")
CAF_ADD_ATOM(sky, sky, cancel_atom, "cancel")
CAF_ADD_ATOM(sky, sky, peer_gone_atom, "peergone")
CAF_ADD_ATOM(sky, sky, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(sky, sky, shutdown_atom, "shutdown")
CAF_ADD_ATOM(sky, sky, ready_atom, "ready")
CAF_ADD_ATOM(sky, sky, summary_atom, "summary")
CAF_ADD_ATOM(sky, sky, watchdog_atom, "watchdog")
CAF_ADD_ATOM(sky, sky, status_atom, "status")
CAF_ADD_ATOM(sky, sky, done_atom, "done")
CAF_ADD_ATOM(sky, sky, job_update_atom, "jobupdate")
CAF_ADD_ATOM(sky, sky, poll_atom, "poll")
CAF_ADD_ATOM(sky, sky, start_atom, "start")
CAF_ADD_ATOM(sky, sky, stop_atom, "stop")
CAF_ADD_ATOM(sky, sky, down_atom, "down")
CAF_ADD_ATOM(sky, sky, launch_atom, "launch")
CAF_ADD_ATOM(sky, sky, exec_atom, "exec")
CAF_ADD_ATOM(sky, sky, progress_atom, "progress")
CAF_ADD_ATOM(sky, sky, plan_atom, "plan")
CAF_ADD_ATOM(sky, sky, autostop_atom, "autostop")
CAF_ADD_ATOM(sky, sky, queue_atom, "queue")
CAF_ADD_ATOM(sky, sky, tick_atom, "tick")
CAF_ADD_ATOM(sky, sky, logs_atom, "logs")
CAF_ADD_ATOM(sky, sky, load_atom, "load")
CAF_ADD_ATOM(sky, sky, retry_atom, "retry")
CAF_ADD_ATOM(sky, sky, new_name_atom, "newname")
CAF_ADD_ATOM(sky, sky, node_event_atom, "nodeevent")
CAF_ADD_ATOM(sky, sky, reconcile_atom, "reconcile")
CAF_ADD_ATOM(sky, sky, controller_failed_atom, "ctrlfail")
CAF_ADD_ATOM(sky, sky, count_atom, "count")
CAF_ADD_ATOM(sky, sky, exited_atom, "exited")
// The services' load balancer link (actors/service/lb_link.hpp).
CAF_ADD_ATOM(sky, sky, lb_routes_atom, "lbroutes")
CAF_ADD_ATOM(sky, sky, lb_remove_atom, "lbremove")
CAF_ADD_ATOM(sky, sky, lb_report_atom, "lbreport")
CAF_ADD_ATOM(sky, sky, replica_atom, "replica")
CAF_ADD_ATOM(sky, sky, probe_atom, "probe")
CAF_ADD_ATOM(sky, sky, update_atom, "update")
CAF_ADD_ATOM(sky, sky, lb_report_to_atom, "lbrepto")

CAF_END_TYPE_ID_BLOCK(sky)
