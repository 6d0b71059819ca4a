#pragma once

// Sending reply frames for a wire_request back through the gateway.

#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "messages/caf/type_ids.hpp"

namespace sky::actors {

/// Where the frames of one request go: the gateway and the request's origin.
struct reply_target {
  caf::actor gateway;
  std::string peer;
  uint64_t id = 0;

  template <class Self>
  void send(Self* self, wire::status status, std::string body) const {
    if (id == 0)
      return; // notifications are never answered
    self->send(gateway, wire_reply{peer, id, status, std::move(body)});
  }

  template <class Self>
  void ok(Self* self, std::string body) const {
    send(self, wire::status::ok, std::move(body));
  }

  template <class Self>
  void more(Self* self, std::string body) const {
    send(self, wire::status::more, std::move(body));
  }

  template <class Self>
  void fail(Self* self, const caf::error& err) const {
    send(self, wire::status::error, wire::encode_error_body(describe(err)));
  }
};

} // namespace sky::actors
