#pragma once

// The gateway: the one actor that owns skyd's ZeroMQ sockets (they are not
// thread-safe). It runs on its own thread (a blocking actor) and waits in
// zmq_poll on the control socket and on an eventfd that is signalled whenever
// a CAF message arrives in its mailbox, so requests and replies both flow
// without polling delays.
//
// Inbound: frames are checked (frame count, size, envelope) and turned into
// `wire_request`s for the dispatcher; `ping` is answered here (the cheapest
// liveness check). Bad frames get an error reply and never reach an actor.
// Outbound: `wire_reply`s from any actor go back to their peer, and committed
// events (the gateway subscribes to the event log) go out on the PUB socket
// with their entity as topic.

#include <filesystem>
#include <string>
#include <vector>

#include <caf/blocking_actor.hpp>
#include <caf/scoped_execution_unit.hpp>

#include "actors/core/event_log_actor.hpp"

namespace sky::actors {

struct gateway_settings {
  /// ZeroMQ endpoints, e.g. "ipc:///home/u/.skyd/run/control.sock".
  std::string control_endpoint;
  std::string events_endpoint;
  /// Files of IPC endpoints: made 0600 after bind, removed at exit.
  std::vector<std::filesystem::path> socket_files;
  /// Frames above this get a `message_too_large` error reply.
  size_t max_message_bytes = 16u << 20;
};

/// Counters the gateway keeps (read by daemon status through the gateway).
struct gateway_counters {
  uint64_t requests = 0;
  uint64_t bad_frames = 0;
  uint64_t replies = 0;
  uint64_t replies_dropped = 0;
  uint64_t events_published = 0;
};

class gateway : public caf::blocking_actor {
public:
  /// `dispatcher` serves every verb but ping; `parent` gets
  /// (ready_atom, std::string error) once the sockets are bound ("" = ok).
  gateway(caf::actor_config& cfg, gateway_settings settings,
          caf::actor dispatcher, event_log_actor log, caf::actor parent);
  ~gateway() override;

  void enqueue(caf::mailbox_element_ptr ptr,
               caf::execution_unit* host) override;

  void act() override;

  const char* name() const override { return "gateway"; }

private:
  struct impl;
  gateway_settings settings_;
  caf::actor dispatcher_;
  event_log_actor log_;
  caf::actor parent_;
  int wakeup_fd_ = -1;
  /// The execution unit of the gateway's thread (see act()).
  caf::scoped_execution_unit host_;
};

} // namespace sky::actors
