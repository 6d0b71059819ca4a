#pragma once

// The dispatcher serves the control verbs that are not answered by the
// gateway itself: it decodes request bodies, answers daemon-level verbs, and
// starts one actor per stream (events, later logs and launch progress). It
// keeps the table of open streams so that credit and cancel notifications
// and a vanished client reach the right stream.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/event_log_actor.hpp"

namespace sky::actors {

/// Facts about this daemon for `daemon.status`.
struct daemon_identity {
  std::string home;
  int64_t pid = 0;
  int64_t started_at_ms = 0;
};

struct dispatcher_state {
  static inline const char* name = "dispatcher";

  event_log_actor log;
  /// Receives (shutdown_atom) when a client asks skyd to stop.
  caf::actor root;
  daemon_identity identity;
  /// Open streams by (peer, request id).
  std::map<std::pair<std::string, uint64_t>, caf::actor> streams;
  /// Set while shutting down: answered once every stream has ended.
  std::optional<caf::response_promise> streams_closed;
};

/// The verbs the dispatcher knows, for "did you mean" on unknown ones.
const std::vector<std::string>& known_verbs();

caf::behavior dispatcher(caf::stateful_actor<dispatcher_state>* self,
                         event_log_actor log, caf::actor root,
                         daemon_identity identity);

} // namespace sky::actors
