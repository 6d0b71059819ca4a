#pragma once

// One `launch` or `exec` request from a client. It hands the task to the
// registry, relays the plan and progress of the launch as frames while the
// cluster provisions, and once the job is submitted either answers (detach)
// or becomes a log stream of the job until it ends. Cancelling the stream
// (Ctrl-C in skyctl) detaches: the launch and the job go on.

#include <deque>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster/cluster_actor.hpp"
#include "actors/stream/credit_stream.hpp"

namespace sky::actors {

struct launch_session_args {
  reply_target target;
  caf::actor registry;
  caf::actor pool;
  std::string cluster;
  /// Set for `launch`; for `exec` only `task` is used.
  bool is_exec = false;
  launch_order order;
  bool detach = false;
  uint32_t window = 64;
};

struct launch_session_state {
  static inline const char* name = "launch_session";

  launch_session_args args;
  /// Frames to the client until the job is submitted; then the follower
  /// (a log stream) takes the request over.
  credit_stream stream;
  /// Frames held back while the client has no credit (plan and progress
  /// lines are few, so this stays small).
  std::deque<std::string> held;
  caf::actor follower;
};

caf::behavior launch_session(caf::stateful_actor<launch_session_state>* self,
                             launch_session_args args);

} // namespace sky::actors
