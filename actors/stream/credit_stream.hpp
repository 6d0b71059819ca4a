#pragma once

// What every stream to a client shares (events, job logs, launch progress,
// managed-job logs): the request grants a window of frames, the client
// returns credit as it consumes them (skyctl/client), and the stream sends
// a frame only while it holds credit. Heartbeats (a `more` frame with a nil
// body) bypass credit: they are rare and tell the client that skyd is alive
// while nothing happens (docs/PROTOCOL.md). A stream ends once, with its
// final answer or an error, and its actor quits. Each stream keeps one of
// these in its state; what it reads and when stays its own.

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "actors/wire/replies.hpp"
#include "messages/wire.hpp"

namespace sky::actors {

struct credit_stream {
  /// The most credit a client can hold: a client that keeps granting
  /// without reading cannot overflow the counter, and 65536 frames is more
  /// than any window skyctl asks for.
  static constexpr uint32_t max_credits = 65536;

  reply_target target;
  uint32_t credits = 0;
  /// The final answer or error went out.
  bool done = false;
  /// A frame went out since the last heartbeat (a stream may skip the
  /// heartbeat then: the frame proved skyd alive).
  bool sent_since_heartbeat = false;

  credit_stream() = default;
  credit_stream(reply_target target, uint32_t window);

  /// Adds the client's credit, capped at max_credits. True when the stream
  /// had none, so that the caller resumes sending.
  bool grant(uint32_t n);

  /// Sends one frame, which takes a credit when there is one (a stream may
  /// send a few frames beyond its credit, e.g. what explains its end).
  template <class Self>
  void send(Self* self, std::string body) {
    target.more(self, std::move(body));
    if (credits > 0)
      --credits;
    sent_since_heartbeat = true;
  }

  /// A heartbeat frame now (no credit taken).
  template <class Self>
  void heartbeat(Self* self) const {
    target.more(self, std::string{wire::nil_body()});
  }

  /// Ends the stream with its final answer, once; the actor quits.
  template <class Self>
  void finish(Self* self, std::string body) {
    finish(self, std::move(body), [] {});
  }

  /// finish, calling `before_quit` (e.g. leaving a live feed) between the
  /// answer and quitting.
  template <class Self, class BeforeQuit>
  void finish(Self* self, std::string body, BeforeQuit before_quit) {
    if (done)
      return;
    done = true;
    target.ok(self, std::move(body));
    before_quit();
    self->quit();
  }

  /// Ends the stream with an error, once; the actor quits.
  template <class Self>
  void fail(Self* self, const caf::error& err) {
    if (done)
      return;
    done = true;
    target.fail(self, err);
    self->quit();
  }
};

/// Asks for the next (heartbeat_atom) after `every`.
template <class Self>
void heartbeat_after(Self* self, caf::timespan every) {
  self->delayed_send(self, every, heartbeat_atom_v);
}

} // namespace sky::actors
