#pragma once

// The link between skyd and its one load balancer process, skyd-lb
// (docs/SERVICES.md, "Load balancer"). The link owns the process: it starts
// it on the first routes, remembers every service's last routes, re-pushes
// all of them to a new process, and stops it when the last service is
// removed. skyd-lb outlives skyd on purpose (traffic must not stop when
// skyd is kill -9'd), so a new link first adopts the skyd-lb already
// serving on the control socket and only starts one when nothing answers.
//
//   (lb_routes_atom, lb::routes_request) -> lb::routes_ack
//       applies (and remembers) a service's whole routing state; a port of
//       0 is replaced by the port skyd-lb chose, so a restarted skyd-lb
//       binds the same one. The ack carries the error when skyd-lb could
//       not be reached (the routes are still remembered and pushed when it
//       is back).
//   (lb_remove_atom, std::string service) -> bool
//       closes the service's port and forgets it; false when neither the
//       link nor skyd-lb knew it. The last one stops skyd-lb (SIGTERM: it
//       drains requests in flight and exits).
//   (caf::get_atom) -> int64_t
//       the pid of the current skyd-lb, 0 when none.
//   (lb_report_to_atom, caf::actor) sets report_to.
//   every report_interval while services exist: a report_request, each
//   lb::service_report forwarded as (lb_report_atom, lb::service_report)
//   to report_to.
//
// Supervision: a skyd-lb that exited (waitpid for a child, kill(pid, 0)
// for an adopted one) or did not answer within request_timeout is killed
// and replaced, at most once a second, with a doubling delay after starts
// that fail. Each restart is logged (logger "lb_link").
//
// The ZeroMQ REQ socket blocks, so the link must be spawned caf::detached.
// It blocks for at most request_timeout per call, and for up to
// adopt_timeout + start_timeout + one request_timeout per service when it
// (re)starts skyd-lb: callers' request timeouts must allow for that (with
// the defaults, 10 s covers a start with a few services).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/caf/type_ids.hpp"
#include "messages/lb_protocol.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::lb::routes_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::lb::routes_ack)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::lb::service_report)

namespace sky::actors {

struct lb_link_config {
  /// The skyd-lb executable.
  std::filesystem::path binary;
  /// "ipc://$SKYD_HOME/run/lb.sock".
  std::string control_endpoint;
  /// $SKYD_HOME/logs/lb.log (skyd-lb's --log; its stderr goes there too).
  std::filesystem::path log_file;
  std::chrono::milliseconds report_interval{500};
  /// The longest wait for one answer of a running skyd-lb.
  std::chrono::milliseconds request_timeout{2000};
  /// How long a hello may take when looking for a skyd-lb to adopt.
  std::chrono::milliseconds adopt_timeout{500};
  /// How long a new skyd-lb may take to answer its first hello.
  std::chrono::milliseconds start_timeout{5000};
  /// Receives (lb_report_atom, lb::service_report); may be null.
  caf::actor report_to;
};

/// Everything the link holds (process, socket, remembered routes) lives
/// behind this pointer so that this header stays free of ZeroMQ and of
/// process control.
struct lb_link_impl;

struct lb_link_state {
  static inline const char* name = "lb_link";
  lb_link_state();
  ~lb_link_state();
  std::unique_ptr<lb_link_impl> impl;
};

/// Spawn it caf::detached: it blocks on its ZeroMQ socket.
caf::behavior lb_link(caf::stateful_actor<lb_link_state>* self,
                      lb_link_config cfg);

} // namespace sky::actors
