#pragma once

// One `events` request: history from the log, then (with follow) live
// events, with credit-based flow control. The stream keeps a cursor (the
// last seq it delivered or filtered out) so it never sends a duplicate or
// skips an event; when the client reads too slowly to keep up with live
// events, the stream drops its buffer, leaves the live feed and catches up
// from the log later, so a slow client never grows skyd's memory.

#include <deque>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/core/event_log_actor.hpp"
#include "actors/core/timeouts.hpp"
#include "actors/stream/credit_stream.hpp"
#include "messages/protocol.hpp"

namespace sky::actors {

struct event_stream_limits {
  /// Events per frame (and per log read).
  uint32_t page_size = 256;
  /// Live events buffered while waiting for credit before falling back to
  /// reading the log.
  size_t max_buffered = 4096;
  /// A heartbeat frame goes out after this long without any frame.
  caf::timespan heartbeat = timeouts::heartbeat;
};

struct event_stream_state {
  static inline const char* name = "event_stream";

  credit_stream stream;
  event_log_actor log;
  protocol::events_request request;
  event_stream_limits limits;
  uint64_t cursor = 0;
  bool live = false;
  bool reading = false;
  std::deque<event> buffer;
};

caf::behavior event_stream(caf::stateful_actor<event_stream_state>* self,
                           reply_target target, event_log_actor log,
                           protocol::events_request request,
                           event_stream_limits limits);

} // namespace sky::actors
