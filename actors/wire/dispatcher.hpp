#pragma once

// The dispatcher serves the control verbs that are not answered by the
// gateway itself: it decodes request bodies, answers daemon-level verbs, and
// starts one actor per stream (events, later logs and launch progress). It
// keeps the table of open streams so that credit and cancel notifications
// and a vanished client reach the right stream.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/core/event_log_actor.hpp"
#include "actors/wire/infra_check.hpp"
#include "actors/wire/replies.hpp"
#include "messages/cluster_protocol.hpp"
#include "providers/sim/sim_world.hpp"

namespace sky::actors {

/// Facts about this daemon for `daemon.status`.
struct daemon_identity {
  std::string home;
  int64_t pid = 0;
  int64_t started_at_ms = 0;
};

/// The services verbs are routed to.
struct dispatcher_deps {
  event_log_actor log;
  /// Receives (shutdown_atom) when a client asks skyd to stop.
  caf::actor root;
  daemon_identity identity;
  /// Cluster verbs (cluster_registry); may be null in tests.
  caf::actor registry;
  /// optimize and show_gpus (planner); may be null in tests.
  caf::actor planner;
  /// Worker pool for streams that read from nodes.
  caf::actor pool;
  /// The simulated clouds, for `sim.*` verbs; null when none is configured.
  std::shared_ptr<providers::sim_world> sim;
  /// What `check` reports; null in tests that do not serve it.
  std::shared_ptr<const infra_settings> infra;
  /// `jobs.*` verbs (managed_jobs); may be null in tests.
  caf::actor managed_jobs;
  /// $SKYD_HOME/managed_jobs: the managed jobs' logs.
  std::filesystem::path managed_jobs_dir;
  /// `serve.*` verbs (the services registry); may be null in tests.
  caf::actor services;
};

struct dispatcher_state {
  static inline const char* name = "dispatcher";

  dispatcher_deps deps;
  /// Open streams by (peer, request id).
  std::map<std::pair<std::string, uint64_t>, caf::actor> streams;
  /// Set while shutting down: answered once every stream has ended.
  std::optional<caf::response_promise> streams_closed;
};

/// The verbs the dispatcher knows, for "did you mean" on unknown ones.
const std::vector<std::string>& known_verbs();

using dispatcher_ptr = caf::stateful_actor<dispatcher_state>*;

caf::behavior dispatcher(dispatcher_ptr self, dispatcher_deps deps);

/// Serves the cluster and job verbs (cluster_verbs.cpp); false when `req`
/// is not one of them.
bool dispatch_cluster_verb(dispatcher_ptr self, const reply_target& target,
                           wire_request& req);

/// Serves `check`, `sim.preempt` and `sim.capacity` (sim_verbs.cpp); false
/// when `req` is not one of them.
bool dispatch_sim_verb(dispatcher_ptr self, const reply_target& target,
                       wire_request& req);

/// Serves the managed-job verbs `jobs.*` (managed_job_verbs.cpp); false
/// when `req` is not one of them.
bool dispatch_managed_job_verb(dispatcher_ptr self, const reply_target& target,
                               wire_request& req);

/// Serves the service verbs `serve.*` (serve_verbs.cpp); false when `req`
/// is not one of them.
bool dispatch_serve_verb(dispatcher_ptr self, const reply_target& target,
                         wire_request& req);

/// Decodes a request body as T; a body that does not decode is answered
/// with its error and false is returned.
template <class T>
bool decode_body(dispatcher_ptr self, const reply_target& target,
                 const wire_request& req, T& out) {
  auto decoded = protocol::decode_as<T>(req.body, req.verb + " request");
  if (!decoded) {
    target.fail(self, decoded.error());
    return false;
  }
  out = std::move(*decoded);
  return true;
}

/// Registers a stream actor so credit and cancel notifications reach it.
void add_stream(dispatcher_ptr self, const wire_request& req,
                const caf::actor& stream);

} // namespace sky::actors
